import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { credentialSecretSchema } from '../../functions/adapters/secrets-manager-credentials.js';
import { DEFAULT_SECRET_PREFIX, parseConfig } from '../../functions/config/config-schema.js';
import { CREDENTIALS_TAG_KEY } from '../../infra/portal-secrets.js';
import { buildProgram } from '../../local/cli/program.js';
import { configInput, synth } from './support.js';

/**
 * The runbook followed step by step against the synthesized template, without AWS: every output,
 * alarm, saved query, config, secret shape, CLI command and AWS CLI call it names exists as named.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DOCS = ['docs/deploy.md', 'docs/operations.md'] as const;
const text = (path: string) => readFileSync(`${ROOT}${path}`, 'utf8');
const all = DOCS.map(text).join('\n');

// The stack as the guide deploys it: default name, archive on (its output is used in step 7).
const { template, stack } = synth(configInput({ archive: { enabled: true } }));
const outputs = Object.keys(template.findOutputs('*'));
const resources = template.toJSON().Resources as Record<
  string,
  { Type: string; Properties: Record<string, unknown> }
>;
const propertyOf = (type: string, name: string) =>
  Object.values(resources)
    .filter((r) => r.Type === type)
    .map((r) => String(r.Properties[name]));
const alarmNames = propertyOf('AWS::CloudWatch::Alarm', 'AlarmName');

/** Fenced code blocks, each with its info string. */
function codeBlocks(markdown: string): { lang: string; body: string }[] {
  return [...markdown.matchAll(/^```(\w*)\n([\s\S]*?)^```/gm)].map((m) => ({
    lang: m[1] ?? '',
    body: m[2] ?? '',
  }));
}

/** Shell commands: code-block lines (with `\` continuations joined) and inline code spans. */
function commands(markdown: string): string[] {
  const fromBlocks = codeBlocks(markdown)
    .filter((b) => b.lang === 'sh')
    .flatMap((b) => b.body.replace(/\\\n\s*/g, ' ').split('\n'));
  const inline = [...markdown.replace(/^```[\s\S]*?^```/gm, '').matchAll(/`([^`\n]+)`/g)].map(
    (m) => m[1] ?? '',
  );
  return [...fromBlocks, ...inline].map((c) => c.trim()).filter((c) => c !== '');
}

/** `--flag` names of a command line, quotes skipped. */
function flagsOf(command: string): string[] {
  const unquoted = command.replace(/'[^']*'|"[^"]*"/g, '""');
  return [...unquoted.matchAll(/(?:^|\s)--([a-z][a-z0-9-]*)/g)].map((m) => m[1] ?? '');
}

const pascal = (kebab: string) =>
  kebab
    .split('-')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');

const require = createRequire(import.meta.url);
/** The services whose SDK clients the project installs: their API shapes name the members. */
const SDK_CLIENTS: Record<string, string> = {
  secretsmanager: '@aws-sdk/client-secrets-manager',
  sns: '@aws-sdk/client-sns',
  sqs: '@aws-sdk/client-sqs',
  dynamodb: '@aws-sdk/client-dynamodb',
};
/** AWS CLI flags whose API member has another name. */
const CLI_ALIASES: Record<string, string> = { 'sns subscribe --notification-endpoint': 'Endpoint' };
/**
 * Calls into services without an installed SDK client, with their flags as the AWS CLI reference
 * names them; a call the guide adds must be added here by someone who checked it there.
 */
const CHECKED_BY_HAND: Record<string, readonly string[]> = {
  'cloudwatch set-alarm-state': ['alarm-name', 'state-value', 'state-reason'],
  'cloudwatch describe-alarm-history': ['alarm-name', 'history-item-type'],
  'scheduler get-schedule': ['group-name', 'name'],
  'lambda add-permission': ['function-name', 'statement-id', 'action', 'principal', 'source-arn'],
};

function inputMembers(service: string, operation: string): string[] | undefined {
  const pkg = SDK_CLIENTS[service];
  if (!pkg) return undefined;
  const client = require(pkg) as Record<string, unknown>;
  const op = pascal(operation);
  const shape = (client[`${op}Input$`] ?? client[`${op}Request$`]) as unknown[] | undefined;
  if (!client[`${op}Command`] || !shape) return [];
  return shape[4] as string[];
}

describe('the deploy guide and the operations guide', () => {
  it('name only outputs the stack has, and list all of them', () => {
    const placeholders = new Set([...all.matchAll(/<([A-Z][A-Za-z]+)>/g)].map((m) => m[1]));
    expect([...placeholders].filter((p) => !outputs.includes(p as string))).toEqual([]);
    const listed = /^Outputs: ([\s\S]*?)\n\n/m.exec(text('docs/deploy.md'))?.[1] ?? '';
    expect([...listed.matchAll(/`([A-Za-z]+)`/g)].map((m) => m[1]).sort()).toEqual(
      [...outputs].sort(),
    );
  });

  it('name only alarms the stack has, and the operations guide explains every one', () => {
    const named = new Set(
      [...all.matchAll(/MembershipSync-[A-Za-z0-9-]+?-(?:Critical|Warning)/g)].map((m) => m[0]),
    );
    expect([...named].filter((n) => !alarmNames.includes(n))).toEqual([]);
    const explained = text('docs/operations.md');
    expect(alarmNames.filter((n) => !explained.includes(n))).toEqual([]);
  });

  it('name only the saved queries the stack has', () => {
    const queries = propertyOf('AWS::Logs::QueryDefinition', 'Name');
    const named = new Set([...all.matchAll(/MembershipSync\/[a-z-]+/g)].map((m) => m[0]));
    expect(named.size).toBeGreaterThan(0);
    expect([...named].filter((q) => !queries.includes(q))).toEqual([]);
  });

  it('show configs the schema accepts and secrets the worker can read', () => {
    const portal = { id: 'p', url: 'https://p.bitrix24.com', chats: [1] };
    const blocks = DOCS.flatMap((d) => codeBlocks(text(d))).filter((b) => b.lang === 'json');
    expect(blocks.length).toBeGreaterThan(0);
    for (const { body } of blocks) {
      const json = JSON.parse(body) as Record<string, unknown>;
      if ('type' in json) expect(() => credentialSecretSchema.parse(json)).not.toThrow();
      else expect(() => parseConfig({ portals: [portal], ...json })).not.toThrow();
    }
  });

  it('write secrets under the default prefix, tagged with the key the grants read', () => {
    const secretCommands = DOCS.flatMap((d) => commands(text(d))).filter((c) =>
      c.startsWith('aws secretsmanager'),
    );
    expect(secretCommands.length).toBeGreaterThan(0);
    for (const command of secretCommands) {
      const id = /--(?:name|secret-id) "?([^\s"]+)/.exec(command)?.[1];
      expect(id, command).toMatch(new RegExp(`^${DEFAULT_SECRET_PREFIX}`));
      for (const tag of command.matchAll(/Key=([^,\s]+),Value=(\w+)/g)) {
        expect(tag[1]).toBe(CREDENTIALS_TAG_KEY);
        expect(['webhook', 'oauth']).toContain(tag[2]);
      }
    }
    expect(outputs).toContain('SecretNamePrefix');
  });

  it('run membership-sync commands and flags the CLI has', () => {
    const program: Command = buildProgram();
    const used = DOCS.flatMap((d) => commands(text(d))).filter((c) =>
      c.startsWith('npx membership-sync '),
    );
    expect(used.length).toBeGreaterThan(0);
    for (const line of used) {
      const name = line.split(/\s+/)[2];
      const command = program.commands.find((c) => c.name() === name);
      expect(command, line).toBeDefined();
      const known = command?.options.map((o) => o.long?.replace(/^--/, '')) ?? [];
      expect(
        flagsOf(line).filter((f) => !known.includes(f)),
        line,
      ).toEqual([]);
    }
  });

  it('run AWS CLI calls that exist, with flags their API has', () => {
    const calls = DOCS.flatMap((d) => commands(text(d))).filter((c) => /^aws [a-z]/.test(c));
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) {
      const [, service = '', operation = ''] = call.split(/\s+/);
      const key = `${service} ${operation}`;
      const members = inputMembers(service, operation);
      if (members === undefined) {
        const flags = CHECKED_BY_HAND[key];
        expect(flags, `${key}: neither an installed SDK client nor checked by hand`).toBeDefined();
        expect(
          flagsOf(call).filter((f) => !flags?.includes(f)),
          call,
        ).toEqual([]);
        continue;
      }
      expect(members, `${key}: no such operation`).not.toEqual([]);
      for (const flag of flagsOf(call)) {
        const member = CLI_ALIASES[`${key} --${flag}`] ?? pascal(flag);
        expect(members, `${call}: --${flag}`).toContain(member);
      }
    }
  });

  it('deploy the stack name the alarm and query names assume', () => {
    expect(stack.stackName).toBe('MembershipSync');
    expect(all).toContain('npx cdk deploy -c config=config/membership-sync.json');
  });
});

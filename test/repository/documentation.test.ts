import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import type { EventType } from '../../functions/core/cloud-event.js';
import { eventId } from '../../functions/core/event-id.js';
import { buildProgram } from '../../local/cli/program.js';
import { validateEvent } from '../support/event-schemas.js';

/**
 * The README is the front door (what the job is, the quick start, the data path, links) and the
 * pages under docs/ hold the rest; what they tell a reader to run or open exists.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const text = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' })
  .split('\0')
  .filter((path) => path !== '');
const markdownFiles = tracked.filter((path) => path.endsWith('.md'));
const docsPages = markdownFiles.filter((path) => /^docs\/[^/]+\.md$/.test(path));
const readme = text('README.md');
const scripts = Object.keys(
  (JSON.parse(text('package.json')) as { scripts: Record<string, string> }).scripts,
);

/** Fenced code blocks are not prose: their lines are neither links nor headings. */
const withoutCode = (markdown: string) => markdown.replace(/^```[\s\S]*?^```/gm, '');

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to `-`, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, heading = ''] of withoutCode(markdown).matchAll(/^#{1,6} (.+)$/gm)) {
    const slug = heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M} _-]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

/** Shell commands: lines of `sh` code blocks (comments and `\` continuations resolved) and inline code. */
function commandsIn(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/^```sh\n([\s\S]*?)^```/gm)].flatMap((m) =>
    (m[1] ?? '').replace(/\\\n\s*/g, ' ').split('\n'),
  );
  const inline = [...withoutCode(markdown).matchAll(/`([^`\n]+)`/g)].map((m) => m[1] ?? '');
  return [...blocks, ...inline].map((line) => line.replace(/\s+#\s.*$/, '').trim());
}

describe('the README', () => {
  it('keeps the README under 250 lines', () => {
    expect(readme.split('\n').length).toBeLessThan(250);
  });

  it('links every page of docs/', () => {
    const linked = new Set([...readme.matchAll(/\]\((docs\/[^)#]+\.md)/g)].map((m) => m[1]));
    expect(docsPages.filter((page) => !linked.has(page))).toEqual([]);
  });

  it('lists the guarantees docs/design.md explains, in its order', () => {
    const numbered = (markdown: string, heading: string) => {
      const section = markdown.split(/^## /m).find((s) => s.startsWith(heading)) ?? '';
      return [...section.matchAll(/^\d+\. \*\*([^*]+?)[.(*]/gm)].map((m) => m[1]?.trim());
    };
    const explained = numbered(text('docs/design.md'), 'Guarantees');
    expect(explained.length).toBeGreaterThanOrEqual(8);
    expect(numbered(readme, 'What it guarantees')).toEqual(explained);
  });

  it('draws the data path as a Mermaid diagram, from the schedule to the subscribers', () => {
    const diagram = /^```mermaid\n([\s\S]*?)^```/m.exec(readme)?.[1] ?? '';
    for (const part of [
      'EventBridge Scheduler',
      'planner Lambda',
      'SQS FIFO',
      'worker Lambda',
      'Bitrix24',
      'im.chat.user.list',
      'im.dialog.users.list',
      'DynamoDB',
      'Secrets Manager',
      'SNS topic',
      'subscribers',
      'S3 archive',
      'CloudWatch alarms',
    ]) {
      expect(diagram, part).toContain(part);
    }
  });

  it('gives the two quick-start commands package.json defines', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm ci && npm test');
    expect(scripts).toEqual(expect.arrayContaining(['start', 'test', 'test:unit']));
  });
});

describe('docs/design.md', () => {
  /** The module map: one top-level item per folder of functions/, naming its modules. */
  const moduleMap = () =>
    (
      text('docs/design.md')
        .split(/^## /m)
        .find((s) => s.startsWith('Modules')) ?? ''
    )
      .split(/^- (?=\*\*`functions\/)/m)
      .slice(1);

  it('names every module of functions/ in its module map, under its folder, and no other', () => {
    const named = moduleMap().flatMap((item) => {
      const folder = /^\*\*`(functions\/[\w-]+)`/.exec(item)?.[1];
      return [...item.matchAll(/`([\w-]+\.ts)`/g)].map((m) => `${folder}/${m[1]}`);
    });
    const modules = tracked.filter((path) => /^functions\/[\w-]+\/[\w-]+\.ts$/.test(path));
    expect(named.sort()).toEqual(modules.sort());
  });
});

describe('the README and the pages it links', () => {
  it('run only npm scripts that package.json has', () => {
    const missing: string[] = [];
    for (const path of markdownFiles) {
      for (const command of commandsIn(text(path))) {
        for (const m of command.matchAll(/\bnpm (?:run (?:-s )?([\w:-]+)|(start|test)\b)/g)) {
          const script = m[1] ?? m[2] ?? '';
          if (!scripts.includes(script)) missing.push(`${path}: npm ${script}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('run only membership-sync commands and flags the CLI has', () => {
    const program: Command = buildProgram();
    const unknown: string[] = [];
    for (const path of markdownFiles) {
      for (const line of commandsIn(text(path))) {
        if (!line.startsWith('npx membership-sync ')) continue;
        const name = line.split(/\s+/)[2] ?? '';
        if (name === '<command>') continue;
        const command = program.commands.find((c) => c.name() === name);
        if (!command) {
          unknown.push(`${path}: ${line}`);
          continue;
        }
        const known = command.options.map((o) => o.long);
        const unquoted = line.replace(/'[^']*'|"[^"]*"/g, '""');
        for (const [, flag = ''] of unquoted.matchAll(/(?:^|\s)(--[a-z][a-z0-9-]*)/g)) {
          if (flag !== '--help' && !known.includes(flag)) unknown.push(`${path}: ${line}`);
        }
      }
    }
    expect(unknown).toEqual([]);
  });

  it('show example events that match their schema and carry the ID the producer would give them', () => {
    const examples = markdownFiles.flatMap((path) =>
      [...text(path).matchAll(/^```json\n([\s\S]*?)^```/gm)]
        .map((m) => m[1] ?? '')
        .filter((body) => body.includes('"specversion"'))
        .map((body) => ({ path, event: JSON.parse(body) as Record<string, unknown> })),
    );
    expect(examples.length).toBeGreaterThan(0);
    for (const { path, event } of examples) {
      expect(() => validateEvent(event), path).not.toThrow();
      const data = event.data as { chatId: number; userId?: number; baseVersion: number };
      expect(event.id, path).toBe(
        eventId({
          source: String(event.source),
          chatId: data.chatId,
          ...(data.userId === undefined ? {} : { userId: data.userId }),
          type: event.type as EventType,
          baseVersion: data.baseVersion,
        }),
      );
    }
  });

  it('link only to files and headings that exist', () => {
    const broken: string[] = [];
    for (const path of markdownFiles) {
      const prose = withoutCode(text(path));
      for (const [, target = ''] of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target)) continue;
        const [file = '', anchor] = target.split('#');
        const resolved =
          file === '' ? path : normalize(join(dirname(path), file)).replace(/\/$/, '');
        const exists =
          tracked.includes(resolved) || tracked.some((t) => t.startsWith(`${resolved}/`));
        if (!exists) broken.push(`${path}: ${target}`);
        else if (anchor !== undefined && !anchorsOf(text(resolved)).has(anchor)) {
          broken.push(`${path}: ${target} (no such heading)`);
        }
      }
    }
    expect(broken).toEqual([]);
  });
});

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../functions/config/config-schema.js';
import { ConfigError } from '../../functions/config/config-schema.js';
import {
  DEFAULT_CONFIG_PATH,
  EXAMPLE_CONFIG_PATH,
  loadConfig,
  readConfigFile,
} from '../../infra/config-file.js';
import { CONFIG_SCHEMA_PATH, configJsonSchema } from '../../infra/write-config-schema.js';
import { configInput } from './support.js';

/** The config as plain JSON, for tests that break it on purpose. */
type Editable = {
  portals: [Record<string, unknown>, Record<string, unknown>];
  schedule: Record<string, unknown>;
} & Omit<ConfigInput, 'portals' | 'schedule'>;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'membership-sync-config-'));
});

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loading the config at synth', () => {
  it('reads the file named with -c config=…', () => {
    const path = file('ok.json', configInput());
    const resolved = loadConfig(path);
    expect(resolved).toMatchObject({ path, usedExample: false });
    expect(resolved.config.portals.map((p) => p.id)).toEqual(['acme', 'globex']);
  });

  it('uses config/membership-sync.json when nothing is named and it exists', () => {
    const seen: string[] = [];
    const exists = (p: string) => {
      seen.push(String(p));
      return false;
    };
    expect(loadConfig(undefined, exists)).toMatchObject({
      path: EXAMPLE_CONFIG_PATH,
      usedExample: true,
    });
    expect(seen).toEqual([DEFAULT_CONFIG_PATH]);
  });

  it('never falls back to the example when the named file is missing', () => {
    const error = errorOf(() => loadConfig(join(dir, 'missing.json')));
    expect(error.message).toMatch(/missing\.json/);
    expect(error.issues).toEqual([{ path: '(file)', message: 'file not found' }]);
  });

  it('names the file when it is not JSON', () => {
    const path = file('broken.json', '{ "portals": [ }');
    const error = errorOf(() => readConfigFile(path));
    expect(error.message).toContain(path);
    expect(error.issues[0]?.message).toMatch(/^not valid JSON/);
  });

  it.each([
    [
      'portals.0.secret',
      (c: Editable) => {
        c.portals[0].secret = 'membership-sync/acme';
      },
    ],
    [
      'portals.1.secret.arn',
      (c: Editable) => {
        c.portals[1].secret = { arn: 'not-an-arn' };
      },
    ],
    [
      'portals.0.chats.1',
      (c: Editable) => {
        c.portals[0].chats = [12, -3];
      },
    ],
    [
      'schedule.expression',
      (c: Editable) => {
        c.schedule.expression = 'every 5 minutes';
      },
    ],
    [
      'schedule.timeZone',
      (c: Editable) => {
        c.schedule.timeZone = 'Mars/Olympus';
      },
    ],
    [
      'portals.1.url',
      (c: Editable) => {
        c.portals[1].url = 'https://globex.bitrix24.de/rest/1/secret-code/';
      },
    ],
  ])('fails naming %s', (field, mutate) => {
    const config = structuredClone(configInput()) as unknown as Editable;
    mutate(config);
    const error = errorOf(() => readConfigFile(file(`${field}.json`, config)));
    expect(error.issues.map((i) => i.path)).toContain(field);
    expect(error.message).toContain(`${field}: `);
  });

  it('never echoes a webhook code it rejects', () => {
    const config = structuredClone(configInput()) as unknown as Editable;
    config.portals[1].url = 'https://globex.bitrix24.de/rest/1/s3cr3t-c0de/';
    const error = errorOf(() => readConfigFile(file('webhook.json', config)));
    expect(error.message).not.toContain('s3cr3t-c0de');
  });
});

describe('shipped config files', () => {
  it('config/example.json is valid: two portals (chats, discovery), breaker, topic kind, archive on', () => {
    const config = readConfigFile(EXAMPLE_CONFIG_PATH);
    expect(config.portals).toHaveLength(2);
    expect(Array.isArray(config.portals[0]?.chats)).toBe(true);
    expect(config.portals[1]?.chats).toMatchObject({ discover: true });
    expect(config.archive.enabled).toBe(true);
    expect(config.topic.kind).toBe('standard');
  });

  it('config/config.schema.json is generated from the zod schema (npx tsx infra/write-config-schema.ts)', () => {
    // Compared as data: Biome formats the committed file.
    expect(JSON.parse(readFileSync(CONFIG_SCHEMA_PATH, 'utf8'))).toEqual(
      JSON.parse(configJsonSchema()),
    );
  });
});

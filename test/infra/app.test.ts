import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configInput } from './support.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('infra/app.ts (what `cdk synth -c config=…` runs)', () => {
  it('stops with exit code 1 and every bad field named, before building anything', () => {
    const dir = mkdtempSync(join(tmpdir(), 'membership-sync-app-'));
    const bad = configInput() as unknown as {
      portals: [Record<string, unknown>, Record<string, unknown>];
      schedule: Record<string, unknown>;
    };
    bad.portals[0].chats = [12, 0];
    bad.schedule.expression = 'rate(5 minute)';
    const path = join(dir, 'bad.json');
    writeFileSync(path, JSON.stringify(bad));

    // The CDK CLI hands context to the app through CDK_CONTEXT_JSON.
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'infra/app.ts'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: {
        ...process.env,
        CDK_CONTEXT_JSON: JSON.stringify({ config: path }),
        CDK_OUTDIR: join(dir, 'cdk.out'),
      },
    });

    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`invalid config (${path})`);
    expect(run.stderr).toContain('portals.0.chats.1: ');
    expect(run.stderr).toContain('schedule.expression: singular unit for 1');
    expect(run.stderr).not.toMatch(/\n\s+at /); // the field list, not a stack trace
  });
});

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../local/simulator/start-simulator.js';
import type { RunningSimulator } from '../../local/simulator/types.js';
import { validateEvent } from '../support/event-schemas.js';
import { webhookCode } from './support/harness.js';

/** `membership-sync` as a user runs it: a child process against a simulator in this process. */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let sim: RunningSimulator;
let stateDir: string;

beforeAll(async () => {
  sim = await startSimulator({ seed: 'demo', tls: false, rateLimit: false });
  stateDir = mkdtempSync(join(tmpdir(), 'e2e-cli-'));
});

afterAll(async () => {
  await sim?.close();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Asynchronous: the simulator answers from this process's event loop meanwhile. */
function cli(...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/membership-sync.js', ...args],
      { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const sync = (chat: number, dir = stateDir) =>
  cli('sync', '--webhook', sim.webhookUrl, '--chat', String(chat), '--state-dir', dir);

function eventsOf(stdout: string): { type: string; data: Record<string, unknown> }[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const event = JSON.parse(line) as { type: string; data: Record<string, unknown> };
      validateEvent(event);
      return event;
    });
}

const short = (type: string) => type.replace('com.bitrix24.membership-sync.', '');

// Concurrent: the two tests use separate chats and state folders; the CLI runs dominate the time.
describe.concurrent('membership-sync CLI', () => {
  it('prints the baseline, then exactly the changes, then nothing; holds a mass removal until released', async () => {
    // Prepare: demo chat 2 ("Marketing"): 1, 2, 3, 4, 5, 20
    const code = webhookCode(sim.webhookUrl);

    // Act: first run
    const first = await sync(2);

    // Assess
    expect(first.code).toBe(0);
    expect(eventsOf(first.stdout).map((e) => [short(e.type), e.data.members])).toEqual([
      ['chat.baseline.v1', [1, 2, 3, 4, 5, 20]],
    ]);

    // Act: membership changes, second and third runs
    sim.admin.addMembers(2, [7, 8, 9, 10, 11, 12]);
    sim.admin.removeMembers(2, [3]);
    const second = await sync(2);
    const third = await sync(2);

    // Assess
    expect(second.code).toBe(0);
    expect(
      eventsOf(second.stdout)
        .map((e) => `${short(e.type)}:${e.data.userId}`)
        .sort(),
    ).toEqual([
      'chat.member.joined.v1:10',
      'chat.member.joined.v1:11',
      'chat.member.joined.v1:12',
      'chat.member.joined.v1:7',
      'chat.member.joined.v1:8',
      'chat.member.joined.v1:9',
      'chat.member.left.v1:3',
    ]);
    expect(third).toMatchObject({ code: 0, stdout: '' });

    // Act: 6 of 11 members leave: the breaker holds it
    sim.admin.removeMembers(2, [7, 8, 9, 10, 11, 12]);
    const held = await sync(2);
    const status = await cli('status', '--webhook', sim.webhookUrl, '--state-dir', stateDir);
    const release = await cli(
      'release',
      '--chat',
      '2',
      '--webhook',
      sim.webhookUrl,
      '--state-dir',
      stateDir,
    );
    const applied = await sync(2);

    // Assess
    expect(held.code).not.toBe(0);
    expect(eventsOf(held.stdout).map((e) => short(e.type))).toEqual(['chat.mass_change_held.v1']);
    expect(held.stderr).toMatch(/release --portal \S+ --chat 2\n/);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('HELD: 6 leaves');
    expect(release.code).toBe(0);
    expect(release.stdout).toContain('released');
    expect(applied.code).toBe(0);
    expect(
      eventsOf(applied.stdout)
        .map((e) => `${short(e.type)}:${e.data.userId}`)
        .sort(),
    ).toEqual([7, 8, 9, 10, 11, 12].map((id) => `chat.member.left.v1:${id}`).sort());

    for (const run of [first, second, third, held, status, release, applied]) {
      expect(run.stderr).not.toContain(code);
      expect(run.stdout).not.toContain(code);
    }
  });

  it('exits non-zero with a one-line reason and no webhook code for a chat the webhook user cannot read', async () => {
    // Prepare: demo chat 5 ("Finance") does not include the webhook user
    const dir = mkdtempSync(join(tmpdir(), 'e2e-cli-'));

    // Act
    const result = await sync(5, dir);
    rmSync(dir, { recursive: true, force: true });

    // Assess
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    const lines = result.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/chat 5 .*EMPTY_MEMBER_LIST/);
    expect(result.stderr).not.toContain(webhookCode(sim.webhookUrl));
  });
});

describe('membership-sync CLI on a busy portal', () => {
  it('syncs through 503 QUERY_LIMIT_EXCEEDED answers and says how many there were', async () => {
    // Prepare: another integration has filled the portal's bucket for our next two requests
    const busy = await startSimulator({ seed: 'demo', tls: false, rateLimit: false });
    const dir = mkdtempSync(join(tmpdir(), 'e2e-cli-'));
    busy.faults.inject({
      method: 'batch',
      kind: 'status',
      status: 503,
      error: 'QUERY_LIMIT_EXCEEDED',
      description: 'Too many requests',
      times: 2,
    });

    // Act
    const result = await cli(
      'sync',
      '--webhook',
      busy.webhookUrl,
      '--chat',
      '2',
      '--state-dir',
      dir,
    );
    await busy.close();
    rmSync(dir, { recursive: true, force: true });

    // Assess
    expect(result.code).toBe(0);
    expect(eventsOf(result.stdout).map((e) => short(e.type))).toEqual(['chat.baseline.v1']);
    expect(result.stderr).toMatch(/: 2 Bitrix24 requests answered 503 QUERY_LIMIT_EXCEEDED/);
  });
});

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudEvent } from '../../functions/core/cloud-event.js';
import { startSimulator } from '../../local/simulator/start-simulator.js';
import type { RunningSimulator } from '../../local/simulator/types.js';
import { type CliResult, lines, ROOT } from './support.js';

/**
 * Issue 18's reproduction as an operator runs it: a discovery portal, the integration user (1)
 * removed from one of its chats, `sync --full` twice, then `status --json`.
 */

let sim: RunningSimulator;
let dir: string;

beforeAll(async () => {
  sim = await startSimulator({ seed: 'empty', tls: false, rateLimit: false });
  dir = mkdtempSync(join(tmpdir(), 'cli-departed-'));
});

afterAll(async () => {
  await sim?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The CLI with the portal's webhook in the environment, as `--config` runs take it. */
function cli(...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/membership-sync.js', ...args],
      {
        cwd: ROOT,
        env: { ...process.env, NO_COLOR: '1', BITRIX24_WEBHOOK_URL: sim.webhookUrl },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('membership-sync on a discovery portal', () => {
  it('reports chat.access_lost, and no leave, for a chat the integration user was removed from; status shows it; re-added, its members are right', async () => {
    // Prepare: three group chats of the integration user, synced once
    const users = sim.admin.addUsers(4);
    const [a, b, c] = [0, 1, 2].map(
      (n) => sim.admin.createChat({ title: `chat ${n}`, ownerId: 1, memberIds: [1, ...users] }).id,
    ) as [number, number, number];
    const configFile = join(dir, 'config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        portals: [
          { id: 'acme', url: sim.baseUrl, secret: { name: 'unused' }, chats: { discover: true } },
        ],
      }),
    );
    const eventsFile = join(dir, 'events.jsonl');
    const run = ['--config', configFile, '--state-dir', dir];
    const sync = () => cli('sync', ...run, '--events', eventsFile, '--full');
    const events = (): CloudEvent[] =>
      lines(readFileSync(eventsFile, 'utf8')).map((l) => JSON.parse(l) as CloudEvent);
    const status = async () =>
      new Map(
        lines((await cli('status', ...run, '--json')).stdout)
          .map(
            (l) => JSON.parse(l) as { chatId: number; accessLostAt?: string; memberCount: number },
          )
          .map((s) => [s.chatId, s]),
      );
    const first = await sync();
    const before = events().length;

    // Act: the integration user is removed from chat b; two full syncs
    sim.admin.removeMembers(b, [1]);
    const second = await sync();
    const third = await sync();
    const lost = await status();

    // Assess
    // The sync that found the loss says so (exit 1, one line); the next one no longer reads it.
    expect([first.code, second.code, third.code]).toEqual([0, 1, 0]);
    expect(lines(second.stderr)).toEqual([expect.stringMatching(/chat \d+ access_lost/)]);
    const ofB = events()
      .slice(before)
      .filter((e) => (e.data as { chatId: number }).chatId === b);
    expect(ofB.map((e) => e.type)).toEqual(['com.bitrix24.membership-sync.chat.access_lost.v1']);
    expect(lost.get(b)?.accessLostAt).toBeDefined();
    expect([lost.get(a)?.accessLostAt, lost.get(c)?.accessLostAt]).toEqual([undefined, undefined]);

    // Act: re-added, and one member left meanwhile
    const mid = events().length;
    sim.admin.removeMembers(b, [users[0] as number]);
    sim.admin.addMembers(b, [1]);
    const back = await sync();
    const after = await status();

    // Assess
    expect(back.code).toBe(0);
    const news = events()
      .slice(mid)
      .filter((e) => (e.data as { chatId: number }).chatId === b);
    expect(news.map((e) => [e.type, (e.data as { userId?: number }).userId])).toEqual([
      ['com.bitrix24.membership-sync.chat.member.left.v1', users[0]],
    ]);
    expect(after.get(b)).toMatchObject({ memberCount: users.length });
    expect(after.get(b)?.accessLostAt).toBeUndefined();
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../local/simulator/start-simulator.js';
import type { RunningSimulator } from '../../local/simulator/types.js';
import { cli, lines } from './support.js';

let sim: RunningSimulator;
let stateDir: string;

beforeAll(async () => {
  sim = await startSimulator({ seed: 'demo', tls: false, rateLimit: false });
  stateDir = mkdtempSync(join(tmpdir(), 'local-cli-release-'));
});

afterAll(async () => {
  await sim?.close();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

describe('membership-sync release', () => {
  it('refuses in one line when nothing is held; the held hint is a command that works as printed', async () => {
    const sync = () =>
      cli('sync', '--webhook', sim.webhookUrl, '--chat', '3', '--state-dir', stateDir);
    await sync();

    // Act: nothing held yet
    const nothing = await cli(
      'release',
      '--webhook',
      sim.webhookUrl,
      '--chat',
      '3',
      '--state-dir',
      stateDir,
    );

    // Assess
    expect(nothing.code).toBe(2);
    expect(lines(nothing.stderr)).toEqual([
      expect.stringMatching(/^membership-sync: chat 3 on portal \S+ has no held mass change/),
    ]);

    // Act: a mass removal is held; the printed command releases it
    const engineers = (sim.admin.chat(3)?.memberIds ?? []).filter((id) => id !== 1 && id !== 6);
    sim.admin.removeMembers(3, engineers);
    const held = await sync();
    const hint = /run: (membership-sync release .*)$/m.exec(held.stderr)?.[1] ?? '';
    const released = await cli(...hint.split(' ').slice(1), '--state-dir', stateDir);

    // Assess
    expect(held.code).toBe(1);
    expect(hint).toMatch(/--portal \S+ --chat 3$/);
    expect(released.code).toBe(0);
    expect(released.stdout).toContain('released');
  });
});

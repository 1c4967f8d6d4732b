import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, ROOT } from './support.js';

/** `npm run simulator` prints commands a fresh shell runs as printed. */

const stateDir = mkdtempSync(join(tmpdir(), 'local-simulator-'));

afterAll(() => {
  rmSync(stateDir, { recursive: true, force: true });
});

describe('membership-sync simulator', () => {
  it('prints a sync command (npx) and a membership change that work as printed; Ctrl-C stops it', async () => {
    const child = spawn(
      process.execPath,
      ['bin/membership-sync.js', 'simulator', '--http', '--state-dir', stateDir],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk) => {
        out += String(chunk);
        if (out.includes('Ctrl-C')) resolve();
      });
      child.once('exit', () => reject(new Error(`simulator exited early: ${out}`)));
    });
    try {
      const syncLine = /^sync: npx (membership-sync sync .*)$/m.exec(out)?.[1] ?? '';
      const change = /^change membership: curl .* -d '(.*)' (\S+)$/m.exec(out);
      const sync = () =>
        cli(...syncLine.split(' ').slice(1), '--state-dir', join(stateDir, 'state'));

      // Act
      const first = await sync();
      const answer = await fetch(change?.[2] ?? '', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: change?.[1] ?? '',
      });
      const second = await sync();

      // Assess
      expect(first.code, first.stderr).toBe(0);
      expect(answer.status).toBe(200);
      expect(second.code, second.stderr).toBe(0);
      expect(
        second.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l).subject),
      ).toEqual(['chat/2/user/3', 'chat/2/user/7']);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });
});

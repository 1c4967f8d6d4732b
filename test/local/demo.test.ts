import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ROOT } from './support.js';

/** `npm start`: the story in a few ticks, every listener on loopback, a clean exit. */

/** Local addresses (hex, as in /proc/net/tcp*) of the sockets `pid` listens on. Linux only. */
function listeningAddresses(pid: number): string[] {
  const inodes = new Set(
    readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
      try {
        return [/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1] ?? []].flat();
      } catch {
        return [];
      }
    }),
  );
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((table) =>
    readFileSync(table, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((f) => f[3] === '0A' && inodes.has(f[9] ?? ''))
      .map((f) => (f[1] ?? '').split(':')[0] ?? ''),
  );
}

describe('membership-sync demo', () => {
  it('shows baseline, joins, leaves, a held change and its release, listening on 127.0.0.1 only', async () => {
    const child = spawn(
      process.execPath,
      ['bin/membership-sync.js', 'demo', '--every', '1', '--ticks', '5'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    let out = '';
    let listening: string[] = [];
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk) => {
        out += String(chunk);
        if (listening.length === 0 && out.includes('baseline') && process.platform === 'linux') {
          listening = listeningAddresses(child.pid ?? 0);
        }
      });
      child.once('exit', () => resolve());
    });

    expect(await exited).toBe(0);
    for (const marker of ['baseline', '+ joined', '- left', 'HELD', 'released)', 'stopped.']) {
      expect(out).toContain(marker);
    }
    if (process.platform === 'linux') {
      // simulator, dynalite, fauxqs
      expect(listening.length).toBeGreaterThanOrEqual(3);
      expect(listening.filter((a) => a !== '0100007F')).toEqual([]);
    }
  });
});

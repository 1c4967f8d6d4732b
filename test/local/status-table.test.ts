import { describe, expect, it } from 'vitest';
import { contentHash } from '../../functions/core/member-set.js';
import type { Snapshot } from '../../functions/core/model.js';
import { ago, statusTable } from '../../local/cli/status-table.js';

const NOW = new Date('2026-12-04T10:00:00.000Z');

function chat(chatId: number, fields: Partial<Snapshot> = {}): Snapshot {
  const members = Array.from({ length: chatId * 37 }, (_, i) => i + 1);
  return {
    portalId: 'acme-corporation',
    chatId: 100_000 + chatId,
    members,
    version: 12,
    contentHash: contentHash(members),
    observedAt: new Date(NOW.getTime() - chatId * 180_000).toISOString(),
    sequence: 1_000 + chatId,
    ...fields,
  };
}

const held = {
  baseVersion: 11,
  detectedAt: '2026-12-04T09:00:00.000Z',
  joined: [],
  left: [1, 2, 3, 4, 5, 6, 7],
  observedCount: 3,
  released: false,
};

describe('status for people', () => {
  const tenChats = [
    chat(1),
    chat(2, { held }),
    chat(3, { accessLostAt: '2026-12-04T09:57:00.000Z' }),
    chat(4, { retiredAt: '2026-12-02T10:00:00.000Z' }),
    ...[5, 6, 7, 8, 9, 10].map((n) => chat(n)),
  ];

  it('has column headers and no (index) column, and fits 100 columns for a 10-chat portal', () => {
    const text = statusTable(tenChats, NOW);
    const lines = text.split('\n');
    expect(lines[0]?.split(/\s+/)).toEqual([
      'portal',
      'chat',
      'members',
      'seq',
      'last',
      'change',
      'state',
    ]);
    expect(text).not.toContain('(index)');
    expect(lines).toHaveLength(11);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(100);
  });

  it('says how long ago each chat changed, and names held, lost and retired chats', () => {
    const text = statusTable(tenChats, NOW);
    expect(text).toContain('3 min ago');
    expect(text).toMatch(/100002 .*HELD: 7 leaves, release to apply/);
    expect(text).toMatch(/100003 .*access lost 3 min ago/);
    expect(text).toMatch(/100004 .*retired 2 d ago/);
    expect(text).toMatch(/100001 .* ok$/m);
  });

  it('aligns the columns: every row starts each column at the same place', () => {
    const lines = statusTable(tenChats, NOW).split('\n');
    const stateAt = (line: string) =>
      line.indexOf(line.match(/(ok|HELD|access|retired|state)/)?.[0] ?? '');
    expect(new Set(lines.map(stateAt)).size).toBe(1);
  });

  it('counts time in the largest whole unit', () => {
    expect(ago('2026-12-04T09:59:59.500Z', NOW)).toBe('just now');
    expect(ago('2026-12-04T09:59:30.000Z', NOW)).toBe('30 s ago');
    expect(ago('2026-12-04T07:00:00.000Z', NOW)).toBe('3 h ago');
  });
});

import Table from 'cli-table3';
import type { Snapshot } from '../../functions/core/model.js';

/** Colours only on a terminal; redirected output stays plain text. */
export interface Paint {
  readonly warn: (text: string) => string;
  readonly alert: (text: string) => string;
}

export const PLAIN: Paint = { warn: (t) => t, alert: (t) => t };
export const ANSI: Paint = {
  warn: (t) => `\u001b[33m${t}\u001b[39m`,
  alert: (t) => `\u001b[1;31m${t}\u001b[22;39m`,
};

/**
 * `status` for people: one row per chat under column headers, aligned, with how long ago each
 * chat last changed ("3 min ago") and its state; held changes, lost access and retired chats
 * stand out. Fits a 100-column terminal for the usual portal (the state column is the widest).
 */
export function statusTable(
  snapshots: readonly Snapshot[],
  now: Date,
  paint: Paint = PLAIN,
): string {
  const table = new Table({
    head: ['portal', 'chat', 'members', 'seq', 'last change', 'state'],
    colAligns: ['left', 'right', 'right', 'right', 'left', 'left'],
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 2 },
    // No box: aligned columns read better and stay narrow.
    chars: {
      top: '',
      'top-mid': '',
      'top-left': '',
      'top-right': '',
      bottom: '',
      'bottom-mid': '',
      'bottom-left': '',
      'bottom-right': '',
      left: '',
      'left-mid': '',
      mid: '',
      'mid-mid': '',
      right: '',
      'right-mid': '',
      middle: '',
    },
  });
  for (const s of snapshots) {
    table.push([
      s.portalId,
      String(s.chatId),
      String(s.members.length),
      String(s.sequence),
      ago(s.observedAt, now),
      stateOf(s, now, paint),
    ]);
  }
  return table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
}

function stateOf(s: Snapshot, now: Date, paint: Paint): string {
  if (s.held) {
    const released = s.held.released ? ' (released, applies next sync)' : ', release to apply';
    return paint.alert(`HELD: ${s.held.left.length} leaves${released}`);
  }
  if (s.pending)
    return paint.warn(`publishing: ${s.pending.published}/${s.pending.eventCount} events`);
  if (s.retiredAt) return paint.warn(`retired ${ago(s.retiredAt, now)}`);
  if (s.accessLostAt) return paint.alert(`access lost ${ago(s.accessLostAt, now)}`);
  return 'ok';
}

const UNITS: readonly [string, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['min', 60_000],
  ['s', 1_000],
];

/** "3 min ago", "2 h ago", "5 d ago"; "just now" under a second; a future time as-is. */
export function ago(iso: string, now: Date): string {
  const ms = now.getTime() - Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  if (ms < 0) return iso;
  for (const [unit, size] of UNITS) {
    if (ms >= size) return `${Math.floor(ms / size)} ${unit} ago`;
  }
  return 'just now';
}

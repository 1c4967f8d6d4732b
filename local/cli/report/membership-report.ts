import {
  isMemberChange,
  type TimelineEntry,
} from '../../../functions/consumer/reference-consumer.js';

/** When a membership began or ended, as exactly as the events say. */
export interface Edge {
  /** Latest time it may have happened (the observation); the bar starts or ends here. */
  readonly at: number;
  /** Earliest time it may have happened; `at` when the time is exact. */
  readonly earliest: number;
  readonly how: 'initial' | 'joined' | 'left';
  /** Who made the change, when the event names them (`data.attribution.actorId`). */
  readonly actorId?: number;
  /** True when the event gives the exact time (`data.attribution.at`), not only a window. */
  readonly exact: boolean;
}

/** One unbroken membership of one user. `end` undefined: still a member at the report's end. */
export interface Stretch {
  readonly start: Edge;
  readonly end?: Edge;
}

export interface MemberRow {
  readonly userId: number;
  readonly name?: string;
  readonly stretches: readonly Stretch[];
}

export interface MembershipReport {
  readonly from: number;
  readonly to: number;
  readonly rows: readonly MemberRow[];
  /** The member count after each change (and at the start), for the count line. */
  readonly counts: readonly { readonly at: number; readonly count: number }[];
}

interface Attribution {
  readonly actorId?: number | null;
  readonly at?: string;
}

/**
 * A chat's membership over time from its folded events (the reference consumer's timeline):
 * one row per user who was ever a member, one stretch per unbroken membership. A change is
 * placed in its observation window (it happened after `window.from` and by `window.to`), or at
 * `data.attribution.at` when the event gives the exact time. Pure.
 */
export function membershipReport(
  timeline: readonly TimelineEntry[],
  range: { readonly from?: number; readonly to: number },
): MembershipReport {
  const open = new Map<number, Edge>();
  const rows = new Map<number, { name?: string; stretches: Stretch[] }>();
  const counts: { at: number; count: number }[] = [];
  const rowOf = (userId: number) => {
    let row = rows.get(userId);
    if (!row) {
      row = { stretches: [] };
      rows.set(userId, row);
    }
    return row;
  };
  for (const entry of timeline) {
    const to = Date.parse(entry.window.to);
    const from = entry.window.from === null ? to : Date.parse(entry.window.from);
    if (!isMemberChange(entry)) {
      for (const [userId, start] of open) rowOf(userId).stretches.push({ start });
      open.clear();
      for (const userId of entry.members) {
        rowOf(userId);
        open.set(userId, { at: to, earliest: to, how: 'initial', exact: false });
      }
    } else {
      const attribution = entry.data.attribution as Attribution | null | undefined;
      const exactAt = attribution?.at === undefined ? undefined : Date.parse(attribution.at);
      const edge: Edge = {
        at: exactAt ?? to,
        earliest: exactAt ?? from,
        how: entry.kind,
        exact: exactAt !== undefined,
        ...(typeof attribution?.actorId === 'number' ? { actorId: attribution.actorId } : {}),
      };
      const row = rowOf(entry.userId);
      const user = entry.data.user as { name?: string } | null | undefined;
      if (user?.name) row.name = user.name;
      if (entry.kind === 'joined') {
        open.set(entry.userId, edge);
      } else {
        const start = open.get(entry.userId);
        if (start) row.stretches.push({ start, end: edge });
        open.delete(entry.userId);
      }
    }
    counts.push({ at: to, count: open.size });
  }
  for (const [userId, start] of open) rowOf(userId).stretches.push({ start });
  const first = timeline[0];
  // Default: from the first observation (a baseline's window has no start).
  const start = range.from ?? (first ? Date.parse(first.window.from ?? first.window.to) : range.to);
  const visible = [...rows]
    .map(([userId, row]) => ({
      userId,
      ...(row.name ? { name: row.name } : {}),
      stretches: row.stretches
        .filter((s) => (s.end === undefined || s.end.at >= start) && s.start.earliest <= range.to)
        .sort((a, b) => a.start.at - b.start.at),
    }))
    .filter((row) => row.stretches.length > 0)
    .sort(
      (a, b) =>
        (a.stretches[0]?.start.at ?? 0) - (b.stretches[0]?.start.at ?? 0) || a.userId - b.userId,
    );
  return {
    from: start,
    to: range.to,
    rows: visible,
    counts: counts.filter((c) => c.at <= range.to),
  };
}

import {
  createReferenceConsumer,
  isMemberChange,
  type TimeBasis,
  type TimelineEntry,
} from '../../functions/consumer/reference-consumer.js';
import type { CloudEvent } from '../../functions/core/cloud-event.js';
import { type ArchiveFlags, chatIdOf, parsePastTime, readEventsFrom } from './archive-source.js';
import { UsageError } from './resolve-run-config.js';

export interface HistoryFlags extends ArchiveFlags {
  readonly chat: number;
  readonly at?: string;
  /** The portal's URL (`source`) or id, when the archive holds the chat ID on several portals. */
  readonly portal?: string;
  readonly json?: boolean;
}

/**
 * How a member at the asked time came to be one: `basis` `attribution` — joined exactly `at`
 * (the chat's system message); `window` — after `from`, by `to` (`at` = `to`).
 */
interface MemberSince {
  readonly userId: number;
  readonly via: 'baseline' | 'seed' | 'joined';
  readonly from: string | null;
  readonly to: string;
  readonly at: string;
  readonly basis: TimeBasis;
}

/**
 * `membership-sync history`: folds a chat's archived events through the reference consumer and
 * answers who was a member at `--at` (default now), since when, and what changed up to then.
 * Exit 0; 1 when the answer may be incomplete (an event is missing before `--at`); 2 for bad
 * input, including an unreadable archive object (named on stderr; the rest is still read).
 */
export async function historyCommand(flags: HistoryFlags): Promise<number> {
  const now = new Date();
  const at = flags.at === undefined ? now : parsePastTime('--at', flags.at, now);
  const contents = await readEventsFrom(flags, { keep: (e) => chatIdOf(e) === flags.chat });
  const source = pickSource(contents.events, flags);

  const consumer = createReferenceConsumer();
  for (const event of contents.events) if (event.source === source) consumer.apply(event);
  const state = [...consumer.chats()].find((c) => c.source === source);
  const timeline = consumer.timeline(source, flags.chat);
  const members = consumer.membersAt(source, flags.chat, at);
  const sinceOf = membersSince(timeline, at);
  const atMs = at.getTime();
  const changes = timeline.filter((e) => Date.parse(e.at) <= atMs);
  const uncertain = consumer.uncertainAt(source, flags.chat, at);
  const lastApplied = timeline.at(-1);
  // A buffered event means one before it is missing: nothing after the last applied one is known.
  const incomplete =
    (state?.buffered ?? 0) > 0 &&
    (lastApplied === undefined || Date.parse(lastApplied.window.to) < atMs);
  const portalId = (contents.events.find((e) => e.source === source)?.data as { portalId?: string })
    ?.portalId;

  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({
        source,
        portalId,
        chatId: flags.chat,
        at: at.toISOString(),
        members: members === undefined ? null : ascending(members),
        since: members === undefined ? [] : ascending(members).map((id) => sinceOf.get(id)),
        uncertain: uncertain.map(entryJson),
        timeline: changes.map(entryJson),
        complete: !incomplete,
        lastSequence: state?.sequence ?? 0,
        buffered: state?.buffered ?? 0,
        anomalies: consumer.anomalies(),
      })}\n`,
    );
  } else {
    printHuman({ source, portalId, chat: flags.chat, at, members, sinceOf, uncertain, changes });
  }

  for (const anomaly of consumer.anomalies()) {
    process.stderr.write(
      `membership-sync: warning: ${anomaly.kind} at sequence ${anomaly.sequence}: ${anomaly.detail}\n`,
    );
  }
  if (incomplete) {
    process.stderr.write(
      `membership-sync: chat ${flags.chat}: ${state?.buffered} event(s) wait for a missing sequence ${(state?.sequence ?? 0) + 1}; nothing after ${lastApplied?.window.to ?? 'the start'} is known\n`,
    );
  }
  if (contents.unreadable.length > 0) return 2;
  return incomplete ? 1 : 0;
}

export function pickSource(
  events: readonly CloudEvent[],
  flags: { readonly chat: number; readonly from: string; readonly portal?: string },
): string {
  const sources = new Map<string, string>();
  for (const e of events) {
    sources.set(e.source, (e.data as { portalId?: string }).portalId ?? '');
  }
  if (sources.size === 0) {
    throw new UsageError(`--chat ${flags.chat}: no events of this chat in ${flags.from}`);
  }
  const matching = [...sources].filter(
    ([source, portalId]) =>
      flags.portal === undefined || flags.portal === source || flags.portal === portalId,
  );
  if (matching.length === 1) return (matching[0] as [string, string])[0];
  const known = [...sources].map(([s, id]) => `${id} (${s})`).join(', ');
  if (matching.length === 0) {
    throw new UsageError(`--portal ${flags.portal}: chat ${flags.chat} is only on ${known}`);
  }
  throw new UsageError(
    `chat ${flags.chat} is on several portals: ${known}; name one with --portal`,
  );
}

function membersSince(timeline: readonly TimelineEntry[], at: Date): Map<number, MemberSince> {
  const since = new Map<number, MemberSince>();
  for (const entry of timeline) {
    if (Date.parse(entry.at) > at.getTime()) continue;
    const placed = { ...entry.window, at: entry.at, basis: entry.basis };
    if (!isMemberChange(entry)) {
      since.clear();
      for (const id of entry.members) since.set(id, { userId: id, via: entry.kind, ...placed });
    } else if (entry.kind === 'joined') {
      if (!since.has(entry.userId))
        since.set(entry.userId, { userId: entry.userId, via: 'joined', ...placed });
    } else {
      since.delete(entry.userId);
    }
  }
  return since;
}

function entryJson(entry: TimelineEntry) {
  const base = {
    sequence: entry.sequence,
    change: entry.kind,
    from: entry.window.from,
    to: entry.window.to,
    at: entry.at,
    basis: entry.basis,
  };
  if (!isMemberChange(entry)) return { ...base, memberCount: entry.members.length };
  const { user, reason, heldSince, attribution } = entry.data as {
    user?: { name?: string } | null;
    reason?: string;
    heldSince?: string;
    attribution?: { actorId: number | null; how: string } | null;
  };
  return {
    ...base,
    userId: entry.userId,
    eventId: entry.eventId,
    ...(attribution == null ? {} : { actorId: attribution.actorId, how: attribution.how }),
    ...(user?.name === undefined ? {} : { name: user.name }),
    ...(reason === undefined ? {} : { reason }),
    ...(heldSince === undefined ? {} : { heldSince }),
  };
}

function printHuman(view: {
  source: string;
  portalId: string | undefined;
  chat: number;
  at: Date;
  members: ReadonlySet<number> | undefined;
  sinceOf: ReadonlyMap<number, MemberSince>;
  uncertain: readonly TimelineEntry[];
  changes: readonly TimelineEntry[];
}): void {
  const at = view.at.toISOString();
  const out: string[] = [];
  const where = `chat ${view.chat} on ${view.source}${view.portalId ? ` (${view.portalId})` : ''}`;
  if (view.members === undefined) {
    out.push(`${where}: no member list known at ${at} (its first observation is later)`);
  } else {
    out.push(`${where} at ${at}: ${view.members.size} member(s)`, '');
    out.push(
      ...table([
        ['user', 'member since'],
        ...ascending(view.members).map((id) => [String(id), sinceText(view.sinceOf.get(id))]),
      ]),
    );
  }
  if (view.uncertain.length > 0) {
    out.push('', `observed in a window around ${at} (happened before or after it):`);
    out.push(...table([CHANGE_HEADER, ...view.uncertain.map(changeRow)]));
  }
  out.push(
    '',
    `changes by ${at} (each at "at" when the chat's system message dates it, else after "from", by "to"):`,
  );
  out.push(
    ...(view.changes.length === 0
      ? ['  (none)']
      : table([CHANGE_HEADER, ...view.changes.map(changeRow)])),
  );
  process.stdout.write(`${out.join('\n')}\n`);
}

function sinceText(since: MemberSince | undefined): string {
  switch (since?.via) {
    case undefined:
      return '?';
    case 'baseline':
      return `the first observation, ${since.to}`;
    case 'seed':
      return `the export, ${since.to}`;
    case 'joined':
      return since.basis === 'attribution'
        ? `joined at ${since.at} (system message)`
        : `joined after ${since.from ?? 'the start'}, by ${since.to}`;
  }
}

const CHANGE_HEADER = ['seq', 'change', 'user', 'from', 'to', 'at', 'details'];

function changeRow(entry: TimelineEntry): string[] {
  const { sequence, kind, window } = entry;
  const head = [String(sequence), kind];
  if (!isMemberChange(entry)) {
    return [...head, `${entry.members.length} members`, window.from ?? '-', window.to, '-', ''];
  }
  const json = entryJson(entry) as {
    name?: string;
    reason?: string;
    heldSince?: string;
    actorId?: number | null;
    how?: string;
  };
  const details = [
    json.name,
    json.reason,
    json.how && `${json.how}${json.actorId == null ? '' : ` by ${json.actorId}`}`,
    json.heldSince && `held since ${json.heldSince}`,
  ]
    .filter(Boolean)
    .join(', ');
  const exact = entry.basis === 'attribution' ? entry.at : '-';
  return [...head, String(entry.userId), window.from ?? '-', window.to, exact, details];
}

function table(rows: readonly string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  return rows.map((row) =>
    `  ${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ')}`.trimEnd(),
  );
}

function ascending(members: ReadonlySet<number>): number[] {
  return [...members].sort((a, b) => a - b);
}

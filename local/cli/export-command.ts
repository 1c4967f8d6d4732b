import { once } from 'node:events';
import type { ExportLine } from '../../functions/consumer/reference-consumer.js';
import type { Snapshot } from '../../functions/core/model.js';
import { portalsOf, type StateFlags, withStore } from './commands.js';
import type { RunConfigFlags } from './resolve-run-config.js';

/** The `--format` choices; commander refuses anything else. */
export const EXPORT_FORMATS = ['jsonl', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportFlags extends StateFlags, RunConfigFlags {
  readonly portal?: string;
  readonly format: ExportFormat;
}

/** A line of the export: the committed snapshot of one chat, all fields from that one snapshot. */
export interface ExportRecord extends ExportLine {
  /** Null while nothing is committed (the chat's first change is in flight). */
  readonly memberCount: number | null;
  /**
   * When the read that produced `members` began (`observedAt`: when it ended); a change made
   * after this may be missing from `members`. Absent for snapshots saved before it was kept.
   */
  readonly readStartedAt?: string;
  /** Set while the chat is unreadable; `members` are the last complete read. */
  readonly accessLostAt?: string;
  /** Set once the chat left the configured or discovered set; `members` are as last heard. */
  readonly retiredAt?: string;
  /** Set while a mass change is held; `members` do not include it yet. */
  readonly heldSince?: string;
  /**
   * A change being published when the export was read (the sync's outbox). Its events have the
   * sequences `fromSequence` to `toSequence`; the first `published` of them went out already,
   * possibly before a new subscription started (docs/events.md, "Initial load").
   */
  readonly inFlight?: {
    readonly fromSequence: number;
    readonly toSequence: number;
    readonly published: number;
    readonly observedAt: string;
  };
}

const CSV_COLUMNS = [
  'portalId',
  'source',
  'chatId',
  'version',
  'sequence',
  'observedAt',
  'memberCount',
  'members',
  'accessLostAt',
  'retiredAt',
  'heldSince',
  'inFlightFromSequence',
  'inFlightToSequence',
  'inFlightPublished',
  'readStartedAt',
] as const;

/**
 * `membership-sync export`: the current membership of every chat of the named portal(s), one line
 * per chat, read through the snapshot store's `list`. A consumer loads it, then applies only the
 * events whose `data.sequence` is higher than the line's `sequence` (docs/events.md).
 */
export async function exportCommand(flags: ExportFlags): Promise<number> {
  const format = flags.format;
  const portals = await portalsOf(flags);
  const records = await withStore(flags, async ({ store }) => {
    const out: ExportRecord[] = [];
    for (const { portalId, source } of portals) {
      const chats: Snapshot[] = [];
      for await (const snapshot of store.list(portalId)) chats.push(snapshot);
      chats.sort((a, b) => a.chatId - b.chatId);
      out.push(...chats.map((s) => exportRecordOf(s, source)));
    }
    return out;
  });
  if (format === 'csv') await writeLine(CSV_COLUMNS.join(','));
  for (const record of records) {
    await writeLine(format === 'csv' ? csvLineOf(record) : JSON.stringify(record));
  }
  return 0;
}

export function exportRecordOf(snapshot: Snapshot, source: string | undefined): ExportRecord {
  // Version 0: only the first change (the baseline) is pending, nothing is committed.
  const committed = snapshot.version > 0;
  const { pending } = snapshot;
  return {
    portalId: snapshot.portalId,
    ...(source === undefined ? {} : { source }),
    chatId: snapshot.chatId,
    members: committed ? snapshot.members : null,
    memberCount: committed ? snapshot.members.length : null,
    version: snapshot.version,
    sequence: snapshot.sequence,
    observedAt: snapshot.observedAt,
    ...(snapshot.readStartedAt === undefined ? {} : { readStartedAt: snapshot.readStartedAt }),
    ...(snapshot.accessLostAt === undefined ? {} : { accessLostAt: snapshot.accessLostAt }),
    ...(snapshot.retiredAt === undefined ? {} : { retiredAt: snapshot.retiredAt }),
    ...(snapshot.held === undefined ? {} : { heldSince: snapshot.held.detectedAt }),
    ...(pending === undefined
      ? {}
      : {
          inFlight: {
            fromSequence: snapshot.sequence + 1,
            toSequence: snapshot.sequence + pending.eventCount,
            published: pending.published,
            observedAt: pending.observedAt,
          },
        }),
  };
}

/** RFC 4180; `members` is one field of space-separated ascending IDs (empty when null). */
function csvLineOf(record: ExportRecord): string {
  const { inFlight, ...rest } = record;
  const flat: Record<string, unknown> = {
    ...rest,
    inFlightFromSequence: inFlight?.fromSequence,
    inFlightToSequence: inFlight?.toSequence,
    inFlightPublished: inFlight?.published,
  };
  return CSV_COLUMNS.map((column) => {
    const value = flat[column];
    const text = Array.isArray(value) ? value.join(' ') : value == null ? '' : String(value);
    return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  }).join(',');
}

async function writeLine(line: string): Promise<void> {
  if (!process.stdout.write(`${line}\n`)) await once(process.stdout, 'drain');
}

import { safeMessage } from './errors.js';
import type { ChatId } from './model.js';

/**
 * - `unchanged`: complete read, same members (a save happens only to clear a stale flag/hold);
 * - `changed`: joins/leaves published and committed;
 * - `baseline`: first sync of the chat, baseline published and the first snapshot committed;
 * - `held`: the breaker holds the diff (announced once per distinct held leave set);
 * - `released`: a released hold was applied;
 * - `access_lost`: the chat is unreadable (announced once per loss), snapshot members kept;
 * - `retired`: the chat left the configured or discovered set (announced once), no longer read;
 * - `failed`: the chat's new read was not applied; see `error` (a pending change may have
 *   advanced: `events` counts what was acknowledged);
 * - `conflict`: another run changed the chat first, or already holds a newer read of it.
 *
 * When this run finished a change an earlier attempt had left pending and its own read changed
 * nothing, the outcome is that change's (`changed`, `baseline`, …) and `resumed` is true.
 */
export type ChatOutcome =
  | 'unchanged'
  | 'changed'
  | 'baseline'
  | 'held'
  | 'released'
  | 'access_lost'
  | 'retired'
  | 'failed'
  | 'conflict';

export interface ChatSyncError {
  /**
   * The reader's code, or one of `missing_read`, `invalid_member_list`, `empty_member_list`,
   * `publish_failed`, `deadline_exceeded` (progress recorded; the next attempt goes on),
   * `snapshot_save_failed`, `snapshot_conflict`, `stale_read`, `snapshot_load_failed`,
   * `snapshot_unreadable` (that chat's stored snapshot is corrupt; the others go on),
   * `leaves_unverified` (an `im.dialog.users.list` read lacks members whose accounts could not be
   * checked), `read_members_failed`, `sync_error` (an unexpected error confined to the chat).
   */
  readonly code: string;
  /** URLs reduced to their origin, capped in length ({@link safeMessage}). */
  readonly message: string;
  readonly retryable: boolean;
}

export interface ChatSyncResult {
  readonly chatId: ChatId;
  readonly outcome: ChatOutcome;
  /** Members in this run's complete read; null when the read was not usable. */
  readonly membersRead: number | null;
  /** Joins/leaves of the change made or finished in this run (0 when held). */
  readonly joined: number;
  readonly left: number;
  /** Leaves the breaker is holding (0 unless `held`). */
  readonly heldLeft: number;
  /** Events acknowledged by the publisher in this run. */
  readonly events: number;
  /** Whether a snapshot was written (a change recorded, committed, or a flag cleared). */
  readonly saved: boolean;
  /** Whether this run finished a change an earlier attempt had left pending. */
  readonly resumed?: boolean;
  /**
   * This run read the chat page by page (`im.dialog.users.list`, a request per 200 members;
   * docs/bitrix24.md §10) rather than in one batched command. Absent otherwise.
   */
  readonly paged?: true;
  readonly error?: ChatSyncError;
}

export interface SyncReport {
  readonly portalId: string;
  readonly scheduledAt: string;
  /** The run's observation time: events' `time`, saved snapshots' `observedAt`. */
  readonly observedAt: string;
  /** In the work item's order. */
  readonly chats: readonly ChatSyncResult[];
  readonly totals: {
    readonly chats: number;
    readonly membersRead: number;
    readonly joins: number;
    readonly leaves: number;
    readonly held: number;
    readonly failed: number;
    readonly conflicts: number;
    readonly events: number;
  };
  /** HTTP requests to Bitrix24 during this sync (`reader.requestCount()` delta). */
  readonly bitrix24Requests: number;
  /**
   * Whether the work item should be retried: some chat's read failed with a retryable error,
   * or its publish, save or deadline stopped it. A retry first finishes every pending change
   * (same events), then re-reads, so it is always safe. Not retryable: conflicts (the other run
   * covered the chat), no-access answers (announced as access_lost), permanent read errors, ID
   * lists the core itself rejects and unreadable stored snapshots (a retry reads the same; the
   * next tick tries again and the failing-chats alarm fires if it persists).
   */
  readonly retryable: boolean;
}

/** A chat's result: nothing read, changed, published or saved unless `fields` says so. */
export function chatResult(
  chatId: ChatId,
  outcome: ChatOutcome,
  fields: Partial<Omit<ChatSyncResult, 'chatId' | 'outcome'>>,
): ChatSyncResult {
  return {
    chatId,
    outcome,
    membersRead: null,
    joined: 0,
    left: 0,
    heldLeft: 0,
    events: 0,
    saved: false,
    ...fields,
  };
}

export function failedResult(
  chatId: ChatId,
  error: ChatSyncError,
  membersRead: number | null = null,
): ChatSyncResult {
  return { ...chatResult(chatId, 'failed', { membersRead }), error };
}

export function chatError(code: string, cause: unknown, retryable: boolean): ChatSyncError {
  return { code, message: safeMessage(cause), retryable };
}

/** The report of a work item's sync: its chats' results in order, and their totals. */
export function syncReport(run: {
  readonly portalId: string;
  readonly scheduledAt: string;
  readonly observedAt: string;
  readonly chats: readonly ChatSyncResult[];
  readonly bitrix24Requests: number;
}): SyncReport {
  const { chats } = run;
  const sum = (pick: (chat: ChatSyncResult) => number): number =>
    chats.reduce((total, chat) => total + pick(chat), 0);
  return {
    portalId: run.portalId,
    scheduledAt: run.scheduledAt,
    observedAt: run.observedAt,
    chats,
    totals: {
      chats: chats.length,
      membersRead: sum((c) => c.membersRead ?? 0),
      joins: sum((c) => c.joined),
      leaves: sum((c) => c.left),
      held: sum((c) => (c.outcome === 'held' ? 1 : 0)),
      failed: sum((c) => (c.outcome === 'failed' ? 1 : 0)),
      conflicts: sum((c) => (c.outcome === 'conflict' ? 1 : 0)),
      events: sum((c) => c.events),
    },
    bitrix24Requests: run.bitrix24Requests,
    retryable: chats.some((c) => c.error?.retryable === true),
  };
}

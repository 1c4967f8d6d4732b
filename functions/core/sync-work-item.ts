import { attributeChanges } from './attribute-changes.js';
import type { OutgoingEvent } from './cloud-event.js';
import { isEmptyDiff } from './diff-members.js';
import {
  PublishError,
  SnapshotConflictError,
  SnapshotUnreadableError,
  safeMessage,
} from './errors.js';
import { normalizeMemberIds } from './member-set.js';
import type {
  AttributedChange,
  BreakerSettings,
  ChatId,
  ChatRead,
  KeysetProgress,
  PendingChange,
  PortalRef,
  Snapshot,
  UserDetails,
  UserId,
  WorkItem,
} from './model.js';
import {
  commitPending,
  eventsOfPending,
  type PendingChangeInput,
  recordPending,
} from './pending-change.js';
import { type ChatPlan, decideChat, done, planChat } from './plan-chat.js';
import type {
  Clock,
  EventPublisher,
  MemberReader,
  ReadMembersOptions,
  SnapshotStore,
} from './ports.js';
import { detectedByOf } from './read-outcomes.js';
import {
  type ChatOutcome,
  type ChatSyncError,
  type ChatSyncResult,
  chatError,
  chatResult,
  failedResult,
  type SyncReport,
  syncReport,
} from './sync-report.js';
import type { ChatMessage } from './system-messages.js';

export interface SyncLogger {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export interface SyncDeps {
  readonly reader: MemberReader;
  readonly store: SnapshotStore;
  readonly publisher: EventPublisher;
  readonly clock: Clock;
  readonly portal: PortalRef;
  readonly breaker: BreakerSettings;
  readonly logger?: SyncLogger | undefined;
  /** Most users whose details one work item looks up. @default DEFAULT_MAX_DETAILS_LOOKUP */
  readonly maxDetailsLookup?: number | undefined;
  /**
   * Epoch ms (on `clock`) after which no further publish starts: the sync records its progress
   * and reports the unfinished chats as `deadline_exceeded` (retryable). Undefined: no deadline.
   */
  readonly deadlineAt?: (() => number | undefined) | undefined;
  /** Events per publish call; the publish cursor is recorded between calls. @default 1_000 */
  readonly publishChunkEvents?: number | undefined;
}

/** 5,000 users ≈ 100 `im.user.list.get` calls of 50 IDs, two `batch` requests. */
export const DEFAULT_MAX_DETAILS_LOOKUP = 5_000;

/** 1,000 events ≈ 100 PublishBatch calls: a few seconds between two progress records. */
export const DEFAULT_PUBLISH_CHUNK_EVENTS = 1_000;

const DEADLINE_EXCEEDED: ChatSyncError = {
  code: 'deadline_exceeded',
  message: 'the invocation ran out of time; progress is recorded',
  retryable: true,
};

/** A chat whose change is recorded and whose events are being published. */
interface InFlight {
  readonly chatId: ChatId;
  readonly snapshot: Snapshot & { readonly pending: PendingChange };
  readonly events: readonly OutgoingEvent[];
}

/** Where a chat stands after its pending change was flushed. */
interface Flushed {
  /** The committed snapshot; absent when the change is still pending. */
  readonly committed?: Snapshot;
  /** Events acknowledged in this flush. */
  readonly acknowledged: number;
  readonly error?: ChatSyncError;
  readonly outcome?: 'conflict';
}

/**
 * Syncs one work item (one portal, ≤ 50 chats) through the outbox (docs/design.md, guarantees
 * 1, 5 and 6):
 *
 * 1. one snapshot load, then one member read (resuming keyset reads the snapshots recorded);
 * 2. every change an earlier attempt left pending is finished first: its events rebuilt
 *    unchanged, those past its publish cursor published, the change committed;
 * 3. each chat's new read is diffed against the committed state; one user-details lookup
 *    serves the whole item;
 * 4. each change is recorded as pending (a conditional write) BEFORE any of its events is
 *    published, then published in chunks (the cursor recorded between chunks when needed), then
 *    committed, conditional on the recorded change.
 *
 * Chats are independent: one chat's failure is reported and never blocks the others. Never
 * throws for a chat or port failure; the report says what happened and whether to retry.
 *
 * @throws {Error} only when `item.portalId` is not `deps.portal.portalId` (a wiring bug).
 */
export async function syncWorkItem(deps: SyncDeps, item: WorkItem): Promise<SyncReport> {
  if (item.portalId !== deps.portal.portalId) {
    // A wiring bug, not a sync failure: going on would file snapshots under the wrong portal.
    throw new Error(
      `work item for portal ${item.portalId} handed to portal ${deps.portal.portalId}`,
    );
  }
  const chatIds = [...new Set(item.chatIds)];
  const requestsBefore = deps.reader.requestCount();
  const finish = (observedAt: string, chats: ChatSyncResult[]): SyncReport =>
    syncReport({
      portalId: deps.portal.portalId,
      scheduledAt: item.scheduledAt,
      observedAt,
      chats,
      bitrix24Requests: deps.reader.requestCount() - requestsBefore,
    });

  // 1. One snapshot load (it says which keyset reads to go on with), then one member read.
  let loaded: ReadonlyMap<ChatId, Snapshot>;
  let unreadable: ReadonlyMap<ChatId, string> = new Map();
  try {
    loaded = await deps.store.loadMany(deps.portal.portalId, chatIds);
  } catch (error) {
    if (error instanceof SnapshotUnreadableError) {
      // A corrupt snapshot fails its chat, not the work item (docs/design.md, guarantee 8).
      deps.logger?.error('stored snapshots unreadable', { error: safeMessage(error) });
      loaded = error.readable;
      unreadable = error.unreadable;
    } else {
      deps.logger?.error('loading snapshots failed', { error: safeMessage(error) });
      const failure = chatError('snapshot_load_failed', error, true);
      return finish(
        now(deps),
        chatIds.map((chatId) => failedResult(chatId, failure)),
      );
    }
  }

  // A failed read still lets this run finish the chats' pending changes: they need no read.
  let reads: ReadonlyMap<ChatId, ChatRead> = new Map();
  let readFailure: ChatSyncError | undefined;
  try {
    reads = await deps.reader.readMembers(chatIds, readOptions(deps, loaded));
  } catch (error) {
    deps.logger?.error('reading member lists failed', { error: safeMessage(error) });
    readFailure = chatError('read_members_failed', error, true);
  }
  const observedAt = now(deps);

  // 2. Finish what earlier attempts left pending, before anything new touches those chats.
  const resumed = await flush(
    deps,
    chatIds.flatMap((chatId) => {
      const snapshot = loaded.get(chatId);
      return snapshot?.pending ? [inFlight(deps, { ...snapshot, pending: snapshot.pending })] : [];
    }),
  );

  // 3. Plan every chat's new read against its committed state.
  const plans = chatIds.map((chatId): ChatPlan => {
    const problem = unreadable.get(chatId);
    if (problem !== undefined) {
      // Not retryable: a retry reads the same item; the failing-chats alarm calls an operator.
      return done(failedResult(chatId, chatError('snapshot_unreadable', problem, false)));
    }
    const flushed = resumed.get(chatId);
    if (flushed !== undefined && flushed.committed === undefined) {
      return done(stillPending(chatId, flushed));
    }
    if (readFailure !== undefined) return done(failedResult(chatId, readFailure));
    const stored = flushed?.committed ?? loaded.get(chatId);
    // Version 0 holds only a first read's progress: nothing is committed yet.
    const snapshot = stored?.version === 0 ? undefined : stored;
    if (snapshot !== undefined && snapshot.observedAt > observedAt) {
      // An overlapping run committed a read at least as new as ours: applying ours would
      // reorder history. That run covered the chat.
      const stale = { code: 'stale_read', message: 'a newer read is committed', retryable: false };
      return done({ ...chatResult(chatId, 'conflict', {}), error: stale });
    }
    try {
      return planChat(chatId, snapshot, reads.get(chatId), stored, {
        departed: item.departed?.includes(chatId) === true,
      });
    } catch (error) {
      return done(failedResult(chatId, chatError('sync_error', error, false)));
    }
  });

  const details = await lookUpDetails(deps, chatIds, plans);
  const messages = await readChangedChatsMessages(deps, chatIds, plans);
  const context = { portalId: deps.portal.portalId, breaker: deps.breaker };
  const settled = await Promise.all(
    plans.map(async (plan, index): Promise<ChatSyncResult | InFlight> => {
      const chatId = chatIds[index] as ChatId;
      if (plan.kind === 'done') return plan.result;
      try {
        const decided = decideChat(context, chatId, plan, details.get(chatId), observedAt);
        if ('result' in decided) {
          if (decided.save === undefined) return decided.result;
          await deps.store.save(decided.save.next, { version: decided.save.base.version });
          return { ...decided.result, saved: true };
        }
        const { base } = decided;
        const detectedBy = detectedByOf(item, chatId, decided.input.kind === 'baseline');
        const found = detectedBy === undefined ? decided.input : { ...decided.input, detectedBy };
        const input = withAttribution(found, messages, chatId, plan);
        const { pending, events } = recordPending(deps.portal, base, input);
        const recorded = { ...base, pending };
        await deps.store.save(recorded, { version: base.version });
        return { chatId, snapshot: recorded, events };
      } catch (error) {
        return saveFailure(deps, chatId, error, plan);
      }
    }),
  );

  // 4. Publish and commit the recorded changes.
  const flushed = await flush(deps, settled.filter(isInFlight));

  const results = chatIds.map((chatId, index): ChatSyncResult => {
    const settledChat = settled[index] as ChatSyncResult | InFlight;
    const own = isInFlight(settledChat)
      ? changeResult(settledChat, flushed.get(chatId) as Flushed, membersReadOf(plans[index]))
      : settledChat;
    const plan = plans[index];
    const paged =
      (plan?.kind === 'baseline' || plan?.kind === 'diff') &&
      plan.method === 'im.dialog.users.list';
    return withResumed(
      paged ? { ...own, paged: true } : own,
      resumed.get(chatId),
      loaded.get(chatId),
    );
  });
  for (const chat of results) {
    if (chat.error !== undefined) {
      deps.logger?.warn('chat sync failed', {
        chatId: chat.chatId,
        outcome: chat.outcome,
        code: chat.error.code,
        message: chat.error.message,
      });
    }
  }
  return finish(observedAt, results);
}

/** What a chat's messages read returned: undefined when it failed, absent when not read. */
type ChatMessages = Map<ChatId, readonly ChatMessage[] | undefined>;

/**
 * The messages of every chat whose diff is non-empty, back to its previous read, in one batched
 * read (docs/events.md, `data.attribution`); a quiet chat reads none. Undefined when the reader
 * cannot read messages.
 */
async function readChangedChatsMessages(
  deps: SyncDeps,
  chatIds: readonly ChatId[],
  plans: readonly ChatPlan[],
): Promise<ChatMessages | undefined> {
  if (deps.reader.readMessages === undefined) return undefined;
  const requests = plans.flatMap((plan, index) =>
    plan.kind === 'diff' && !isEmptyDiff(plan.diff)
      ? [{ chatId: chatIds[index] as ChatId, since: plan.snapshot.observedAt }]
      : [],
  );
  if (requests.length === 0) return new Map();
  const read = await deps.reader.readMessages(requests);
  const unread = requests.filter((r) => read.get(r.chatId) === undefined).length;
  if (unread > 0) {
    // Not retried: the change goes out now with attribution null rather than waiting for it.
    deps.logger?.warn('chat messages unreadable; changes recorded without attribution', {
      chats: unread,
    });
  }
  return read;
}

/**
 * An applied change with each member's attribution decided now, before it is recorded, so every
 * re-publish rebuilds the same events (docs/design.md, guarantee 1).
 */
function withAttribution(
  input: PendingChangeInput,
  messages: ChatMessages | undefined,
  chatId: ChatId,
  plan: ChatPlan,
): PendingChangeInput {
  if (input.kind !== 'apply' || messages === undefined) return input;
  const since = plan.kind === 'diff' ? plan.snapshot.observedAt : null;
  const found = attributeChanges(input, messages.get(chatId), since);
  const attribution: AttributedChange[] = [...input.left, ...input.joined].map((userId) => ({
    userId,
    attribution: found.get(userId) ?? null,
  }));
  return { ...input, attribution };
}

/**
 * One lookup for the users that joined or left, chat by chat up to `maxDetailsLookup` users; a
 * chat that would exceed it (a released mass change, a chat that grew by thousands) gets no
 * details, so one huge diff cannot spend the portal's rate budget. Leaves from
 * `im.dialog.users.list` reads come first and are always looked up: without their details they
 * cannot be applied.
 * A failed lookup does not block the other chats: their events go out without details
 * (`user: null`, leave reason `unknown`), because a delayed change is worse than a change
 * without a name.
 *
 * @returns per chat, the details map to decide and build its events with (`undefined`: none).
 */
async function lookUpDetails(
  deps: SyncDeps,
  chatIds: readonly ChatId[],
  plans: readonly ChatPlan[],
): Promise<Map<ChatId, ReadonlyMap<UserId, UserDetails> | undefined>> {
  const limit = deps.maxDetailsLookup ?? DEFAULT_MAX_DETAILS_LOOKUP;
  const covered: ChatId[] = [];
  const ids: UserId[] = [];
  let skipped = 0;
  const diffs = plans.flatMap((plan, index) =>
    plan.kind === 'diff' && !isEmptyDiff(plan.diff)
      ? [{ plan, chatId: chatIds[index] as ChatId }]
      : [],
  );
  const mustVerify = (plan: Extract<ChatPlan, { kind: 'diff' }>): boolean =>
    plan.method === 'im.dialog.users.list' && plan.diff.left.length > 0;
  diffs.sort((a, b) => Number(mustVerify(b.plan)) - Number(mustVerify(a.plan)));
  for (const { plan, chatId } of diffs) {
    const changed = plan.diff.joined.length + plan.diff.left.length;
    // Leaves that need checking are looked up whatever their number: without details they
    // would fail the chat on every attempt.
    if (ids.length + changed > limit && !mustVerify(plan)) {
      skipped += 1;
      continue;
    }
    for (const id of plan.diff.joined) ids.push(id);
    for (const id of plan.diff.left) ids.push(id);
    covered.push(chatId);
  }
  if (skipped > 0) {
    deps.logger?.warn('too many changed users; some chats publish without user details', {
      skippedChats: skipped,
      limit,
    });
  }

  let details: ReadonlyMap<UserId, UserDetails> | undefined;
  if (ids.length > 0) {
    try {
      details = await deps.reader.readUserDetails(normalizeMemberIds(ids));
    } catch (error) {
      deps.logger?.warn('user details unavailable; publishing changes without them', {
        users: ids.length,
        error: safeMessage(error),
      });
    }
  }
  return new Map(covered.map((chatId) => [chatId, details]));
}

function inFlight(deps: SyncDeps, snapshot: Snapshot & { pending: PendingChange }): InFlight {
  return {
    chatId: snapshot.chatId,
    snapshot,
    events: eventsOfPending(deps.portal, snapshot, snapshot.pending),
  };
}

/**
 * Publishes the chats' events past their cursors in chunks, then commits every chat whose
 * events are all acknowledged and records the cursor of the others. A {@link PublishError} names
 * exactly the events SNS did not acknowledge; any other error may have stopped midway, so then
 * none of the chunk counts. A chat stops at its first unacknowledged event (later ones would
 * overtake it on a FIFO topic); the cursor counts only the leading acknowledged events.
 */
async function flush(deps: SyncDeps, chats: readonly InFlight[]): Promise<Map<ChatId, Flushed>> {
  const cursor = new Map(chats.map((c) => [c.chatId, c.snapshot.pending.published]));
  const stopped = new Map<ChatId, ChatSyncError>();
  const chunkSize = Math.max(1, deps.publishChunkEvents ?? DEFAULT_PUBLISH_CHUNK_EVENTS);
  for (;;) {
    const chunk: { chatId: ChatId; index: number; event: OutgoingEvent }[] = [];
    for (const chat of chats) {
      if (stopped.has(chat.chatId)) continue;
      for (let i = cursor.get(chat.chatId) as number; i < chat.events.length; i++) {
        if (chunk.length >= chunkSize) break;
        chunk.push({ chatId: chat.chatId, index: i, event: chat.events[i] as OutgoingEvent });
      }
    }
    if (chunk.length === 0) break;
    const deadline = deps.deadlineAt?.();
    if (deadline !== undefined && deps.clock.now().getTime() >= deadline) {
      for (const { chatId } of chunk) stopped.set(chatId, DEADLINE_EXCEEDED);
      continue;
    }
    let failedIds: ReadonlySet<string> | undefined = new Set();
    let publishError: unknown;
    try {
      await deps.publisher.publish(
        chunk.map((c) => c.event),
        deadline === undefined ? undefined : { deadlineAt: deadline },
      );
    } catch (error) {
      publishError = error;
      failedIds = error instanceof PublishError ? new Set(error.failedEventIds) : undefined;
    }
    const late = publishError instanceof PublishError && publishError.deadlineReached;
    for (const { chatId, index, event } of chunk) {
      if (stopped.has(chatId)) continue;
      if (failedIds === undefined || failedIds.has(event.event.id)) {
        stopped.set(
          chatId,
          late ? DEADLINE_EXCEEDED : chatError('publish_failed', publishError, true),
        );
      } else if (cursor.get(chatId) === index) {
        cursor.set(chatId, index + 1);
      }
    }
  }

  const out = new Map<ChatId, Flushed>();
  await Promise.all(
    chats.map(async ({ chatId, snapshot, events }) => {
      const { pending } = snapshot;
      const published = cursor.get(chatId) as number;
      const acknowledged = published - pending.published;
      if (published < events.length) {
        if (acknowledged > 0) {
          try {
            await deps.store.recordPublished(snapshot.portalId, chatId, pending.id, published);
          } catch (error) {
            // Harmless: the next attempt re-publishes from the older cursor (same IDs).
            deps.logger?.warn('publish cursor not recorded', { chatId, error: safeMessage(error) });
          }
        }
        out.set(chatId, { acknowledged, ...errorField(stopped.get(chatId)) });
        return;
      }
      const committed = commitPending(snapshot);
      try {
        await deps.store.save(committed, { version: snapshot.version, pendingId: pending.id });
        out.set(chatId, { acknowledged, committed });
      } catch (error) {
        if (error instanceof SnapshotConflictError) {
          // Another run committed this very change (same events) or moved on after it.
          deps.logger?.info('pending change committed by an overlapping run', { chatId });
          out.set(chatId, {
            acknowledged,
            outcome: 'conflict',
            error: chatError('snapshot_conflict', error, false),
          });
          return;
        }
        out.set(chatId, { acknowledged, error: chatError('snapshot_save_failed', error, true) });
      }
    }),
  );
  return out;
}

function errorField(error: ChatSyncError | undefined): { error?: ChatSyncError } {
  return error === undefined ? {} : { error };
}

/** A chat whose earlier pending change could not be finished: its new read waits. */
function stillPending(chatId: ChatId, flushed: Flushed): ChatSyncResult {
  const error = flushed.error ?? {
    code: 'sync_error',
    message: 'pending change not finished',
    retryable: true,
  };
  return { ...chatResult(chatId, flushed.outcome ?? 'failed', {}), error };
}

function isInFlight(chat: ChatSyncResult | InFlight): chat is InFlight {
  return 'snapshot' in chat;
}

/** The result of a change this run recorded, from how its flush went. */
function changeResult(
  change: InFlight,
  flushed: Flushed,
  membersRead: number | null,
): ChatSyncResult {
  const counts = countsOf(change.snapshot.pending, membersRead);
  const fields = { membersRead: counts.membersRead, events: flushed.acknowledged, saved: true };
  if (flushed.committed !== undefined)
    return chatResult(change.chatId, counts.outcome, { ...counts, ...fields });
  return {
    ...chatResult(change.chatId, flushed.outcome ?? 'failed', fields),
    ...errorField(flushed.error),
  };
}

/**
 * Folds in a change an earlier attempt left pending and this run finished: its events count, and
 * when this run's own read changed nothing, the finished change is what the chat's result reports.
 */
function withResumed(
  own: ChatSyncResult,
  earlier: Flushed | undefined,
  loaded: Snapshot | undefined,
): ChatSyncResult {
  if (earlier === undefined || !loaded?.pending) return own;
  const combined = { ...own, events: own.events + earlier.acknowledged, resumed: true };
  if (earlier.committed === undefined || own.outcome !== 'unchanged') return combined;
  const counts = countsOf(loaded.pending, own.membersRead);
  return { ...combined, ...counts, membersRead: own.membersRead, saved: true };
}

function saveFailure(
  deps: SyncDeps,
  chatId: ChatId,
  error: unknown,
  plan: ChatPlan,
): ChatSyncResult {
  const membersRead = membersReadOf(plan);
  if (error instanceof SnapshotConflictError) {
    deps.logger?.info('snapshot changed by an overlapping run', { chatId });
    return {
      ...chatResult(chatId, 'conflict', { membersRead }),
      error: chatError('snapshot_conflict', error, false),
    };
  }
  return failedResult(chatId, chatError('snapshot_save_failed', error, true), membersRead);
}

function countsOf(
  pending: PendingChange,
  membersRead: number | null,
): { outcome: ChatOutcome; membersRead: number | null } & Partial<ChatSyncResult> {
  switch (pending.kind) {
    case 'baseline':
      return { outcome: 'baseline', membersRead };
    case 'apply':
      return {
        outcome: pending.heldSince === undefined ? 'changed' : 'released',
        membersRead,
        joined: pending.joined.length,
        left: pending.left.length,
      };
    case 'hold':
      return { outcome: 'held', membersRead, heldLeft: pending.left.length };
    case 'access_lost':
      return { outcome: 'access_lost', membersRead: null };
    case 'retire':
      return { outcome: 'retired', membersRead };
  }
}

/** The members a plan read (normalized), or null when it read none. */
function membersReadOf(plan: ChatPlan | undefined): number | null {
  if (plan?.kind === 'retire') return plan.membersRead;
  return plan?.kind === 'baseline' || plan?.kind === 'diff' ? plan.members.length : null;
}

/** Keyset progress older than this is dropped: the read starts over. */
export const MAX_KEYSET_PROGRESS_AGE_MS = 60 * 60_000;

/** Time kept back from the deadline for syncing the other chats when a keyset read is long. */
export const KEYSET_RESERVE_MS = 60_000;

/** What the reader needs: keyset reads to go on with, and when to stop them. */
function readOptions(deps: SyncDeps, loaded: ReadonlyMap<ChatId, Snapshot>): ReadMembersOptions {
  const at = deps.clock.now().getTime();
  const resume = new Map<ChatId, KeysetProgress>();
  for (const snapshot of loaded.values()) {
    const progress = snapshot.readProgress;
    if (progress && at - Date.parse(progress.startedAt) <= MAX_KEYSET_PROGRESS_AGE_MS) {
      resume.set(snapshot.chatId, progress);
    }
  }
  const deadline = deps.deadlineAt?.();
  return {
    resume: resume.size > 0 ? resume : undefined,
    keysetStopAt: deadline === undefined ? undefined : deadline - KEYSET_RESERVE_MS,
  };
}

function now(deps: SyncDeps): string {
  return deps.clock.now().toISOString();
}

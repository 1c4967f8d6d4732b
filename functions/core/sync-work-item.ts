import { decideBreaker } from './breaker.js';
import {
  buildAccessLostEvent,
  buildBaselineEvents,
  buildMassChangeHeldEvent,
  buildMemberEvents,
  type ChatEventContext,
} from './build-events.js';
import type { OutgoingEvent } from './cloud-event.js';
import { diffMembers, isEmptyDiff, type MemberDiff } from './diff-members.js';
import { contentHash, InvalidMemberIdError, normalizeMemberIds } from './member-set.js';
import type {
  BreakerSettings,
  ChatId,
  ChatRead,
  PortalRef,
  ReadMethod,
  Snapshot,
  UserDetails,
  UserId,
  WorkItem,
} from './model.js';
import {
  type Clock,
  type EventPublisher,
  type MemberReader,
  PublishError,
  SnapshotConflictError,
  type SnapshotStore,
  SnapshotUnreadableError,
} from './ports.js';

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
  readonly logger?: SyncLogger;
  /** Most users whose details one work item looks up. @default DEFAULT_MAX_DETAILS_LOOKUP */
  readonly maxDetailsLookup?: number;
}

/** 5,000 users ≈ 100 `im.user.list.get` calls of 50 IDs, two `batch` requests. */
export const DEFAULT_MAX_DETAILS_LOOKUP = 5_000;

/**
 * - `unchanged`: complete read, same members (a save happens only to clear a stale flag/hold);
 * - `changed`: joins/leaves published and applied;
 * - `baseline`: first sync of the chat, baseline published and the first snapshot saved;
 * - `held`: the breaker holds the diff (announced once per distinct held leave set);
 * - `released`: a released hold was applied;
 * - `access_lost`: the chat is unreadable (announced once per loss), snapshot members kept;
 * - `failed`: nothing applied; see `error`;
 * - `conflict`: events published, but another run saved the chat first (its IDs equal ours).
 */
export type ChatOutcome =
  | 'unchanged'
  | 'changed'
  | 'baseline'
  | 'held'
  | 'released'
  | 'access_lost'
  | 'failed'
  | 'conflict';

export interface ChatSyncError {
  /**
   * The reader's code, or one of `missing_read`, `invalid_member_list`, `empty_member_list`,
   * `publish_failed`, `snapshot_save_failed`, `snapshot_conflict`, `snapshot_load_failed`,
   * `snapshot_unreadable` (that chat's stored snapshot is corrupt; the others go on),
   * `read_members_failed`, `sync_error` (an unexpected error confined to the chat).
   */
  readonly code: string;
  /** URLs reduced to their origin, capped in length. */
  readonly message: string;
  readonly retryable: boolean;
}

export interface ChatSyncResult {
  readonly chatId: ChatId;
  readonly outcome: ChatOutcome;
  /** Members in this run's complete read; null when the read was not usable. */
  readonly membersRead: number | null;
  /** Joins/leaves published as member events (0 when held). */
  readonly joined: number;
  readonly left: number;
  /** Leaves the breaker is holding (0 unless `held`). */
  readonly heldLeft: number;
  /** Events acknowledged by the publisher. */
  readonly events: number;
  /** Whether a snapshot was written. */
  readonly saved: boolean;
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
   * Whether the work item should be retried: some chat's read failed (whatever the reader's
   * code: transport, rate limit, auth, or an answer the client found malformed, which may be a
   * proxy's one-off), or its publish or save failed. A retry re-reads every chat of the item,
   * which is safe: unchanged chats write nothing and re-published events keep their IDs.
   * Not retryable: conflicts (the winning run covered the chat), no-access answers (announced as
   * access_lost), ID lists the core itself rejects and unreadable stored snapshots (a retry reads
   * the same; the next tick tries again and the failing-chats alarm fires if it persists).
   */
  readonly retryable: boolean;
}

type ChatPlan =
  | { readonly kind: 'done'; readonly result: ChatSyncResult }
  | { readonly kind: 'baseline'; readonly members: UserId[]; readonly method: ReadMethod }
  | {
      readonly kind: 'apply';
      readonly snapshot: Snapshot;
      readonly members: UserId[];
      readonly diff: MemberDiff;
      readonly method: ReadMethod;
      readonly released: boolean;
    }
  | {
      readonly kind: 'hold';
      readonly snapshot: Snapshot;
      readonly observedCount: number;
      readonly diff: MemberDiff;
      /** A new held leave set: announce and record it. Otherwise only a stale access flag is cleared. */
      readonly announce: boolean;
    }
  | { readonly kind: 'access_lost'; readonly snapshot: Snapshot; readonly code: string };

/**
 * Syncs one work item (one portal, ≤ 50 chats): one member read, one snapshot load, one user
 * details lookup for every joined/left user of the item, one publish of every chat's events,
 * then per chat, only if all its events were acknowledged, a save conditional on the version
 * read (DESIGN invariants 1, 5). Chats are independent: one chat's failure (including its
 * events' failure to publish) is reported and never blocks the others. Never
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
    report(deps, item, observedAt, chats, deps.reader.requestCount() - requestsBefore);

  let reads: Map<ChatId, ChatRead>;
  try {
    reads = await deps.reader.readMembers(chatIds);
  } catch (error) {
    deps.logger?.error('reading member lists failed', { error: safeMessage(error) });
    const failure = chatError('read_members_failed', error, true);
    return finish(
      now(deps),
      chatIds.map((chatId) => failedResult(chatId, failure)),
    );
  }
  const observedAt = now(deps);

  let snapshots: ReadonlyMap<ChatId, Snapshot>;
  let unreadable: ReadonlyMap<ChatId, string> = new Map();
  try {
    snapshots = await deps.store.loadMany(deps.portal.portalId, chatIds);
  } catch (error) {
    if (error instanceof SnapshotUnreadableError) {
      // A corrupt snapshot fails its chat, not the work item (DESIGN invariant 7).
      deps.logger?.error('stored snapshots unreadable', { error: safeMessage(error) });
      snapshots = error.readable;
      unreadable = error.unreadable;
    } else {
      deps.logger?.error('loading snapshots failed', { error: safeMessage(error) });
      const failure = chatError('snapshot_load_failed', error, true);
      return finish(
        observedAt,
        chatIds.map((chatId) => failedResult(chatId, failure)),
      );
    }
  }

  const plans = chatIds.map((chatId): ChatPlan => {
    const problem = unreadable.get(chatId);
    if (problem !== undefined) {
      // Not retryable: a retry reads the same item; the failing-chats alarm calls an operator.
      return done(failedResult(chatId, chatError('snapshot_unreadable', problem, false)));
    }
    try {
      return planChat(chatId, snapshots.get(chatId), reads.get(chatId), deps.breaker);
    } catch (error) {
      // E.g. a corrupt stored snapshot: this chat fails, the others go on.
      return done(failedResult(chatId, chatError('sync_error', error, false)));
    }
  });
  const details = await lookUpDetails(deps, chatIds, plans);
  const prepared = plans.map((plan, index) =>
    plan.kind === 'done'
      ? plan.result
      : prepareChat(
          deps,
          chatIds[index] as ChatId,
          plan,
          details.get(chatIds[index] as ChatId),
          observedAt,
        ),
  );
  const unacknowledged = await publishAll(
    deps,
    prepared.flatMap((p) => (isPrepared(p) ? p.events : [])),
  );
  const results = await Promise.all(
    prepared.map((p) => (isPrepared(p) ? saveChat(deps, p, unacknowledged) : p)),
  );
  for (const result of results) {
    if (result.error !== undefined) {
      deps.logger?.warn('chat sync failed', {
        chatId: result.chatId,
        outcome: result.outcome,
        code: result.error.code,
        message: result.error.message,
      });
    }
  }
  return finish(observedAt, results);
}

/** Decides what a chat needs, from its snapshot and read alone. Pure. */
function planChat(
  chatId: ChatId,
  snapshot: Snapshot | undefined,
  read: ChatRead | undefined,
  breaker: BreakerSettings,
): ChatPlan {
  if (read === undefined) {
    return done(
      failedResult(chatId, { code: 'missing_read', message: 'no read', retryable: true }),
    );
  }
  if (read.kind === 'failed') {
    return done(failedResult(chatId, chatError(read.code, read.message, read.retryable)));
  }

  let members: UserId[] = [];
  let lostCode: string | undefined;
  if (read.kind === 'no_access') {
    lostCode = read.code;
  } else {
    try {
      members = normalizeMemberIds(read.memberIds);
    } catch (error) {
      if (!(error instanceof InvalidMemberIdError)) throw error;
      return done(failedResult(chatId, chatError('invalid_member_list', error, false)));
    }
    // A chat always has at least the integration user; an empty list is Bitrix24's
    // "no permission" answer, never a chat everyone left (DESIGN invariant 2).
    if (members.length === 0) lostCode = 'empty_member_list';
  }

  if (lostCode !== undefined || read.kind !== 'complete') {
    const code = lostCode ?? 'no_access';
    if (snapshot === undefined) {
      // Nothing was ever read, so nothing is lost; with no snapshot to remember an announcement,
      // an event here would repeat every run. The report (and its alarm) carries it.
      const message = read.kind === 'no_access' ? read.message : 'empty member list';
      return done(failedResult(chatId, chatError(code, message, false)));
    }
    if (snapshot.accessLostAt !== undefined) {
      return done(result(chatId, 'access_lost', { membersRead: null }));
    }
    return { kind: 'access_lost', snapshot, code };
  }

  if (snapshot === undefined) return { kind: 'baseline', members, method: read.method };

  const diff = diffMembers(snapshot.members, members);
  const decision = decideBreaker(diff, snapshot.members.length, snapshot.held, breaker);
  if (decision.action === 'hold') {
    if (!decision.isNew && snapshot.accessLostAt === undefined) {
      return done(
        result(chatId, 'held', { membersRead: members.length, heldLeft: diff.left.length }),
      );
    }
    return {
      kind: 'hold',
      snapshot,
      observedCount: members.length,
      diff,
      announce: decision.isNew,
    };
  }
  const stale = snapshot.held !== undefined || snapshot.accessLostAt !== undefined;
  if (isEmptyDiff(diff) && !stale) {
    return done(result(chatId, 'unchanged', { membersRead: members.length }));
  }
  return {
    kind: 'apply',
    snapshot,
    members,
    diff,
    method: read.method,
    released: decision.action === 'apply_released',
  };
}

/**
 * One lookup for the users that joined or left the applied chats, chat by chat up to
 * `maxDetailsLookup` users; a chat that would exceed it (a released mass change, a chat that
 * grew by thousands) gets no details, so one huge diff cannot spend the portal's rate budget.
 * A failed lookup does not block the sync either: events go out without details (`user: null`,
 * leave reason `unknown`), because a delayed change is worse than a change without a name.
 *
 * @returns per chat, the details map to build its events with (`undefined`: not looked up).
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
  plans.forEach((plan, index) => {
    if (plan.kind !== 'apply' || isEmptyDiff(plan.diff)) return;
    const changed = plan.diff.joined.length + plan.diff.left.length;
    if (ids.length + changed > limit) {
      skipped += 1;
      return;
    }
    for (const id of plan.diff.joined) ids.push(id);
    for (const id of plan.diff.left) ids.push(id);
    covered.push(chatIds[index] as ChatId);
  });
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

interface PreparedChat {
  readonly chatId: ChatId;
  readonly snapshot: Snapshot | undefined;
  readonly events: OutgoingEvent[];
  readonly next: Snapshot;
  readonly counts: ReturnType<typeof prepare>['counts'];
}

function isPrepared(chat: PreparedChat | ChatSyncResult): chat is PreparedChat {
  return 'next' in chat;
}

function prepareChat(
  deps: SyncDeps,
  chatId: ChatId,
  plan: Exclude<ChatPlan, { kind: 'done' }>,
  details: ReadonlyMap<UserId, UserDetails> | undefined,
  observedAt: string,
): PreparedChat | ChatSyncResult {
  const snapshot = plan.kind === 'baseline' ? undefined : plan.snapshot;
  const ctx: ChatEventContext = {
    portal: deps.portal,
    chatId,
    baseVersion: snapshot?.version ?? 0,
    previousSequence: snapshot?.sequence ?? 0,
    previousObservedAt: snapshot?.observedAt ?? null,
    observedAt,
  };
  try {
    return { chatId, snapshot, ...prepare(deps, ctx, plan, details) };
  } catch (error) {
    return failedResult(chatId, chatError('sync_error', error, false));
  }
}

/** What a publish left unacknowledged: every event when nothing says otherwise. */
interface Unacknowledged {
  has(eventId: string): boolean;
  readonly error?: unknown;
}

/**
 * One publish for the whole work item, so a first run of 50 chats costs a few PublishBatch
 * calls instead of 50. A {@link PublishError} names exactly the events SNS did not acknowledge;
 * any other error may have stopped midway, so then no event counts as acknowledged.
 */
async function publishAll(deps: SyncDeps, events: OutgoingEvent[]): Promise<Unacknowledged> {
  if (events.length === 0) return { has: () => false };
  try {
    await deps.publisher.publish(events);
    return { has: () => false };
  } catch (error) {
    const failed = error instanceof PublishError ? new Set(error.failedEventIds) : undefined;
    return { error, has: (id) => failed === undefined || failed.has(id) };
  }
}

/** Saves a chat's snapshot only if every one of its events was acknowledged (invariant 1). */
async function saveChat(
  deps: SyncDeps,
  chat: PreparedChat,
  unacknowledged: Unacknowledged,
): Promise<ChatSyncResult> {
  const { chatId, snapshot, events, next, counts } = chat;
  if (events.some((e) => unacknowledged.has(e.event.id))) {
    return failedResult(
      chatId,
      chatError('publish_failed', unacknowledged.error, true),
      counts.membersRead,
    );
  }
  try {
    await deps.store.save(next, snapshot?.version);
  } catch (error) {
    if (error instanceof SnapshotConflictError) {
      deps.logger?.info('snapshot changed by an overlapping run; its events equal ours', {
        chatId,
      });
      return {
        ...result(chatId, 'conflict', { membersRead: counts.membersRead, events: events.length }),
        error: chatError('snapshot_conflict', error, false),
      };
    }
    return {
      ...failedResult(chatId, chatError('snapshot_save_failed', error, true), counts.membersRead),
      events: events.length,
    };
  }
  return result(chatId, counts.outcome, { ...counts, events: events.length, saved: true });
}

/** The events of a plan and the snapshot that reflects them. Pure. */
function prepare(
  deps: SyncDeps,
  ctx: ChatEventContext,
  plan: Exclude<ChatPlan, { kind: 'done' }>,
  details: ReadonlyMap<UserId, UserDetails> | undefined,
): {
  events: OutgoingEvent[];
  next: Snapshot;
  counts: Omit<Partial<ChatSyncResult>, 'outcome'> & {
    outcome: ChatOutcome;
    membersRead: number | null;
  };
} {
  const { portalId } = deps.portal;
  const version = ctx.baseVersion + 1;
  switch (plan.kind) {
    case 'baseline': {
      const events = buildBaselineEvents(ctx, plan.members, plan.method);
      return {
        events,
        next: applied(portalId, ctx, plan.members, version, events.length),
        counts: { outcome: 'baseline', membersRead: plan.members.length },
      };
    }
    case 'apply': {
      const heldSince = plan.released ? plan.snapshot.held?.detectedAt : undefined;
      const events = buildMemberEvents(ctx, plan.diff, {
        method: plan.method,
        details,
        ...(heldSince === undefined ? {} : { heldSince }),
      });
      const changed = !isEmptyDiff(plan.diff);
      return {
        events,
        next: applied(portalId, ctx, plan.members, version, ctx.previousSequence + events.length),
        counts: {
          outcome: plan.released ? 'released' : changed ? 'changed' : 'unchanged',
          membersRead: plan.members.length,
          joined: plan.diff.joined.length,
          left: plan.diff.left.length,
        },
      };
    }
    case 'hold': {
      const { accessLostAt: _cleared, held, ...kept } = plan.snapshot;
      const events = plan.announce
        ? [
            buildMassChangeHeldEvent(
              ctx,
              plan.diff,
              { previousCount: plan.snapshot.members.length, observedCount: plan.observedCount },
              deps.breaker,
            ),
          ]
        : [];
      const nextHeld =
        plan.announce || held === undefined
          ? {
              baseVersion: ctx.baseVersion,
              detectedAt: ctx.observedAt,
              joined: plan.diff.joined,
              left: plan.diff.left,
              observedCount: plan.observedCount,
              released: false,
            }
          : held;
      return {
        events,
        next: {
          ...kept,
          version,
          sequence: ctx.previousSequence + events.length,
          held: nextHeld,
        },
        counts: {
          outcome: 'held',
          membersRead: plan.observedCount,
          heldLeft: plan.diff.left.length,
        },
      };
    }
    case 'access_lost': {
      const event = buildAccessLostEvent(ctx, plan.code, plan.snapshot.members.length);
      return {
        events: [event],
        // Members and observedAt stay: they describe the last complete read.
        next: {
          ...plan.snapshot,
          version,
          sequence: ctx.previousSequence + 1,
          accessLostAt: ctx.observedAt,
        },
        counts: { outcome: 'access_lost', membersRead: null },
      };
    }
  }
}

/** The snapshot after applying a complete read: no hold, no access flag. */
function applied(
  portalId: string,
  ctx: ChatEventContext,
  members: UserId[],
  version: number,
  sequence: number,
): Snapshot {
  return {
    portalId,
    chatId: ctx.chatId,
    members,
    version,
    contentHash: contentHash(members),
    observedAt: ctx.observedAt,
    sequence,
  };
}

function done(result: ChatSyncResult): ChatPlan {
  return { kind: 'done', result };
}

function result(
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

function failedResult(
  chatId: ChatId,
  error: ChatSyncError,
  membersRead: number | null = null,
): ChatSyncResult {
  return { ...result(chatId, 'failed', { membersRead }), error };
}

function chatError(code: string, cause: unknown, retryable: boolean): ChatSyncError {
  return { code, message: safeMessage(cause), retryable };
}

const URL_PATTERN = /\bhttps?:\/\/[^\s"'<>]+/gi;
const MAX_MESSAGE_LENGTH = 500;

/**
 * Error text fit for a report or a log line: every URL cut to its origin (a webhook URL carries
 * its secret code in the path; DESIGN invariant 6), capped in length.
 */
function safeMessage(cause: unknown): string {
  const text = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
  return text
    .replace(URL_PATTERN, (url) => {
      try {
        return new URL(url).origin;
      } catch {
        return '[url]';
      }
    })
    .slice(0, MAX_MESSAGE_LENGTH);
}

function now(deps: SyncDeps): string {
  return deps.clock.now().toISOString();
}

function report(
  deps: SyncDeps,
  item: WorkItem,
  observedAt: string,
  chats: ChatSyncResult[],
  bitrix24Requests: number,
): SyncReport {
  const sum = (pick: (chat: ChatSyncResult) => number): number =>
    chats.reduce((total, chat) => total + pick(chat), 0);
  return {
    portalId: deps.portal.portalId,
    scheduledAt: item.scheduledAt,
    observedAt,
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
    bitrix24Requests,
    retryable: chats.some((c) => c.error?.retryable === true),
  };
}

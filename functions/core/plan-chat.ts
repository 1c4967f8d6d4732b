import { decideBreaker } from './breaker.js';
import { diffMembers, isEmptyDiff, type MemberDiff } from './diff-members.js';
import { InvalidMemberIdError } from './errors.js';
import { contentHash, normalizeMemberIds } from './member-set.js';
import type {
  BreakerSettings,
  ChatId,
  ChatRead,
  KeysetProgress,
  ReadMethod,
  Snapshot,
  UserDetails,
  UserId,
} from './model.js';
import type { PendingChangeInput } from './pending-change.js';
import { type ChatSyncResult, chatError, chatResult, failedResult } from './sync-report.js';

/**
 * What a chat's new read means, before user details are known. Pure, in two steps: the read
 * against the committed snapshot ({@link planChat}), then, once the work item's one user-details
 * lookup is done, what to write ({@link decideChat}).
 */
export type ChatPlan =
  | { readonly kind: 'done'; readonly result: ChatSyncResult }
  | {
      readonly kind: 'baseline';
      readonly members: UserId[];
      readonly method: ReadMethod;
      readonly startedAt?: string;
    }
  | {
      readonly kind: 'diff';
      readonly snapshot: Snapshot;
      readonly members: UserId[];
      readonly diff: MemberDiff;
      readonly method: ReadMethod;
      readonly startedAt?: string;
    }
  | { readonly kind: 'access_lost'; readonly snapshot: Snapshot; readonly code: string }
  /** A departed chat that is still readable: announce its retirement instead of diffing. */
  | { readonly kind: 'retire'; readonly snapshot: Snapshot; readonly membersRead: number }
  /** A keyset read stopped for time: remember how far it got. */
  | {
      readonly kind: 'progress';
      /** What is stored (a version-0 progress record included). */
      readonly stored: Snapshot | undefined;
      readonly progress: KeysetProgress;
    };

/**
 * What to do with a planned chat once user details are known: record a change as pending on
 * `base` (its events are published from it), or report `result`, first saving `save.next` on
 * `save.base` when given (a flag cleared, a keyset read's progress kept).
 */
export type ChatDecision =
  | { readonly base: Snapshot; readonly input: PendingChangeInput }
  | { readonly result: ChatSyncResult; readonly save?: { next: Snapshot; base: Snapshot } };

/** Where the decisions are made: the portal the snapshots belong to, and its breaker. */
export interface DecisionContext {
  readonly portalId: string;
  readonly breaker: BreakerSettings;
}

/** A plan with nothing left to decide. */
export function done(result: ChatSyncResult): ChatPlan {
  return { kind: 'done', result };
}

/**
 * Decides what a chat's read means, from its committed snapshot (`stored` also counts a record
 * that only holds a first read's progress) and the read alone. A `departed` chat (it left the
 * configured or discovered set) is read once more for its last word: `chat.access_lost` when it
 * cannot be read (as any chat), else `chat.retired`; its new members are not diffed.
 */
export function planChat(
  chatId: ChatId,
  snapshot: Snapshot | undefined,
  read: ChatRead | undefined,
  stored: Snapshot | undefined,
  options: { readonly departed?: boolean } = {},
): ChatPlan {
  if (read === undefined) {
    return done(
      failedResult(chatId, { code: 'missing_read', message: 'no read', retryable: true }),
    );
  }
  if (read.kind === 'failed') {
    return done(failedResult(chatId, chatError(read.code, read.message, read.retryable)));
  }
  if (read.kind === 'partial') return { kind: 'progress', stored, progress: read.progress };

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
    // "no permission" answer, never a chat everyone left (docs/design.md, guarantee 2).
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
      return done(chatResult(chatId, 'access_lost', { membersRead: null }));
    }
    return { kind: 'access_lost', snapshot, code };
  }

  if (options.departed) {
    // Nothing was ever published for a chat without a committed snapshot: nothing to retire.
    if (snapshot === undefined || snapshot.retiredAt !== undefined) {
      return done(
        chatResult(chatId, snapshot ? 'retired' : 'unchanged', { membersRead: members.length }),
      );
    }
    return { kind: 'retire', snapshot, membersRead: members.length };
  }
  const startedAt = read.startedAt === undefined ? {} : { startedAt: read.startedAt };
  if (snapshot === undefined)
    return { kind: 'baseline', members, method: read.method, ...startedAt };
  return {
    kind: 'diff',
    snapshot,
    members,
    diff: diffMembers(snapshot.members, members),
    method: read.method,
    ...startedAt,
  };
}

/** What to write for a planned chat, given the user details looked up for it (if any). */
export function decideChat(
  context: DecisionContext,
  chatId: ChatId,
  plan: Exclude<ChatPlan, { kind: 'done' }>,
  details: ReadonlyMap<UserId, UserDetails> | undefined,
  observedAt: string,
): ChatDecision {
  switch (plan.kind) {
    case 'progress': {
      const base = plan.stored ?? emptySnapshot(context.portalId, chatId, observedAt);
      const stopped = failedResult(chatId, {
        code: 'deadline_exceeded',
        message: `the keyset read stopped for time after ${plan.progress.memberIds.length} members; it goes on from there`,
        retryable: true,
      });
      // Progress counts only when `LAST_ID` moved: a resumed read that got no further page saves
      // nothing, so the item spends its receives instead of resending itself as progress.
      const advanced =
        plan.progress.memberIds.length > 0 &&
        plan.progress.lastId !== plan.stored?.readProgress?.lastId;
      if (!advanced) return { result: stopped };
      return {
        result: stopped,
        save: { base, next: { ...base, readProgress: plan.progress } },
      };
    }
    case 'baseline':
      return {
        base: emptySnapshot(context.portalId, chatId, observedAt),
        input: {
          kind: 'baseline',
          observedAt,
          ...readStartOf(plan),
          method: plan.method,
          joined: plan.members,
          left: [],
        },
      };
    case 'access_lost':
      return {
        base: withoutProgress(plan.snapshot),
        input: { kind: 'access_lost', observedAt, code: plan.code, joined: [], left: [] },
      };
    case 'retire':
      return {
        base: withoutProgress(plan.snapshot),
        input: { kind: 'retire', observedAt, joined: [], left: [] },
      };
    case 'diff':
      return decideDiff(context, chatId, plan, details, observedAt);
  }
}

function decideDiff(
  context: DecisionContext,
  chatId: ChatId,
  plan: Extract<ChatPlan, { kind: 'diff' }>,
  details: ReadonlyMap<UserId, UserDetails> | undefined,
  observedAt: string,
): ChatDecision {
  const { method } = plan;
  // A finished keyset read consumes its progress: every write below leaves it out.
  const hadProgress = plan.snapshot.readProgress !== undefined;
  const snapshot = withoutProgress(plan.snapshot);
  let diff = plan.diff;
  if (method === 'im.dialog.users.list' && diff.left.length > 0) {
    // im.dialog.users.list never lists deactivated accounts, while Bitrix24 keeps their
    // membership (docs/bitrix24.md §10): a missing member is a leave only when the account is
    // active or gone. Without details, nothing can be told apart.
    if (details === undefined) {
      return {
        result: failedResult(chatId, {
          code: 'leaves_unverified',
          message: `${diff.left.length} member(s) missing from im.dialog.users.list could not be checked for deactivation`,
          retryable: true,
        }),
      };
    }
    diff = {
      joined: diff.joined,
      left: diff.left.filter((id) => details.get(id)?.active !== false),
    };
  }
  const membersRead = plan.members.length;
  // A flag the read disproves: the hold, the access loss, or the retirement of a chat back in
  // the set (left standing, it would show retired and make its next departure silent).
  const stale =
    snapshot.held !== undefined ||
    snapshot.accessLostAt !== undefined ||
    snapshot.retiredAt !== undefined ||
    hadProgress;
  const decision = decideBreaker(diff, snapshot.members.length, snapshot.held, context.breaker);
  if (decision.action === 'hold') {
    if (decision.isNew) {
      return {
        base: snapshot,
        input: {
          kind: 'hold',
          observedAt,
          joined: diff.joined,
          left: diff.left,
          observedCount: membersRead,
          breaker: context.breaker,
        },
      };
    }
    const held = chatResult(chatId, 'held', { membersRead, heldLeft: diff.left.length });
    if (snapshot.accessLostAt === undefined && snapshot.retiredAt === undefined && !hadProgress) {
      return { result: held };
    }
    const { accessLostAt: _cleared, retiredAt: _back, ...kept } = snapshot;
    return {
      result: held,
      save: { base: snapshot, next: { ...kept, version: snapshot.version + 1 } },
    };
  }
  if (isEmptyDiff(diff)) {
    const unchanged = chatResult(chatId, 'unchanged', { membersRead });
    if (!stale) return { result: unchanged };
    // The hold, the access loss or the retirement went away with nothing to announce: clear it.
    const { accessLostAt: _lost, held: _held, retiredAt: _retired, ...kept } = snapshot;
    return {
      result: unchanged,
      save: {
        base: snapshot,
        next: { ...kept, version: snapshot.version + 1, observedAt, method },
      },
    };
  }
  const heldSince = decision.action === 'apply_released' ? snapshot.held?.detectedAt : undefined;
  const changed = [...diff.joined, ...diff.left];
  return {
    base: snapshot,
    input: {
      kind: 'apply',
      observedAt,
      ...readStartOf(plan),
      method,
      joined: diff.joined,
      left: diff.left,
      ...(heldSince === undefined ? {} : { heldSince }),
      ...(details === undefined
        ? {}
        : { details: changed.flatMap((id) => details.get(id) ?? []).sort((a, b) => a.id - b.id) }),
    },
  };
}

function withoutProgress(snapshot: Snapshot): Snapshot {
  const { readProgress: _progress, ...rest } = snapshot;
  return rest;
}

/** The committed state of a chat never synced: what a baseline is recorded on. */
function emptySnapshot(portalId: string, chatId: ChatId, observedAt: string): Snapshot {
  return {
    portalId,
    chatId,
    members: [],
    version: 0,
    contentHash: contentHash([]),
    observedAt,
    sequence: 0,
  };
}

/** The read's start, recorded with the change it found (never after the run's observation). */
function readStartOf(plan: { readonly startedAt?: string }): { readStartedAt?: string } {
  return plan.startedAt === undefined ? {} : { readStartedAt: plan.startedAt };
}

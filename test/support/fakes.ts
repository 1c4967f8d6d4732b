/**
 * In-memory implementations of the core's ports for tests. Each honours its port's contract
 * (functions/core/ports.ts) exactly, and checks the caller keeps its side of it.
 */
import type { OutgoingEvent } from '../../functions/core/cloud-event.js';
import {
  PublishError,
  SnapshotConflictError,
  SnapshotUnreadableError,
} from '../../functions/core/errors.js';
import { contentHash, isSortedUnique } from '../../functions/core/member-set.js';
import type {
  ChatId,
  ChatRead,
  ReadMethod,
  Snapshot,
  UserDetails,
  UserId,
} from '../../functions/core/model.js';
import type {
  Clock,
  EventPublisher,
  MemberReader,
  ReadMembersOptions,
  SnapshotStore,
  StoredState,
} from '../../functions/core/ports.js';

export function complete(
  chatId: ChatId,
  memberIds: readonly UserId[],
  method: ReadMethod = 'im.chat.user.list',
): ChatRead {
  return { kind: 'complete', chatId, memberIds, method };
}

export function noAccess(chatId: ChatId, code = 'ACCESS_ERROR'): ChatRead {
  return { kind: 'no_access', chatId, code, message: 'no permission to read the chat' };
}

export function failedRead(
  chatId: ChatId,
  code = 'QUERY_LIMIT_EXCEEDED',
  retryable = true,
): ChatRead {
  return { kind: 'failed', chatId, code, message: 'read failed', retryable };
}

/** IDs `from..to` inclusive. */
export function range(from: number, to: number): UserId[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/**
 * A Bitrix24 portal as the core sees it. Each chat has a script of reads consumed one per
 * `readMembers` call; the last one repeats. Unscripted chats come back `failed`, as the port
 * requires for a single chat's failure (it never throws for one chat).
 */
export class FakeMemberReader implements MemberReader {
  readonly readMembersCalls: ChatId[][] = [];
  /** The options of each `readMembers` call. */
  readonly readOptions: ReadMembersOptions[] = [];
  readonly detailsCalls: UserId[][] = [];
  /** Details served by `readUserDetails`; users absent here are unknown to the portal. */
  readonly users = new Map<UserId, UserDetails>();
  private readonly scripts = new Map<ChatId, ChatRead[]>();
  private requests = 0;
  private readError: Error | undefined;
  private detailsError: Error | undefined;

  /** Replaces the chat's script. */
  script(chatId: ChatId, ...reads: ChatRead[]): this {
    this.scripts.set(chatId, [...reads]);
    return this;
  }

  /** Shorthand: the chat reads completely as `memberIds` from now on. */
  members(chatId: ChatId, memberIds: readonly UserId[], method?: ReadMethod): this {
    return this.script(chatId, complete(chatId, memberIds, method));
  }

  user(details: UserDetails): this {
    this.users.set(details.id, details);
    return this;
  }

  /** Makes every `readMembers` throw (e.g. the portal's credentials are rejected). */
  failReadsWith(error: Error | undefined): this {
    this.readError = error;
    return this;
  }

  failDetailsWith(error: Error | undefined): this {
    this.detailsError = error;
    return this;
  }

  async readMembers(
    chatIds: readonly ChatId[],
    options: ReadMembersOptions = {},
  ): Promise<Map<ChatId, ChatRead>> {
    if (chatIds.length > 50) throw new Error(`readMembers got ${chatIds.length} chats (max 50)`);
    this.readMembersCalls.push([...chatIds]);
    this.readOptions.push(options);
    this.requests += 1;
    if (this.readError !== undefined) throw this.readError;
    const reads = new Map<ChatId, ChatRead>();
    for (const chatId of chatIds) {
      const script = this.scripts.get(chatId);
      const read = script && script.length > 1 ? script.shift() : script?.[0];
      reads.set(chatId, read ?? failedRead(chatId, 'unscripted'));
    }
    return reads;
  }

  async readUserDetails(userIds: readonly UserId[]): Promise<Map<UserId, UserDetails>> {
    this.detailsCalls.push([...userIds]);
    this.requests += Math.max(1, Math.ceil(userIds.length / 50));
    if (this.detailsError !== undefined) throw this.detailsError;
    const found = new Map<UserId, UserDetails>();
    for (const id of userIds) {
      const details = this.users.get(id);
      if (details !== undefined) found.set(id, details);
    }
    return found;
  }

  requestCount(): number {
    return this.requests;
  }
}

export interface SaveCall {
  readonly snapshot: Snapshot;
  readonly expected: StoredState;
  readonly outcome: 'written' | 'unchanged' | 'conflict' | 'error';
}

/**
 * The conditional-save contract: a save succeeds only when the stored version and pending
 * change ID equal `expected` (`version: undefined`: nothing committed yet), else
 * {@link SnapshotConflictError}; a save that changes neither members, method, hold, access flag
 * nor pending change writes nothing. Stored snapshots are copies, so callers cannot mutate them
 * afterwards. Also rejects snapshots that break the model (unsorted members, wrong hash, a
 * version that neither keeps the expected one with a pending change nor commits the next):
 * those are caller bugs. Failures can be injected before a write or after it (a lost answer).
 */
export class InMemorySnapshotStore implements SnapshotStore {
  readonly saves: SaveCall[] = [];
  readonly loads: ChatId[][] = [];
  readonly cursors: { chatId: ChatId; pendingId: string; published: number }[] = [];
  private readonly rows = new Map<string, Snapshot>();
  private readonly pendingFailures: {
    error: Error;
    afterWrite: boolean;
    of: 'any' | 'record' | 'commit';
  }[] = [];
  private readonly corrupted = new Map<string, string>();

  /** Stores a snapshot directly (test setup), bypassing the version check. */
  put(snapshot: Snapshot): this {
    this.rows.set(key(snapshot.portalId, snapshot.chatId), structuredClone(snapshot));
    return this;
  }

  get(portalId: string, chatId: ChatId): Snapshot | undefined {
    const row = this.rows.get(key(portalId, chatId));
    return row === undefined ? undefined : structuredClone(row);
  }

  /** The chat's stored snapshot exists but can no longer be read back (corrupt body, lost shard). */
  corrupt(portalId: string, chatId: ChatId, reason = 'body hash mismatch'): this {
    this.corrupted.set(key(portalId, chatId), reason);
    return this;
  }

  /**
   * The next save (`of: 'record'`: the next that records a pending change; `'commit'`: the next
   * without one) throws `error`: before writing (a crash, an outage), or with `afterWrite` after
   * the write took effect (the answer was lost).
   */
  failNextSaveWith(
    error: Error,
    options: { afterWrite?: boolean; of?: 'any' | 'record' | 'commit' } = {},
  ): this {
    this.pendingFailures.push({
      error,
      afterWrite: options.afterWrite === true,
      of: options.of ?? 'any',
    });
    return this;
  }

  /** Saves that wrote something. */
  writes(): SaveCall[] {
    return this.saves.filter((s) => s.outcome === 'written');
  }

  async loadMany(portalId: string, chatIds: readonly ChatId[]): Promise<Map<ChatId, Snapshot>> {
    this.loads.push([...chatIds]);
    const found = new Map<ChatId, Snapshot>();
    const unreadable = new Map<ChatId, string>();
    for (const chatId of chatIds) {
      const reason = this.corrupted.get(key(portalId, chatId));
      const row = this.get(portalId, chatId);
      if (reason !== undefined) unreadable.set(chatId, `${key(portalId, chatId)}: ${reason}`);
      else if (row !== undefined) found.set(chatId, row);
    }
    if (unreadable.size > 0) throw new SnapshotUnreadableError(found, unreadable);
    return found;
  }

  async save(snapshot: Snapshot, expected: StoredState): Promise<void> {
    const record = (outcome: SaveCall['outcome']): void => {
      this.saves.push({ snapshot: structuredClone(snapshot), expected, outcome });
    };
    const kind = snapshot.pending ? 'record' : 'commit';
    const at = this.pendingFailures.findIndex((f) => f.of === 'any' || f.of === kind);
    const failure = at < 0 ? undefined : this.pendingFailures.splice(at, 1)[0];
    if (failure !== undefined && !failure.afterWrite) {
      record('error');
      throw failure.error;
    }
    checkModel(snapshot, expected);
    const k = key(snapshot.portalId, snapshot.chatId);
    const current = this.rows.get(k);
    if (!matches(current, expected)) {
      record('conflict');
      throw new SnapshotConflictError(snapshot.portalId, snapshot.chatId, expected.version);
    }
    if (current !== undefined && sameState(current, snapshot)) {
      record('unchanged');
    } else {
      this.rows.set(k, structuredClone(snapshot));
      record('written');
    }
    if (failure !== undefined) throw failure.error;
  }

  async recordPublished(
    portalId: string,
    chatId: ChatId,
    pendingId: string,
    published: number,
  ): Promise<void> {
    const k = key(portalId, chatId);
    const current = this.rows.get(k);
    if (current?.pending?.id !== pendingId) {
      throw new SnapshotConflictError(portalId, chatId, current?.version);
    }
    if (!(published > current.pending.published && published <= current.pending.eventCount)) {
      throw new Error(`cursor ${published} after ${current.pending.published}`);
    }
    this.rows.set(k, { ...current, pending: { ...current.pending, published } });
    this.cursors.push({ chatId, pendingId, published });
  }

  async *list(portalId: string): AsyncIterable<Snapshot> {
    for (const row of this.rows.values()) {
      if (row.portalId === portalId) yield structuredClone(row);
    }
  }

  async listChatIds(portalId: string): Promise<ChatId[]> {
    return [...this.rows.values()].filter((r) => r.portalId === portalId).map((r) => r.chatId);
  }
}

function key(portalId: string, chatId: ChatId): string {
  return `${portalId}#${chatId}`;
}

/** Version 0 (or undefined): nothing committed; the record may be absent or hold only progress. */
function matches(current: Snapshot | undefined, expected: StoredState): boolean {
  return (
    (current?.version ?? 0) === (expected.version ?? 0) &&
    current?.pending?.id === expected.pendingId
  );
}

function checkModel(snapshot: Snapshot, expected: StoredState): void {
  if (!isSortedUnique(snapshot.members)) throw new Error('snapshot members are not canonical');
  if (snapshot.contentHash !== contentHash(snapshot.members)) {
    throw new Error('snapshot contentHash does not match its members');
  }
  const version = (expected.version ?? 0) + (snapshot.pending || snapshot.readProgress ? 0 : 1);
  if (snapshot.version !== version) {
    throw new Error(`snapshot version ${snapshot.version} after ${expected.version ?? 'none'}`);
  }
}

function sameState(a: Snapshot, b: Snapshot): boolean {
  return (
    a.contentHash === b.contentHash &&
    a.method === b.method &&
    a.accessLostAt === b.accessLostAt &&
    a.pending?.id === b.pending?.id &&
    a.readProgress?.lastId === b.readProgress?.lastId &&
    JSON.stringify(a.held) === JSON.stringify(b.held)
  );
}

/**
 * Records acknowledged events. `failNext` makes the next publish calls throw
 * {@link PublishError} naming every event of the call, with none acknowledged. `failFor` fails
 * single events the way SNS fails batch entries: the others are acknowledged, the error names
 * only the failed ones.
 */
export class RecordingPublisher implements EventPublisher {
  /** Every acknowledged event, in publish order. */
  readonly published: OutgoingEvent[] = [];
  /** Each publish call's events, acknowledged or not. */
  readonly calls: OutgoingEvent[][] = [];
  private failures = 0;
  private failWhen: ((event: OutgoingEvent) => boolean) | undefined;

  failNext(times = 1): this {
    this.failures += times;
    return this;
  }

  /** Fails every event for which `predicate` holds (e.g. one chat's events). */
  failFor(predicate: ((event: OutgoingEvent) => boolean) | undefined): this {
    this.failWhen = predicate;
    return this;
  }

  async publish(events: readonly OutgoingEvent[]): Promise<void> {
    this.calls.push([...events]);
    if (this.failures > 0) {
      this.failures -= 1;
      throw new PublishError(
        'SNS rejected the batch',
        events.map((e) => e.event.id),
      );
    }
    const failed = events.filter((e) => this.failWhen?.(e) === true);
    this.published.push(...events.filter((e) => !failed.includes(e)));
    if (failed.length > 0) {
      throw new PublishError(
        `${failed.length} of ${events.length} events were not acknowledged`,
        failed.map((e) => e.event.id),
      );
    }
  }

  ids(): string[] {
    return this.published.map((e) => e.event.id);
  }

  /** Acknowledged events of one type, in publish order. */
  ofType(type: string): OutgoingEvent[] {
    return this.published.filter((e) => e.event.type === type);
  }

  clear(): void {
    this.published.length = 0;
    this.calls.length = 0;
  }
}

export class FixedClock implements Clock {
  private current: Date;
  constructor(iso = '2026-01-05T10:00:00.000Z') {
    this.current = new Date(iso);
  }
  now(): Date {
    return new Date(this.current);
  }
  set(iso: string): this {
    this.current = new Date(iso);
    return this;
  }
  advance(ms: number): this {
    this.current = new Date(this.current.getTime() + ms);
    return this;
  }
}

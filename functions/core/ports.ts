import type { OutgoingEvent } from './cloud-event.js';
import type { ChatId, ChatRead, KeysetProgress, Snapshot, UserDetails, UserId } from './model.js';
import type { ChatMessage } from './system-messages.js';

/** Reads Bitrix24. Implemented by `functions/bitrix24/`. */
export interface MemberReader {
  /**
   * Reads the member-ID lists of up to 50 chats (one `batch` request in steady state).
   * Never throws for a single chat's failure: that chat comes back as `failed`/`no_access`.
   * Throws only when nothing could be read (e.g. auth failure for the whole portal).
   */
  readMembers(
    chatIds: readonly ChatId[],
    options?: ReadMembersOptions,
  ): Promise<Map<ChatId, ChatRead>>;
  /** Details for the given users; unknown users are absent from the map. */
  readUserDetails(userIds: readonly UserId[]): Promise<Map<UserId, UserDetails>>;
  /**
   * The recent messages of chats whose membership changed, back to each request's `since` (a
   * bounded number of pages). A chat whose messages could not be read maps to undefined; never
   * throws. Absent: the reader cannot read messages and events carry no attribution.
   */
  readMessages?(
    requests: readonly MessageReadRequest[],
  ): Promise<Map<ChatId, readonly ChatMessage[] | undefined>>;
  /** HTTP requests made so far (for reports and metrics). */
  requestCount(): number;
}

/** One chat's messages to read: those after `since` (the previous read; null: none). */
export interface MessageReadRequest {
  readonly chatId: ChatId;
  readonly since: string | null;
}

export interface ReadMembersOptions {
  /** Keyset reads to go on with instead of starting over. */
  readonly resume?: ReadonlyMap<ChatId, KeysetProgress> | undefined;
  /**
   * Epoch ms after which a keyset read starts no further page and comes back `partial` (time is
   * kept back for syncing the other chats). Undefined: read to the end.
   */
  readonly keysetStopAt?: number | undefined;
}

/** Persists snapshots. Implemented by `functions/adapters/dynamodb-snapshot-store.ts`. */
export interface SnapshotStore {
  /**
   * Batched load (BatchGetItem, 100 keys). Chats never synced are absent from the map.
   * Throws {@link SnapshotUnreadableError} when some stored snapshots exist but cannot be read
   * back (corrupt body, missing shard): it carries the ones that could, so only those chats fail.
   */
  loadMany(portalId: string, chatIds: readonly ChatId[]): Promise<Map<ChatId, Snapshot>>;
  /**
   * Conditional save: succeeds only if the stored version and pending change ID equal
   * `expected` (`version` 0 or undefined: nothing committed yet, the record absent or holding only
   * a first read's progress; `pendingId: undefined`: no change pending), else throws
   * {@link SnapshotConflictError}. A snapshot with a `pending` change or `readProgress` keeps the
   * expected version; any other commits `version + 1`.
   * Saving a snapshot whose members, method, held change, access flag and pending change are
   * unchanged must write nothing.
   */
  save(snapshot: Snapshot, expected: StoredState): Promise<void>;
  /**
   * Records the publish cursor of the chat's pending change `pendingId`. Two runs finishing the
   * same change may move it backwards: harmless, the next attempt re-publishes the same IDs.
   * Throws {@link SnapshotConflictError} when that change is no longer pending.
   */
  recordPublished(
    portalId: string,
    chatId: ChatId,
    pendingId: string,
    published: number,
  ): Promise<void>;
  /** All snapshots of a portal (for `status`); may be slow. */
  list(portalId: string): AsyncIterable<Snapshot>;
  /** The IDs of every chat of the portal with a stored snapshot (keys only: cheap). */
  listChatIds(portalId: string): Promise<ChatId[]>;
}

/** What a conditional save expects to find stored. */
export interface StoredState {
  readonly version: number | undefined;
  readonly pendingId?: string;
}

/** Publishes events; resolves only after every event is acknowledged. */
export interface EventPublisher {
  /**
   * Throws {@link PublishError} if any event could not be published after retries. With
   * `deadlineAt` (epoch ms), sends no batch and starts no retry wait that would pass it: what is
   * left is named in the error, with `deadlineReached`.
   */
  publish(events: readonly OutgoingEvent[], options?: PublishOptions): Promise<void>;
}

export interface PublishOptions {
  readonly deadlineAt?: number | undefined;
}

export interface Clock {
  now(): Date;
}

/**
 * The domain model of the membership sync. Pure data: no AWS, no HTTP.
 *
 * A portal is identified by its configured `portalId` (a short slug used in keys, logs and
 * message groups) and its event `source` (by default its first base URL,
 * `https://example.bitrix24.com`).
 * Bitrix24 user and chat IDs are positive integers.
 */

export type UserId = number;
export type ChatId = number;

export interface PortalRef {
  /** Slug from the config, e.g. `main`. Used in DynamoDB keys and SQS message groups. */
  readonly portalId: string;
  /**
   * The CloudEvents `source`: the portal's stable identity, which event IDs hash. Its first base
   * URL (no webhook path) by default; unlike the configured `url` it survives a move to a new
   * domain.
   */
  readonly source: string;
}

/** User details as known from Bitrix24 (`im.user.list.get` / `im.dialog.users.list`). */
export interface UserDetails {
  readonly id: UserId;
  readonly name?: string;
  readonly firstName?: string;
  readonly lastName?: string;
  readonly workPosition?: string | null;
  readonly active?: boolean;
  readonly bot?: boolean;
  readonly extranet?: boolean;
  readonly network?: boolean;
  readonly connector?: boolean;
  readonly externalAuthId?: string;
  readonly type?: string;
}

/** Which Bitrix24 method produced a member list. The two disagree on dismissed users. */
export type ReadMethod = 'im.chat.user.list' | 'im.dialog.users.list';

/**
 * The outcome of reading one chat's member list.
 * Only `complete` carries data a diff may use; every other kind must keep the snapshot.
 */
export type ChatRead =
  | {
      readonly kind: 'complete';
      readonly chatId: ChatId;
      readonly memberIds: readonly UserId[];
      readonly method: ReadMethod;
      /**
       * When the read began: the start of the request that read the list (a keyset read: its
       * first page, across invocations). A change it finds happened after the previous read's
       * start, so the next window starts here. Absent: the run's observation time stands in.
       */
      readonly startedAt?: string;
    }
  /** `im.chat.user.list` answered `[]`: Bitrix24's "no permission / not visible" answer. */
  | {
      readonly kind: 'no_access';
      readonly chatId: ChatId;
      readonly code: string;
      readonly message: string;
    }
  /** A keyset read stopped for time: not a member list, only where to go on from. */
  | {
      readonly kind: 'partial';
      readonly chatId: ChatId;
      readonly progress: KeysetProgress;
    }
  /** The read failed (transport, rate limit exhausted, malformed body, partial read...). */
  | {
      readonly kind: 'failed';
      readonly chatId: ChatId;
      readonly code: string;
      readonly message: string;
      /** Whether reading again may succeed; false when the same read would fail the same way. */
      readonly retryable: boolean;
    };

/**
 * How far a keyset read of `im.dialog.users.list` got before its invocation ran out of time:
 * the IDs read so far (ascending) and the last one, the next page's `LAST_ID`. The next attempt
 * goes on from it instead of starting over, so a chat too big for one invocation is read across
 * several.
 */
export interface KeysetProgress {
  readonly lastId: UserId;
  readonly memberIds: readonly UserId[];
  /** When the read began (a read resumed from progress older than a limit starts over). */
  readonly startedAt: string;
}

/** An event as the chat's next event names it (`event-chain.ts`): its ID and content digest. */
export interface ChainLink {
  readonly id: string;
  readonly digest: string;
}

/** A mass change the breaker refused to apply; kept on the snapshot until released. */
export interface HeldChange {
  /** Snapshot version the held diff was computed against. */
  readonly baseVersion: number;
  readonly detectedAt: string;
  readonly joined: readonly UserId[];
  readonly left: readonly UserId[];
  /** Member count of the read that tripped the breaker. */
  readonly observedCount: number;
  /** Set by an operator (`membership-sync release`); the next sync applies the change once. */
  readonly released: boolean;
}

/**
 * One logical snapshot per (portal, chat): the committed state, plus the change in flight.
 * `members` is sorted ascending and unique. `version` increases by one on every commit (0: nothing
 * committed yet: the first change is pending, or a first keyset read's progress is kept); `sequence` is the last event
 * sequence committed for the chat.
 */
export interface Snapshot {
  readonly portalId: string;
  readonly chatId: ChatId;
  readonly members: readonly UserId[];
  readonly version: number;
  /** sha256 hex of the sorted member list; lets a store skip unchanged shards. */
  readonly contentHash: string;
  readonly observedAt: string;
  readonly sequence: number;
  /**
   * The chat's last published event (`event-chain.ts`), which the next one names; absent before
   * the first event and on snapshots stored before the chain existed.
   */
  readonly lastEvent?: ChainLink;
  /** The method that produced `members` (absent on snapshots written before it was recorded). */
  readonly method?: ReadMethod;
  /** Present while a mass change is held by the breaker. */
  readonly held?: HeldChange;
  /** Set when the last read of the chat was refused/empty; cleared by the next complete read. */
  readonly accessLostAt?: string;
  /**
   * When the read that produced `members` began (`observedAt` is when it ended): the next
   * change's window starts here, since a change made while that read was under way may have
   * been missed by it. Absent on older snapshots (`observedAt` stands in).
   */
  readonly readStartedAt?: string;
  /**
   * Set when the chat left the configured (or discovered) set and its retirement was announced
   * (`chat.retired`): it is no longer read. Cleared when it comes back and is read again.
   */
  readonly retiredAt?: string;
  /**
   * The outbox: a change whose events are being published. Written before the first event is
   * published; whatever touches the chat next finishes it (same events, IDs and sequences) and
   * commits it before anything else happens to the chat. See `pending-change.ts`.
   */
  readonly pending?: PendingChange;
  /** A keyset read in progress (never together with `pending`); the next read goes on from it. */
  readonly readProgress?: KeysetProgress;
}

/**
 * A change recorded before its events are published: everything needed to rebuild exactly the
 * same events and the snapshot that commits them, from the committed snapshot it was made on.
 * ID lists are ascending and unique.
 */
export type PendingChange = PendingChangeCommon &
  (
    | {
        /** First sync of the chat: `joined` is the whole member list. */
        readonly kind: 'baseline';
        readonly method: ReadMethod;
      }
    | {
        readonly kind: 'apply';
        readonly method: ReadMethod;
        /**
         * Who made each change and when, decided before the change was recorded so re-publishes
         * are identical; absent in changes recorded before attribution existed (their events
         * carry no `attribution` field).
         */
        readonly attribution?: readonly AttributedChange[];
        /** Set when an operator released the change the breaker held since then. */
        readonly heldSince?: string;
      }
    | {
        /** A new mass change held by the breaker: announced, not applied. */
        readonly kind: 'hold';
        readonly observedCount: number;
        readonly breaker: BreakerSettings;
      }
    | { readonly kind: 'access_lost'; readonly code: string }
    /** The chat left the configured or discovered set while still readable: announced, not read again. */
    | { readonly kind: 'retire' }
  );

/** `data.attribution` of a member event (docs/events.md). */
export interface Attribution {
  /** Who did it; the member for a leave; null when the message names nobody. */
  readonly actorId: UserId | null;
  /** The system message's `date` (ISO 8601 UTC). */
  readonly at: string;
  readonly how: 'invited' | 'self_joined' | 'joined_via_link' | 'removed' | 'left';
  readonly messageId: number;
}

/** One changed member's attribution as recorded in a pending change. */
export interface AttributedChange {
  readonly userId: UserId;
  readonly attribution: Attribution | null;
}

interface PendingChangeCommon {
  /** Identifies this change (a hash of everything below); progress and commit are conditional on it. */
  readonly id: string;
  /** When the change was read: the events' `time`, the window's end, the commit's `observedAt`. */
  readonly observedAt: string;
  /** When the read that found it began: the commit's `readStartedAt`. */
  readonly readStartedAt?: string;
  readonly joined: readonly UserId[];
  readonly left: readonly UserId[];
  /** Details of changed users as looked up when the change was read; absent: unavailable. */
  readonly details?: readonly UserDetails[];
  /** How many events the change has. */
  readonly eventCount: number;
  /** Its last event: the snapshot's `lastEvent` once it is committed. */
  readonly lastEvent?: ChainLink;
  /** Events `[0, published)` in sequence order are acknowledged (the publish cursor). */
  readonly published: number;
  /** How the change came to light (hinted reads only); travels in its events. */
  readonly detectedBy?: DetectedBy;
}

/**
 * Why a chat is read in a hinted tick (docs/bitrix24.md, "Recent list as change hints"):
 *
 * - `hint`: the recent list named it (a newer `date_update`, or a `user_counter` that moved);
 * - `new`: no complete read of it is known yet;
 * - `retry`: unfinished business (its last read failed, or it is held or lost access);
 * - `reconcile`: not named, but its last full read is a reconcile period old (a change found
 *   there is one the hints missed);
 * - `learned`: not named and not due, but its reconcile reads have found changes the hints
 *   missed: read in a slot the tick's last batch would leave empty (`select-reads.ts`), so it
 *   costs no request; a change found there is a miss too;
 * - `full`: a full tick without usable hints (nothing can be said about the hints).
 */
export type ReadReason = 'hint' | 'new' | 'retry' | 'reconcile' | 'learned' | 'full';

/** A work item's chats by the reason they are read (hinted reads only). */
export type ReadReasons = Readonly<Partial<Record<ReadReason, readonly ChatId[]>>>;

/**
 * How a change came to light, so consumers know how late it may be (`data.detectedBy`, hinted
 * reads only): `hint` within a tick; `reconcile` by a full read of the chat, up to the reconcile
 * period plus a tick late; `baseline` the chat's first read.
 */
export type DetectedBy = 'hint' | 'reconcile' | 'baseline';

/** A unit of work: one portal, at most 50 chats (one `batch` request of `im.chat.user.list`). */
export interface WorkItem {
  readonly portalId: string;
  readonly chatIds: readonly ChatId[];
  /** ISO time of the schedule tick that planned this item. */
  readonly scheduledAt: string;
  /** Hinted reads: why each chat is read. Absent: full reads (every chat every tick). */
  readonly reasons?: ReadReasons;
  /**
   * Chats (of `chatIds`) that have a snapshot but left the configured or discovered set: each is
   * read once more to finish what it owes subscribers — its pending change, then
   * `chat.access_lost` if it cannot be read, else `chat.retired`.
   */
  readonly departed?: readonly ChatId[];
}

export const MAX_CHATS_PER_WORK_ITEM = 50;

/** Breaker thresholds: hold when removed > share × members AND removed > minRemoved. */
export interface BreakerSettings {
  readonly maxRemovedShare: number;
  readonly minRemoved: number;
}

export const DEFAULT_BREAKER: BreakerSettings = { maxRemovedShare: 0.5, minRemoved: 5 };

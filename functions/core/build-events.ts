import {
  type CloudEvent,
  dataschemaOf,
  type EventAttributes,
  type EventType,
  EventTypes,
  type OutgoingEvent,
  sourceOf,
} from './cloud-event.js';
import type { MemberDiff } from './diff-members.js';
import { eventId } from './event-id.js';
import { contentHash } from './member-set.js';
import type {
  Attribution,
  BreakerSettings,
  ChatId,
  DetectedBy,
  PortalRef,
  ReadMethod,
  UserDetails,
  UserId,
} from './model.js';

/**
 * Where one chat's events of one run start from. Every event of the run shares `baseVersion`,
 * `version` (= baseVersion + 1, the version of the snapshot saved after publishing) and `window`;
 * `sequence` counts on from `previousSequence`, one per event, in the order the builder returns.
 */
export interface ChatEventContext {
  readonly portal: PortalRef;
  readonly chatId: ChatId;
  /** Version of the snapshot the run started from; 0 when the chat had none. */
  readonly baseVersion: number;
  /** Last sequence used for the chat (the snapshot's `sequence`); 0 when none. */
  readonly previousSequence: number;
  /** `observedAt` of that snapshot; null when none. */
  readonly previousObservedAt: string | null;
  /** When this run read the chat: the events' `time` and the window's end. */
  readonly observedAt: string;
  /** How the change came to light (hinted reads only). */
  readonly detectedBy?: DetectedBy;
}

/** `(from, to]`: the change happened after the last applied observation and by this one. */
export interface EventWindow {
  readonly from: string | null;
  readonly to: string;
}

/** Fields every event's `data` carries. */
export interface ChatEventData {
  readonly portalId: string;
  /** Portal base URL (origin), equal to the event's `source`. */
  readonly portal: string;
  readonly chatId: ChatId;
  /** `chat<chatId>`, the form Bitrix24's im methods and links use. */
  readonly dialogId: string;
  readonly window: EventWindow;
  /** Per chat, +1 per published event. */
  readonly sequence: number;
  readonly baseVersion: number;
  readonly version: number;
  /**
   * Hinted reads only: `hint` (the recent list named the chat: found within a tick), `reconcile`
   * (a full read of the chat found it: up to the reconcile period plus a tick late) or
   * `baseline` (the chat's first read). Absent in full mode (every chat read every tick).
   */
  readonly detectedBy?: DetectedBy;
}

/** What Bitrix24 said about a user when the change was seen; `UserDetails` without `id`. */
export type UserInfo = Omit<UserDetails, 'id'>;

/**
 * Why a member is gone, as far as the sync can tell. Bitrix24 records neither actor nor cause:
 * - `user_deactivated`: the user's account is dismissed/deactivated (`active: false`);
 * - `left_or_removed`: the account is active, so they left or were removed (indistinguishable);
 * - `user_not_found`: Bitrix24 no longer knows the user (e.g. deleted);
 * - `unknown`: user details could not be fetched this run.
 */
export type LeaveReason = 'user_deactivated' | 'left_or_removed' | 'user_not_found' | 'unknown';

export interface MemberJoinedData extends ChatEventData {
  readonly userId: UserId;
  /** Null when details were unavailable or the user is unknown to Bitrix24. */
  readonly user: UserInfo | null;
  /** Which Bitrix24 method produced the list (they disagree on dismissed users). */
  readonly method: ReadMethod;
  /** Set when the change had been held by the breaker since then and an operator released it. */
  readonly heldSince?: string;
  /**
   * Who made the change and when, from the chat's system message; null when no qualifying
   * message exists. Absent only in events of changes recorded before attribution existed.
   */
  readonly attribution?: Attribution | null;
}

export interface MemberLeftData extends MemberJoinedData {
  readonly reason: LeaveReason;
}

export interface BaselineData extends ChatEventData {
  readonly method: ReadMethod;
  /** Members of the whole chat (all parts). */
  readonly memberCount: number;
  /** {@link contentHash} of the whole list: a consumer verifies reassembled parts against it. */
  readonly membersHash: string;
  /** 1-based. */
  readonly part: number;
  readonly parts: number;
  /** This part's slice of the ascending member list. */
  readonly members: readonly UserId[];
}

export interface AccessLostData extends ChatEventData {
  /** The reader's code, e.g. `ACCESS_ERROR` or `empty_member_list`; no free text (may leak). */
  readonly code: string;
  /** Members in the last snapshot, kept unchanged until access returns. */
  readonly lastKnownMemberCount: number;
}

export interface MassChangeHeldData extends ChatEventData {
  readonly previousCount: number;
  readonly observedCount: number;
  readonly joinedCount: number;
  readonly leftCount: number;
  readonly breaker: BreakerSettings;
  /** Hash of the full held leave set (ascending), the same as in the event ID. */
  readonly leftHash: string;
  /** At most {@link MAX_IDS_IN_HELD_EVENT}, ascending; `*Truncated` says whether more exist. */
  readonly left: readonly UserId[];
  readonly leftTruncated: boolean;
  readonly joined: readonly UserId[];
  readonly joinedTruncated: boolean;
}

/**
 * Members per baseline part. Keeps each SNS message far below the 256 KiB limit whatever the IDs:
 * 10,000 × (15 digits + comma) ≈ 160 KB plus a ~1 KB envelope.
 */
export const BASELINE_PART_SIZE = 10_000;

/** Cap on the IDs a mass_change_held event lists per side (≈ 16 KB worst case). */
export const MAX_IDS_IN_HELD_EVENT = 1_000;

export function dialogIdOf(chatId: ChatId): string {
  return `chat${chatId}`;
}

export function groupKeyOf(portalId: string, chatId: ChatId): string {
  return `${portalId}#${chatId}`;
}

export function chatSubject(chatId: ChatId): string {
  return `chat/${chatId}`;
}

export function memberSubject(chatId: ChatId, userId: UserId): string {
  return `chat/${chatId}/user/${userId}`;
}

/**
 * One event per member change: leaves first, then joins, each ascending by user ID; that order
 * fixes the sequence numbers, so a re-run of the same diff reproduces them.
 *
 * @param details users' details from one lookup; `undefined` when the lookup failed (events are
 *   published without details rather than blocking the sync: details are "where known").
 */
export function buildMemberEvents(
  ctx: ChatEventContext,
  diff: MemberDiff,
  options: {
    readonly method: ReadMethod;
    readonly details: ReadonlyMap<UserId, UserDetails> | undefined;
    readonly heldSince?: string;
    /** Per changed member; undefined: the change predates attribution (no field). */
    readonly attribution?: ReadonlyMap<UserId, Attribution | null> | undefined;
  },
): OutgoingEvent[] {
  const out: OutgoingEvent[] = [];
  const changes: [EventType, UserId][] = [
    ...diff.left.map((id): [EventType, UserId] => [EventTypes.left, id]),
    ...diff.joined.map((id): [EventType, UserId] => [EventTypes.joined, id]),
  ];
  for (const [type, userId] of changes) {
    const details = options.details?.get(userId);
    const data: MemberJoinedData | MemberLeftData = {
      ...commonData(ctx, out.length),
      userId,
      user: details === undefined ? null : userInfoOf(details),
      method: options.method,
      ...(options.heldSince === undefined ? {} : { heldSince: options.heldSince }),
      ...(type === EventTypes.left ? { reason: leaveReasonOf(options.details, details) } : {}),
      ...(options.attribution === undefined
        ? {}
        : { attribution: options.attribution.get(userId) ?? null }),
    };
    out.push(outgoing(ctx, type, data, { userId }));
  }
  return out;
}

/**
 * The first sync of a chat: its member list, not N joins. Split into ceil(n / partSize) parts
 * (at least one, so an empty chat still gets its baseline); each part has its own sequence and
 * an ID discriminated by `part/parts/membersHash`. The hash matters: every baseline has base
 * version 0, so after a failed save a re-read with other members must not reuse the first
 * attempt's IDs (consumers would drop the list the snapshot actually holds as a duplicate).
 *
 * @param members canonical (ascending, unique).
 */
export function buildBaselineEvents(
  ctx: ChatEventContext,
  members: readonly UserId[],
  method: ReadMethod,
  partSize: number = BASELINE_PART_SIZE,
): OutgoingEvent[] {
  const parts = Math.max(1, Math.ceil(members.length / partSize));
  const membersHash = contentHash(members);
  const out: OutgoingEvent[] = [];
  for (let part = 1; part <= parts; part++) {
    const data: BaselineData = {
      ...commonData(ctx, out.length),
      method,
      memberCount: members.length,
      membersHash,
      part,
      parts,
      members: members.slice((part - 1) * partSize, part * partSize),
    };
    out.push(outgoing(ctx, EventTypes.baseline, data, {}, `part/${part}/${parts}/${membersHash}`));
  }
  return out;
}

/** Announces that a chat became unreadable. The caller makes sure it is sent once per loss. */
export function buildAccessLostEvent(
  ctx: ChatEventContext,
  code: string,
  lastKnownMemberCount: number,
): OutgoingEvent {
  const data: AccessLostData = { ...commonData(ctx, 0), code, lastKnownMemberCount };
  return outgoing(ctx, EventTypes.accessLost, data, {});
}

export interface RetiredData extends ChatEventData {
  /** Members in the last snapshot: the chat's membership as subscribers last heard it. */
  readonly lastKnownMemberCount: number;
}

/**
 * Announces that a chat left the configured or discovered set while still readable: it is no
 * longer read, and its membership is known only up to `window.from` (the last applied read).
 */
export function buildRetiredEvent(
  ctx: ChatEventContext,
  lastKnownMemberCount: number,
): OutgoingEvent {
  const data: RetiredData = { ...commonData(ctx, 0), lastKnownMemberCount };
  return outgoing(ctx, EventTypes.retired, data, {});
}

/** Announces a diff the breaker held. The ID covers the held leave set, so a different hold on the
 * same base version is a different event, and an identical one (a re-run) the same. */
export function buildMassChangeHeldEvent(
  ctx: ChatEventContext,
  diff: MemberDiff,
  counts: { readonly previousCount: number; readonly observedCount: number },
  breaker: BreakerSettings,
): OutgoingEvent {
  const leftHash = contentHash(diff.left);
  const data: MassChangeHeldData = {
    ...commonData(ctx, 0),
    previousCount: counts.previousCount,
    observedCount: counts.observedCount,
    joinedCount: diff.joined.length,
    leftCount: diff.left.length,
    breaker: { maxRemovedShare: breaker.maxRemovedShare, minRemoved: breaker.minRemoved },
    leftHash,
    left: diff.left.slice(0, MAX_IDS_IN_HELD_EVENT),
    leftTruncated: diff.left.length > MAX_IDS_IN_HELD_EVENT,
    joined: diff.joined.slice(0, MAX_IDS_IN_HELD_EVENT),
    joinedTruncated: diff.joined.length > MAX_IDS_IN_HELD_EVENT,
  };
  return outgoing(ctx, EventTypes.massChangeHeld, data, {}, `left/${leftHash}`);
}

function commonData(ctx: ChatEventContext, index: number): ChatEventData {
  return {
    portalId: ctx.portal.portalId,
    // The stable source, not the current URL: a change re-published after a move must come out
    // identical to its first publish.
    portal: sourceOf(ctx.portal.source),
    chatId: ctx.chatId,
    dialogId: dialogIdOf(ctx.chatId),
    window: { from: ctx.previousObservedAt, to: ctx.observedAt },
    sequence: ctx.previousSequence + index + 1,
    baseVersion: ctx.baseVersion,
    version: ctx.baseVersion + 1,
    ...(ctx.detectedBy === undefined ? {} : { detectedBy: ctx.detectedBy }),
  };
}

function outgoing(
  ctx: ChatEventContext,
  type: EventType,
  data: ChatEventData,
  user: { readonly userId?: UserId },
  discriminator?: string,
): OutgoingEvent {
  const source = sourceOf(ctx.portal.source);
  const event: CloudEvent<ChatEventData> = {
    specversion: '1.0',
    id: eventId({
      source,
      chatId: ctx.chatId,
      ...(user.userId === undefined ? {} : { userId: user.userId }),
      type,
      baseVersion: ctx.baseVersion,
      ...(discriminator === undefined ? {} : { discriminator }),
    }),
    source,
    type,
    subject:
      user.userId === undefined ? chatSubject(ctx.chatId) : memberSubject(ctx.chatId, user.userId),
    time: ctx.observedAt,
    datacontenttype: 'application/json',
    dataschema: dataschemaOf(type),
    data,
  };
  return {
    event,
    attributes: attributesOf(event),
    groupKey: groupKeyOf(ctx.portal.portalId, ctx.chatId),
  };
}

/**
 * An event's SNS message attributes, read from the event alone: the sync publishes these, and a
 * replay of the archived event (parsed back from JSON) publishes the same.
 */
export function attributesOf(event: CloudEvent): EventAttributes {
  const data = event.data as Pick<MemberJoinedData, 'chatId'> &
    Partial<Pick<MemberJoinedData, 'userId' | 'user'>>;
  return {
    type: event.type,
    portal: event.source,
    chatId: data.chatId,
    ...(data.userId === undefined ? {} : { userId: data.userId }),
    ...(typeof data.user?.bot === 'boolean' ? { bot: data.user.bot } : {}),
    ...(typeof data.user?.extranet === 'boolean' ? { extranet: data.user.extranet } : {}),
  };
}

const USER_INFO_KEYS = [
  'name',
  'firstName',
  'lastName',
  'workPosition',
  'active',
  'bot',
  'extranet',
  'network',
  'connector',
  'externalAuthId',
  'type',
] as const satisfies readonly (keyof UserInfo)[];

// Copies only the modelled keys that have a value: an adapter's extra or `undefined` fields must
// not reach the event (its schema is closed).
function userInfoOf(details: UserDetails): UserInfo {
  const info: Record<string, unknown> = {};
  for (const key of USER_INFO_KEYS) {
    if (details[key] !== undefined) info[key] = details[key];
  }
  return info as UserInfo;
}

function leaveReasonOf(
  lookup: ReadonlyMap<UserId, UserDetails> | undefined,
  details: UserDetails | undefined,
): LeaveReason {
  if (lookup === undefined) return 'unknown';
  if (details === undefined) return 'user_not_found';
  return details.active === false ? 'user_deactivated' : 'left_or_removed';
}

import type {
  BaselineData,
  ChatEventData,
  EventWindow,
  MemberJoinedData,
} from '../core/build-events.js';
import { type CloudEvent, EventTypes } from '../core/cloud-event.js';
import { eventDigest } from '../core/event-chain.js';
import { contentHash, normalizeMemberIds } from '../core/member-set.js';
import type { ChatId, UserId } from '../core/model.js';

/**
 * The reference consumer of the membership events (docs/events.md, "Reference consumer"): what a
 * subscriber must do to turn an at-least-once, unordered stream into each chat's member set.
 *
 * - Dedupe on `source` + `id`.
 * - Per (`source`, `data.chatId`), sequences are dense from 1: only the event with sequence
 *   last + 1 applies; an event further ahead waits until the gap is filled.
 * - A baseline arrives in `parts` parts (one sequence each); members become known once every part
 *   is applied, as the union of the parts, checked against `membersHash`.
 * - `joined` adds, `left` removes; `access_lost`, `mass_change_held` and `retired` only take
 *   their sequence (a retired chat's members stay as last heard).
 *
 * Pure and in-memory: no AWS, no clock. What a correct producer never does is recorded as an
 * {@link Anomaly}, never thrown.
 */
export interface ReferenceConsumer {
  apply(event: CloudEvent): ApplyOutcome;
  /**
   * Starts a chat from a `membership-sync export` line instead of its baseline: the members as of
   * `sequence`. Afterwards events of that chat with a sequence up to `sequence` are duplicates
   * (the export already holds them) and later ones apply as usual. Seed before applying events
   * of the chat; seeding a chat that already has state throws.
   *
   * @param source the portal's CloudEvents `source`; defaults to the line's `source`.
   */
  seed(line: ExportLine, source?: string): void;
  /** Undefined until the chat's baseline is complete (or the chat was seeded). */
  members(source: string, chatId: ChatId): ReadonlySet<UserId> | undefined;
  /**
   * The members known at `time`: the baseline (or seed) and every change placed by then
   * (`entry.at <= time`): an attributed change at its system message's `date`
   * (`data.attribution.at`), any other at its observation window's end (`window.to`). A
   * window-placed change with `window.from < time < window.to` may or may not have happened yet;
   * it is not applied (see {@link uncertainAt}). Undefined when `time` is before the baseline's
   * observation, or no baseline is complete.
   */
  membersAt(source: string, chatId: ChatId, time: string | Date): ReadonlySet<UserId> | undefined;
  /**
   * The window-placed changes whose observation window contains `time` (happened in `(from, to]`,
   * `from < time < to`); an attributed change has an exact time and is never uncertain.
   */
  uncertainAt(source: string, chatId: ChatId, time: string | Date): readonly TimelineEntry[];
  /** The applied baseline/seed and member changes of a chat, by sequence. */
  timeline(source: string, chatId: ChatId): readonly TimelineEntry[];
  chats(): Iterable<ChatState>;
  anomalies(): readonly Anomaly[];
}

/**
 * - `applied`: this event was applied (and with it any buffered events it unblocked);
 * - `duplicate`: nothing applied: its `source` + `id` was seen before, its sequence is at or below
 *   a seed's, or another event already holds its sequence (also recorded as `sequence_conflict`);
 * - `buffered`: its sequence is ahead of the chat's next one; it applies once the gap fills.
 */
export type ApplyOutcome = 'applied' | 'duplicate' | 'buffered';

export interface ChatState {
  readonly source: string;
  readonly chatId: ChatId;
  /** Empty until `baselined`. */
  readonly members: ReadonlySet<UserId>;
  /** True once a complete baseline was applied or the chat was seeded. */
  readonly baselined: boolean;
  /** Sequence of the last applied event (or the seed's); 0 before any. */
  readonly sequence: number;
  /** Events waiting for a gap before them to fill. */
  readonly buffered: number;
}

/** A complete member list: the baseline, or the export line the chat was seeded from. */
export interface MemberListEntry {
  readonly kind: 'baseline' | 'seed';
  readonly sequence: number;
  readonly time: string;
  readonly window: EventWindow;
  /** A member list is known from its observation's end (`window.to`). */
  readonly at: string;
  readonly basis: 'window';
  readonly members: readonly UserId[];
}

/**
 * Where a timeline entry's `at` comes from: `attribution` — the Bitrix24 system message that
 * recorded the change (`data.attribution.at`, exact); `window` — the observation window's end
 * (the change happened after `window.from`, by `window.to`).
 */
export type TimeBasis = 'attribution' | 'window';

export interface MemberChangeEntry {
  readonly kind: 'joined' | 'left';
  readonly sequence: number;
  readonly time: string;
  readonly window: EventWindow;
  /** When the change is placed: `data.attribution.at` when present, else `window.to`. */
  readonly at: string;
  readonly basis: TimeBasis;
  readonly userId: UserId;
  readonly eventId: string;
  /** The event's `data` (user details, leave reason, heldSince…). */
  readonly data: Readonly<Record<string, unknown>>;
}

export type TimelineEntry = MemberListEntry | MemberChangeEntry;

export function isMemberChange(entry: TimelineEntry): entry is MemberChangeEntry {
  return entry.kind === 'joined' || entry.kind === 'left';
}

export type AnomalyKind =
  /** Two distinct events (different `id`) of one chat carry the same sequence. */
  | 'sequence_conflict'
  | 'redundant_join'
  | 'redundant_leave'
  /** A member event applied before the chat's member list was known. */
  | 'no_baseline'
  /** A complete baseline's members do not match its `membersHash`/`memberCount`. */
  | 'baseline_hash_mismatch'
  /** A baseline was abandoned before all its parts arrived (another list or event came next). */
  | 'baseline_incomplete'
  /** An event type this consumer does not know; it only takes its sequence. */
  | 'unknown_type'
  /**
   * An event's `data.previousId`/`previousDigest` do not name the chat's previous event: an
   * event is missing, reordered or altered (docs/events.md, "Verifying a stream").
   */
  | 'chain_broken';

export interface Anomaly {
  readonly kind: AnomalyKind;
  readonly source: string;
  readonly chatId: ChatId;
  readonly sequence: number;
  readonly eventId?: string;
  readonly detail: string;
}

/** One line of `membership-sync export`: a chat's committed membership. */
export interface ExportLine {
  readonly portalId: string;
  /** The portal's CloudEvents `source`, when the export knew the portal's URL. */
  readonly source?: string;
  readonly chatId: ChatId;
  /** Ascending; null while nothing is committed (the chat's baseline is still being published). */
  readonly members: readonly UserId[] | null;
  readonly version: number;
  /** Last event sequence the members reflect. */
  readonly sequence: number;
  /** When the members were observed. */
  readonly observedAt: string;
}

/** The event lacks what every event of this contract has (`source`, `id`, `data.chatId`, `data.sequence`). */
export class InvalidEventError extends Error {
  override readonly name = 'InvalidEventError';
}

interface PendingBaseline {
  readonly membersHash: string;
  readonly memberCount: number;
  readonly parts: number;
  readonly firstSequence: number;
  readonly received: Map<number, readonly UserId[]>;
}

interface Chat {
  readonly source: string;
  readonly chatId: ChatId;
  members: Set<UserId> | undefined;
  sequence: number;
  /** Sequences up to this one came with a seed. */
  seededThrough: number;
  readonly buffer: Map<number, CloudEvent>;
  baseline: PendingBaseline | undefined;
  /** The last applied event (undefined after a seed or before any): what the next one names. */
  last: { readonly id: string; readonly digest: string } | undefined;
  readonly timeline: TimelineEntry[];
}

const MEMBER_TYPES: ReadonlySet<string> = new Set([EventTypes.joined, EventTypes.left]);
const SEQUENCE_ONLY_TYPES: ReadonlySet<string> = new Set([
  EventTypes.accessLost,
  EventTypes.massChangeHeld,
  EventTypes.retired,
]);

export function createReferenceConsumer(): ReferenceConsumer {
  const seen = new Set<string>();
  const chats = new Map<string, Chat>();
  const anomalies: Anomaly[] = [];

  const keyOf = (source: string, chatId: ChatId) => `${source}\n${chatId}`;

  function chatOf(source: string, chatId: ChatId): Chat {
    const key = keyOf(source, chatId);
    let chat = chats.get(key);
    if (chat === undefined) {
      chat = {
        source,
        chatId,
        members: undefined,
        sequence: 0,
        seededThrough: 0,
        buffer: new Map(),
        baseline: undefined,
        last: undefined,
        timeline: [],
      };
      chats.set(key, chat);
    }
    return chat;
  }

  function anomaly(
    chat: Chat,
    kind: AnomalyKind,
    sequence: number,
    detail: string,
    eventId?: string,
  ): void {
    anomalies.push({
      kind,
      source: chat.source,
      chatId: chat.chatId,
      sequence,
      ...(eventId === undefined ? {} : { eventId }),
      detail,
    });
  }

  /** Applies the chat's next event; the caller has checked its sequence is `chat.sequence + 1`. */
  function applyNext(chat: Chat, event: CloudEvent<ChatEventData>): void {
    const { data } = event;
    checkChain(chat, event);
    chat.sequence = data.sequence;
    if (chat.baseline !== undefined && event.type !== EventTypes.baseline) {
      abandonBaseline(chat, data.sequence, `${event.type} came next`);
    }
    if (event.type === EventTypes.baseline) {
      applyBaselinePart(chat, event as CloudEvent<BaselineData>);
    } else if (MEMBER_TYPES.has(event.type)) {
      applyMemberChange(chat, event as CloudEvent<MemberJoinedData>);
    } else if (!SEQUENCE_ONLY_TYPES.has(event.type)) {
      anomaly(chat, 'unknown_type', data.sequence, `type ${event.type}`, event.id);
    }
  }

  /** An event that names its predecessor must name the one applied before it. */
  function checkChain(chat: Chat, event: CloudEvent<ChatEventData>): void {
    const { previousId, previousDigest } = event.data as {
      previousId?: string | null;
      previousDigest?: string | null;
    };
    if (previousId !== undefined) {
      const expected =
        chat.last ??
        (event.data.sequence === 1 ? null : undefined); /* unknown after a seed: not checked */
      if (
        expected !== undefined &&
        (previousId !== (expected?.id ?? null) || previousDigest !== (expected?.digest ?? null))
      ) {
        anomaly(
          chat,
          'chain_broken',
          event.data.sequence,
          `names ${previousId ?? 'no event'} as its predecessor, not ${expected?.id ?? 'none (the first event)'}`,
          event.id,
        );
      }
    }
    chat.last = { id: event.id, digest: eventDigest(event) };
  }

  function abandonBaseline(chat: Chat, sequence: number, why: string): void {
    const pending = chat.baseline;
    if (pending === undefined) return;
    anomaly(
      chat,
      'baseline_incomplete',
      sequence,
      `baseline ${pending.membersHash} from sequence ${pending.firstSequence} has ${pending.received.size} of ${pending.parts} parts; ${why}`,
    );
    chat.baseline = undefined;
  }

  function applyBaselinePart(chat: Chat, event: CloudEvent<BaselineData>): void {
    const { data } = event;
    if (
      chat.baseline !== undefined &&
      (chat.baseline.membersHash !== data.membersHash ||
        chat.baseline.parts !== data.parts ||
        chat.baseline.received.has(data.part))
    ) {
      abandonBaseline(
        chat,
        data.sequence,
        `part ${data.part}/${data.parts} of ${data.membersHash} came next`,
      );
    }
    chat.baseline ??= {
      membersHash: data.membersHash,
      memberCount: data.memberCount,
      parts: data.parts,
      firstSequence: data.sequence,
      received: new Map(),
    };
    const pending = chat.baseline;
    pending.received.set(data.part, data.members);
    if (pending.received.size < pending.parts) return;

    chat.baseline = undefined;
    const members = normalizeMemberIds([...pending.received.values()].flat());
    if (contentHash(members) !== pending.membersHash || members.length !== pending.memberCount) {
      anomaly(
        chat,
        'baseline_hash_mismatch',
        data.sequence,
        `${members.length} members in ${pending.parts} part(s) do not hash to membersHash ${pending.membersHash} (memberCount ${pending.memberCount})`,
        event.id,
      );
    }
    // The producer's list, even when it does not verify: the anomaly says it is suspect.
    chat.members = new Set(members);
    chat.timeline.push({
      kind: 'baseline',
      sequence: data.sequence,
      time: event.time,
      window: data.window,
      at: data.window.to,
      basis: 'window',
      members,
    });
  }

  function applyMemberChange(chat: Chat, event: CloudEvent<MemberJoinedData>): void {
    const { data } = event;
    const joined = event.type === EventTypes.joined;
    if (chat.members === undefined) {
      anomaly(
        chat,
        'no_baseline',
        data.sequence,
        `${joined ? 'join' : 'leave'} of user ${data.userId} before the chat's member list was known`,
        event.id,
      );
    } else if (joined && chat.members.has(data.userId)) {
      anomaly(
        chat,
        'redundant_join',
        data.sequence,
        `user ${data.userId} was already a member`,
        event.id,
      );
    } else if (!joined && !chat.members.has(data.userId)) {
      anomaly(
        chat,
        'redundant_leave',
        data.sequence,
        `user ${data.userId} was not a member`,
        event.id,
      );
    }
    if (joined) chat.members?.add(data.userId);
    else chat.members?.delete(data.userId);
    const attributedAt = attributionTimeOf(data);
    chat.timeline.push({
      kind: joined ? 'joined' : 'left',
      sequence: data.sequence,
      time: event.time,
      window: data.window,
      at: attributedAt ?? data.window.to,
      basis: attributedAt === undefined ? 'window' : 'attribution',
      userId: data.userId,
      eventId: event.id,
      data: data as unknown as Readonly<Record<string, unknown>>,
    });
  }

  function apply(event: CloudEvent): ApplyOutcome {
    const { source, id } = event;
    const data = event.data as Partial<ChatEventData> | null | undefined;
    const chatId = data?.chatId;
    const sequence = data?.sequence;
    if (
      typeof source !== 'string' ||
      typeof id !== 'string' ||
      !Number.isSafeInteger(chatId) ||
      !Number.isSafeInteger(sequence) ||
      (sequence as number) < 1
    ) {
      throw new InvalidEventError(
        'not a membership event: needs string source and id, integer data.chatId and data.sequence >= 1',
      );
    }
    const dedupeKey = `${source}\n${id}`;
    if (seen.has(dedupeKey)) return 'duplicate';
    seen.add(dedupeKey);

    const chat = chatOf(source, chatId as ChatId);
    const seq = sequence as number;
    if (seq <= chat.seededThrough) return 'duplicate';
    if (seq <= chat.sequence || chat.buffer.has(seq)) {
      const holder = chat.buffer.get(seq)?.id ?? 'an applied event';
      anomaly(chat, 'sequence_conflict', seq, `sequence ${seq} is already held by ${holder}`, id);
      return 'duplicate';
    }
    if (seq > chat.sequence + 1) {
      chat.buffer.set(seq, event);
      return 'buffered';
    }
    applyNext(chat, event as CloudEvent<ChatEventData>);
    for (
      let next = chat.buffer.get(chat.sequence + 1);
      next !== undefined;
      next = chat.buffer.get(chat.sequence + 1)
    ) {
      chat.buffer.delete(chat.sequence + 1);
      applyNext(chat, next as CloudEvent<ChatEventData>);
    }
    return 'applied';
  }

  function seed(line: ExportLine, source: string | undefined = line.source): void {
    if (source === undefined) {
      throw new TypeError(
        `export line of chat ${line.chatId} names no source: pass the portal's source`,
      );
    }
    const key = keyOf(source, line.chatId);
    if (chats.has(key)) {
      throw new Error(
        `chat ${line.chatId} of ${source} already has state; seed before applying its events`,
      );
    }
    // Nothing committed yet: the chat starts from its baseline events, as if not in the export.
    if (line.members === null) return;
    const chat = chatOf(source, line.chatId);
    const members = normalizeMemberIds(line.members);
    chat.members = new Set(members);
    chat.sequence = line.sequence;
    chat.seededThrough = line.sequence;
    chat.timeline.push({
      kind: 'seed',
      sequence: line.sequence,
      time: line.observedAt,
      window: { from: null, to: line.observedAt },
      at: line.observedAt,
      basis: 'window',
      members,
    });
  }

  function find(source: string, chatId: ChatId): Chat | undefined {
    return chats.get(keyOf(source, chatId));
  }

  function membersAt(source: string, chatId: ChatId, time: string | Date): Set<UserId> | undefined {
    const at = timestampOf(time);
    let members: Set<UserId> | undefined;
    for (const entry of find(source, chatId)?.timeline ?? []) {
      if (Date.parse(entry.at) > at) continue;
      switch (entry.kind) {
        case 'baseline':
        case 'seed':
          members = new Set(entry.members);
          break;
        case 'joined':
          members?.add(entry.userId);
          break;
        case 'left':
          members?.delete(entry.userId);
          break;
      }
    }
    return members;
  }

  return {
    apply,
    seed,
    members: (source, chatId) => find(source, chatId)?.members,
    membersAt,
    uncertainAt(source, chatId, time) {
      const at = timestampOf(time);
      return (find(source, chatId)?.timeline ?? []).filter(
        (e) =>
          isMemberChange(e) &&
          e.basis === 'window' &&
          Date.parse(e.window.to) > at &&
          (e.window.from === null || Date.parse(e.window.from) < at),
      );
    },
    timeline: (source, chatId) => find(source, chatId)?.timeline ?? [],
    *chats() {
      for (const chat of chats.values()) {
        yield {
          source: chat.source,
          chatId: chat.chatId,
          members: chat.members ?? new Set(),
          baselined: chat.members !== undefined,
          sequence: chat.sequence,
          buffered: chat.buffer.size,
        };
      }
    },
    anomalies: () => anomalies,
  };
}

/** `data.attribution.at` when it is a readable time; undefined otherwise (no attribution, or `null`). */
function attributionTimeOf(data: MemberJoinedData): string | undefined {
  const at: unknown = data.attribution?.at;
  return typeof at === 'string' && !Number.isNaN(Date.parse(at)) ? at : undefined;
}

function timestampOf(time: string | Date): number {
  const at = typeof time === 'string' ? Date.parse(time) : time.getTime();
  if (Number.isNaN(at)) throw new RangeError(`not a time: ${String(time)}`);
  return at;
}

import { type CloudEvent, type EventType, EventTypes } from '../core/cloud-event.js';
import { eventDigest } from '../core/event-chain.js';
import { eventId } from '../core/event-id.js';

/**
 * What `verify` finds wrong in a chat's events:
 * - `missing`: sequences absent before or between the events present;
 * - `conflicting_duplicate`: two copies of one event ID with different content;
 * - `sequence_conflict`: two different events with one sequence;
 * - `altered`: an event whose ID does not match its own fields (the deterministic ID formula),
 *   or whose content no longer matches the digest the next event holds of it;
 * - `chain_broken`: an event does not name the event before it (reordered, or a foreign event).
 */
export type StreamProblemKind =
  | 'missing'
  | 'conflicting_duplicate'
  | 'sequence_conflict'
  | 'altered'
  | 'chain_broken';

export interface StreamProblem {
  readonly kind: StreamProblemKind;
  readonly source: string;
  readonly chatId: number;
  readonly sequence: number;
  readonly eventId?: string;
  readonly detail: string;
}

export interface StreamVerification {
  readonly chats: number;
  readonly events: number;
  readonly problems: readonly StreamProblem[];
}

interface ChainData {
  readonly chatId: number;
  readonly sequence: number;
  readonly baseVersion: number;
  readonly userId?: number;
  readonly part?: number;
  readonly parts?: number;
  readonly membersHash?: string;
  readonly leftHash?: string;
  readonly previousId?: string | null;
  readonly previousDigest?: string | null;
}

/**
 * Checks every chat's events (any order, duplicates allowed): dense sequences from 1, one event
 * per sequence, each event's ID recomputed from its fields, and each link of the chain — an
 * event's `previousId`/`previousDigest` name the event before it by ID and by the digest of its
 * whole content, so a missing, reordered or edited event shows. The chat's last event has no
 * successor to vouch for its content: only its ID (its identity fields) is checked. Events of a
 * chat from before the chain existed carry no link and are checked for sequences and IDs only.
 */
export function verifyStream(events: readonly CloudEvent[]): StreamVerification {
  const byChat = new Map<string, CloudEvent[]>();
  for (const event of events) {
    const data = event.data as ChainData;
    const key = `${event.source}\n${data.chatId}`;
    const list = byChat.get(key) ?? [];
    list.push(event);
    byChat.set(key, list);
  }
  const problems: StreamProblem[] = [];
  let unique = 0;
  for (const chatEvents of byChat.values()) {
    const checked = verifyChat(chatEvents);
    unique += checked.events;
    problems.push(...checked.problems);
  }
  return { chats: byChat.size, events: unique, problems };
}

function verifyChat(events: readonly CloudEvent[]): { events: number; problems: StreamProblem[] } {
  const first = events[0] as CloudEvent;
  const source = first.source;
  const chatId = (first.data as ChainData).chatId;
  const problems: StreamProblem[] = [];
  const problem = (
    kind: StreamProblemKind,
    sequence: number,
    detail: string,
    id?: string,
  ): void => {
    problems.push({ kind, source, chatId, sequence, ...(id ? { eventId: id } : {}), detail });
  };

  // One copy per ID; a copy with other content is not a duplicate but a forgery or an edit.
  const byId = new Map<string, { event: CloudEvent; digest: string }>();
  for (const event of events) {
    const digest = eventDigest(event);
    const seen = byId.get(event.id);
    const sequence = (event.data as ChainData).sequence;
    if (!seen) byId.set(event.id, { event, digest });
    else if (seen.digest !== digest) {
      problem('conflicting_duplicate', sequence, 'two copies of this event differ', event.id);
    }
  }

  const bySequence = new Map<number, { event: CloudEvent; digest: string }>();
  for (const entry of byId.values()) {
    const data = entry.event.data as ChainData;
    if (entry.event.id !== expectedId(entry.event)) {
      problem('altered', data.sequence, 'its ID does not match its fields', entry.event.id);
    }
    const holder = bySequence.get(data.sequence);
    if (holder) {
      problem(
        'sequence_conflict',
        data.sequence,
        `held by both ${holder.event.id} and ${entry.event.id}`,
        entry.event.id,
      );
      continue;
    }
    bySequence.set(data.sequence, entry);
  }

  const sequences = [...bySequence.keys()].sort((a, b) => a - b);
  let previous: { sequence: number; id: string; digest: string } | undefined;
  for (const sequence of sequences) {
    const { event, digest } = bySequence.get(sequence) as { event: CloudEvent; digest: string };
    const data = event.data as ChainData;
    const expectedFrom = previous ? previous.sequence + 1 : 1;
    const chained = data.previousId !== undefined;
    // A chain may begin after an upgrade: its first linked event starts from whatever came before.
    if (sequence > expectedFrom && (previous !== undefined || chained)) {
      problem(
        'missing',
        sequence,
        `sequence${sequence - expectedFrom > 1 ? `s ${expectedFrom}–` : ' '}${sequence - 1} missing`,
      );
    } else if (chained) {
      const expectedLink = previous ?? (sequence === 1 ? null : undefined);
      if (expectedLink !== undefined && data.previousId !== (expectedLink?.id ?? null)) {
        problem(
          'chain_broken',
          sequence,
          `names ${data.previousId ?? 'no event'} as its predecessor, not ${expectedLink?.id ?? 'none'}`,
          event.id,
        );
      } else if (expectedLink && data.previousDigest !== expectedLink.digest) {
        problem(
          'altered',
          sequence - 1,
          `its content does not match the digest sequence ${sequence} holds of it`,
          expectedLink.id,
        );
      }
    }
    previous = { sequence, id: event.id, digest };
  }
  return { events: byId.size, problems };
}

/** The deterministic ID of an event, from its own fields (`core/event-id.ts`). */
function expectedId(event: CloudEvent): string {
  const data = event.data as ChainData;
  const discriminator =
    event.type === EventTypes.baseline
      ? `part/${data.part}/${data.parts}/${data.membersHash}`
      : event.type === EventTypes.massChangeHeld
        ? `left/${data.leftHash}`
        : undefined;
  return eventId({
    source: event.source,
    chatId: data.chatId,
    ...(data.userId === undefined ? {} : { userId: data.userId }),
    type: event.type as EventType,
    baseVersion: data.baseVersion,
    ...(discriminator === undefined ? {} : { discriminator }),
  });
}

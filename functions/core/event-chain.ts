import { createHash } from 'node:crypto';
import type { CloudEvent, OutgoingEvent } from './cloud-event.js';
import type { ChainLink } from './model.js';

/**
 * sha256 hex of the event's canonical JSON (object keys sorted at every depth, no whitespace).
 * Canonical, so a consumer that re-serializes an event (another key order) computes the same.
 */
export function eventDigest(event: CloudEvent): string {
  return createHash('sha256').update(canonicalJson(event)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Links a change's events, in sequence order, into the chat's chain: each event's
 * `data.previousId` and `data.previousDigest` name the event before it — for the first, the
 * chat's last published event (`previous`), `null` when the chat had none. A chat whose last
 * event is not known (its snapshot predates the chain) starts a chain here: its first event
 * carries neither field. Deterministic: the outbox rebuilds the same links.
 */
export function chainEvents(
  events: readonly OutgoingEvent[],
  previous: ChainLink | null | undefined,
): OutgoingEvent[] {
  let link = previous;
  return events.map((outgoing) => {
    const data = outgoing.event.data as Record<string, unknown>;
    const event: CloudEvent =
      link === undefined
        ? outgoing.event
        : {
            ...outgoing.event,
            data: { ...data, previousId: link?.id ?? null, previousDigest: link?.digest ?? null },
          };
    link = { id: event.id, digest: eventDigest(event) };
    return { ...outgoing, event };
  });
}

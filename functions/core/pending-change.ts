import { createHash } from 'node:crypto';
import {
  buildAccessLostEvent,
  buildBaselineEvents,
  buildMassChangeHeldEvent,
  buildMemberEvents,
  buildRetiredEvent,
  type ChatEventContext,
} from './build-events.js';
import type { OutgoingEvent } from './cloud-event.js';
import { chainEvents, eventDigest } from './event-chain.js';
import { contentHash } from './member-set.js';
import type {
  ChainLink,
  PendingChange,
  PortalRef,
  Snapshot,
  UserDetails,
  UserId,
} from './model.js';

/**
 * The outbox (docs/design.md, guarantee 1). A change is recorded on the chat's snapshot before
 * any of its events is published; the events and the snapshot that commits them are functions of
 * the committed snapshot and the pending change alone. So whoever finds a pending change (a
 * retry, the next tick, an overlapping run) rebuilds byte-identical events (same IDs, same
 * sequences), publishes those not yet acknowledged and commits, before it diffs anything new.
 */

/** A pending change without its `id`, `eventCount` and `published` cursor, which are derived. */
export type PendingChangeInput = WithoutDerived<PendingChange>;
type WithoutDerived<T> = T extends unknown
  ? Omit<T, 'id' | 'eventCount' | 'published' | 'lastEvent'>
  : never;

/**
 * The recorded form of a change (its events counted, its identity hashed, nothing published),
 * with those events: they do not depend on the derived fields, so the caller need not build them
 * again.
 */
export function recordPending(
  portal: PortalRef,
  snapshot: Snapshot,
  input: PendingChangeInput,
): { pending: PendingChange; events: OutgoingEvent[] } {
  const draft = { ...input, id: '', eventCount: 0, published: 0 } as PendingChange;
  const events = eventsOfPending(portal, snapshot, draft);
  const id = createHash('sha256')
    .update(JSON.stringify([snapshot.version, snapshot.sequence, input]))
    .digest('hex')
    .slice(0, 32);
  const last = events.at(-1);
  const lastEvent = last === undefined ? undefined : chainLinkOf(last);
  return {
    pending: { ...draft, id, eventCount: events.length, ...(lastEvent ? { lastEvent } : {}) },
    events,
  };
}

/** The chat's events of `pending`, in sequence order. Deterministic. */
export function eventsOfPending(
  portal: PortalRef,
  snapshot: Snapshot,
  pending: PendingChange,
): OutgoingEvent[] {
  const ctx: ChatEventContext = {
    portal,
    chatId: snapshot.chatId,
    baseVersion: snapshot.version,
    previousSequence: snapshot.sequence,
    // The previous read's start, not its end: a change made while it was under way is after it.
    previousObservedAt:
      snapshot.version === 0 ? null : (snapshot.readStartedAt ?? snapshot.observedAt),
    observedAt: pending.observedAt,
    ...(pending.detectedBy === undefined ? {} : { detectedBy: pending.detectedBy }),
  };
  // Before any event the chain starts at null; a snapshot from before the chain starts it anew.
  const previous = snapshot.lastEvent ?? (snapshot.sequence === 0 ? null : undefined);
  return chainEvents(unlinkedEventsOf(ctx, snapshot, pending), previous);
}

function unlinkedEventsOf(
  ctx: ChatEventContext,
  snapshot: Snapshot,
  pending: PendingChange,
): OutgoingEvent[] {
  switch (pending.kind) {
    case 'baseline':
      return buildBaselineEvents(ctx, pending.joined, pending.method);
    case 'apply':
      return buildMemberEvents(ctx, pending, {
        method: pending.method,
        details: detailsMap(pending.details),
        attribution:
          pending.attribution === undefined
            ? undefined
            : new Map(pending.attribution.map((a) => [a.userId, a.attribution])),
        ...(pending.heldSince === undefined ? {} : { heldSince: pending.heldSince }),
      });
    case 'hold':
      return [
        buildMassChangeHeldEvent(
          ctx,
          pending,
          { previousCount: snapshot.members.length, observedCount: pending.observedCount },
          pending.breaker,
        ),
      ];
    case 'access_lost':
      return [buildAccessLostEvent(ctx, pending.code, snapshot.members.length)];
    case 'retire':
      return [buildRetiredEvent(ctx, snapshot.members.length)];
  }
}

/** The committed snapshot once every event of `snapshot.pending` is acknowledged. */
export function commitPending(snapshot: Snapshot & { pending: PendingChange }): Snapshot {
  const { pending, ...base } = snapshot;
  const committed = pending.lastEvent ? { ...base, lastEvent: pending.lastEvent } : base;
  const version = committed.version + 1;
  const sequence = committed.sequence + pending.eventCount;
  switch (pending.kind) {
    case 'baseline':
    case 'apply': {
      const {
        held: _held,
        accessLostAt: _lost,
        retiredAt: _retired,
        readStartedAt: _started,
        ...kept
      } = committed;
      const members =
        pending.kind === 'baseline'
          ? [...pending.joined]
          : applyDiff(committed.members, pending.joined, pending.left);
      return {
        ...kept,
        members,
        contentHash: contentHash(members),
        version,
        sequence,
        observedAt: pending.observedAt,
        ...(pending.readStartedAt === undefined ? {} : { readStartedAt: pending.readStartedAt }),
        method: pending.method,
      };
    }
    case 'hold': {
      const { accessLostAt: _lost, retiredAt: _retired, ...kept } = committed;
      return {
        ...kept,
        version,
        sequence,
        held: {
          baseVersion: committed.version,
          detectedAt: pending.observedAt,
          joined: pending.joined,
          left: pending.left,
          observedCount: pending.observedCount,
          released: false,
        },
      };
    }
    case 'access_lost':
      // Members and observedAt stay: they describe the last complete read.
      return { ...committed, version, sequence, accessLostAt: pending.observedAt };
    case 'retire':
      // Members and observedAt stay: what subscribers last heard, as of the last applied read.
      return { ...committed, version, sequence, retiredAt: pending.observedAt };
  }
}

/** `members − left ∪ joined`, ascending. All three lists ascending and unique. */
export function applyDiff(
  members: readonly UserId[],
  joined: readonly UserId[],
  left: readonly UserId[],
): UserId[] {
  const gone = new Set(left);
  const out: UserId[] = [];
  let j = 0;
  for (const id of members) {
    if (gone.has(id)) continue;
    while (j < joined.length && (joined[j] as UserId) < id) out.push(joined[j++] as UserId);
    if (joined[j] === id) j++;
    out.push(id);
  }
  while (j < joined.length) out.push(joined[j++] as UserId);
  return out;
}

function detailsMap(
  details: readonly UserDetails[] | undefined,
): ReadonlyMap<UserId, UserDetails> | undefined {
  return details === undefined ? undefined : new Map(details.map((d) => [d.id, d]));
}

function chainLinkOf(outgoing: OutgoingEvent): ChainLink {
  return { id: outgoing.event.id, digest: eventDigest(outgoing.event) };
}

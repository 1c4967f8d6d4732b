import {
  buildAccessLostEvent,
  buildBaselineEvents,
  buildMassChangeHeldEvent,
  buildMemberEvents,
  type ChatEventContext,
} from '../../functions/core/build-events.js';
import { type CloudEvent, type OutgoingEvent, sourceOf } from '../../functions/core/cloud-event.js';
import { diffMembers, isEmptyDiff } from '../../functions/core/diff-members.js';
import { chainEvents, eventDigest } from '../../functions/core/event-chain.js';
import {
  type ChainLink,
  DEFAULT_BREAKER,
  type PortalRef,
  type UserId,
} from '../../functions/core/model.js';
import { randomIndex } from '../../local/simulator/seeded-random.js';

export const HISTORY_PORTAL: PortalRef = {
  portalId: 'acme',
  source: 'https://acme.bitrix24.com',
};
export const HISTORY_SOURCE = sourceOf(HISTORY_PORTAL.source);

/** A chat's member list as the portal had it when the producer observed it. */
export interface Observation {
  readonly time: string;
  readonly members: readonly UserId[];
}

export interface EventHistory {
  /** Every event in publish order. */
  readonly events: CloudEvent[];
  /** Per chat, the membership at each observation that produced member events or the baseline. */
  readonly truth: ReadonlyMap<number, readonly Observation[]>;
}

/**
 * A producer's history built with the real event builders, the way the sync uses them: per chat a
 * baseline (in parts of `partSize`), then steps of churn, lost access or a held mass change, one
 * observation per minute. Seeded: the same `random` gives the same history.
 */
export function generateHistory(
  random: () => number,
  options: {
    readonly chats: number;
    readonly steps: number;
    readonly partSize?: number;
    readonly start?: string;
    /** @default 1 */
    readonly firstChatId?: number;
  },
): EventHistory {
  const events: CloudEvent[] = [];
  const truth = new Map<number, Observation[]>();
  const start = Date.parse(options.start ?? '2026-03-03T13:00:00.000Z');
  const firstChatId = options.firstChatId ?? 1;
  for (let chatId = firstChatId; chatId < firstChatId + options.chats; chatId++) {
    let members = randomMembers(random, randomIndex(random, 12));
    let version = 0;
    let sequence = 0;
    let observedAt: string | null = null;
    // Linked as the sync links them (core/event-chain.ts).
    let last: ChainLink | null = null;
    const link = (built: readonly OutgoingEvent[]): CloudEvent[] => {
      const chained = chainEvents(built, last);
      const tail = chained.at(-1);
      if (tail) last = { id: tail.event.id, digest: eventDigest(tail.event) };
      return chained.map((e) => e.event);
    };
    const observations: Observation[] = [];
    truth.set(chatId, observations);
    const context = (time: string): ChatEventContext => ({
      portal: HISTORY_PORTAL,
      chatId,
      baseVersion: version,
      previousSequence: sequence,
      previousObservedAt: observedAt,
      observedAt: time,
    });
    for (let step = 0; step <= options.steps; step++) {
      const time = new Date(start + step * 60_000 + (chatId - firstChatId) * 1_000).toISOString();
      if (step === 0) {
        const baseline = buildBaselineEvents(
          context(time),
          members,
          'im.chat.user.list',
          options.partSize,
        );
        events.push(...link(baseline));
        ({ version, sequence, observedAt } = advance(version, sequence, baseline.length, time));
        observations.push({ time, members });
        continue;
      }
      const roll = random();
      if (roll < 0.1) {
        events.push(...link([buildAccessLostEvent(context(time), 'ACCESS_ERROR', members.length)]));
        ({ version, sequence } = advance(version, sequence, 1, time));
      } else if (roll < 0.15) {
        const held = { joined: [], left: members.slice(0, 1) };
        const counts = { previousCount: members.length, observedCount: members.length - 1 };
        events.push(
          ...link([buildMassChangeHeldEvent(context(time), held, counts, DEFAULT_BREAKER)]),
        );
        ({ version, sequence } = advance(version, sequence, 1, time));
      } else {
        const next = churn(random, members);
        const diff = diffMembers(members, next);
        if (isEmptyDiff(diff)) continue;
        const built = buildMemberEvents(context(time), diff, {
          method: 'im.chat.user.list',
          details: undefined,
        });
        events.push(...link(built));
        ({ version, sequence, observedAt } = advance(version, sequence, built.length, time));
        members = next;
        observations.push({ time, members });
      }
    }
  }
  return { events, truth };
}

function advance(version: number, sequence: number, events: number, time: string) {
  return { version: version + 1, sequence: sequence + events, observedAt: time };
}

function randomMembers(random: () => number, count: number): UserId[] {
  const ids = new Set<UserId>();
  while (ids.size < count) ids.add(1 + randomIndex(random, 40));
  return [...ids].sort((a, b) => a - b);
}

/** Each member leaves with probability 0.2; up to 3 of users 1..40 join. */
function churn(random: () => number, members: readonly UserId[]): UserId[] {
  const next = new Set(members.filter(() => random() >= 0.2));
  for (let i = randomIndex(random, 4); i > 0; i--) next.add(1 + randomIndex(random, 40));
  return [...next].sort((a, b) => a - b);
}

/** Fisher–Yates with the given random source; returns a new array. */
export function shuffled<T>(random: () => number, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomIndex(random, i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** `items` with about `share` of them delivered twice (the copy lands anywhere after a shuffle). */
export function withDuplicates<T>(random: () => number, items: readonly T[], share: number): T[] {
  return [...items, ...items.filter(() => random() < share)];
}

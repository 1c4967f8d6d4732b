import { describe, expect, it } from 'vitest';
import { verifyStream } from '../../functions/consumer/verify-stream.js';
import type { CloudEvent } from '../../functions/core/cloud-event.js';
import { createRandom } from '../../local/simulator/seeded-random.js';
import { generateHistory, shuffled, withDuplicates } from '../support/event-history.js';

const SEEDS = Array.from({ length: 20 }, (_, i) => 9_000 + i);

const TAMPERINGS = ['delete', 'edit', 'reorder', 'forge'] as const;
type Tamper = (typeof TAMPERINGS)[number];

/** One tampering of a random event (not the chat's last, whose content nothing vouches for). */
function tamper(
  random: () => number,
  events: readonly CloudEvent[],
  how: Tamper,
): { events: CloudEvent[]; chatId: number } {
  const lastOfChat = new Map<number, number>();
  for (const [i, e] of events.entries()) lastOfChat.set((e.data as { chatId: number }).chatId, i);
  const candidates = events.map((_, i) => i).filter((i) => ![...lastOfChat.values()].includes(i));
  const at = candidates[Math.floor(random() * candidates.length)] as number;
  const target = events[at] as CloudEvent;
  const data = target.data as { chatId: number; sequence: number; window: { to: string } };
  const out = [...events];
  switch (how) {
    case 'delete':
      out.splice(at, 1);
      break;
    case 'edit':
      // A field outside the ID formula: only the chain's digest can tell.
      out[at] = {
        ...target,
        data: { ...data, window: { ...data.window, to: '2020-01-01T00:00:00.000Z' } },
      };
      break;
    case 'reorder': {
      const next = out.findIndex(
        (e, i) => i > at && (e.data as { chatId: number }).chatId === data.chatId,
      );
      const other = out[next] as CloudEvent;
      const otherData = other.data as { sequence: number };
      out[at] = { ...target, data: { ...data, sequence: otherData.sequence } };
      out[next] = { ...other, data: { ...otherData, sequence: data.sequence } };
      break;
    }
    case 'forge':
      out.push({
        ...target,
        data: { ...data, window: { ...data.window, to: '2019-01-01T00:00:00.000Z' } },
      });
      break;
  }
  return { events: out, chatId: data.chatId };
}

describe('verifyStream', () => {
  it.each(SEEDS)(
    'passes an untouched stream in any order, duplicates included (seed %s)',
    (seed) => {
      const random = createRandom(seed);
      const { events } = generateHistory(random, { chats: 4, steps: 12, partSize: 5 });
      const delivered = withDuplicates(random, shuffled(random, events), 0.2);

      const result = verifyStream(delivered);

      expect(result.problems, `seed ${seed}`).toEqual([]);
      expect(result.events).toBe(events.length);
      expect(result.chats).toBe(4);
    },
  );

  for (const how of TAMPERINGS) {
    it.each(SEEDS)(`fails, naming the chat, after one event is ${how}d (seed %s)`, (seed) => {
      const random = createRandom(seed * 10 + TAMPERINGS.indexOf(how));
      const { events } = generateHistory(random, { chats: 3, steps: 10, partSize: 5 });
      const tampered = tamper(random, events, how);

      const result = verifyStream(shuffled(random, tampered.events));

      expect(result.problems.length, `seed ${seed}`).toBeGreaterThan(0);
      expect(
        result.problems.every((p) => p.chatId === tampered.chatId),
        `seed ${seed}`,
      ).toBe(true);
    });
  }

  it('names what went wrong and where', () => {
    const { events } = generateHistory(createRandom(42), { chats: 1, steps: 8 });
    const gone = events[3] as CloudEvent;
    const sequence = (gone.data as { sequence: number }).sequence;

    const result = verifyStream(events.filter((e) => e !== gone));

    expect(result.problems).toEqual([
      expect.objectContaining({ kind: 'missing', chatId: 1, sequence: sequence + 1 }),
    ]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../local/simulator/start-simulator.js';
import type { RunningSimulator } from '../../local/simulator/types.js';
import { call } from './rest-call.js';

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

describe('simulator hot paths on the benchmark portal', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({
      tls: false,
      rateLimit: false,
      seed: { chats: 10_000, membersPerChat: 50, largeChats: [200_000] },
    });
  });
  afterAll(() => sim.close());

  it('answers a batch of 50 im.chat.user.list in a few milliseconds', async () => {
    const timings: number[] = [];
    for (let round = 0; round < 20; round++) {
      const cmd = Object.fromEntries(
        Array.from({ length: 50 }, (_, i) => [
          `c${i}`,
          `im.chat.user.list?CHAT_ID=${2 + round * 50 + i}`,
        ]),
      );
      const started = performance.now();
      const answer = await call(sim, 'batch', { cmd });
      timings.push(performance.now() - started);
      expect(Object.keys(answer.body.result.result)).toHaveLength(50);
    }
    console.info(`batch of 50 im.chat.user.list: median ${median(timings).toFixed(1)} ms`);
    expect(median(timings)).toBeLessThan(50);
  });

  it('pages the 200,000-member chat by keyset in milliseconds per page', async () => {
    const chatId = 10_002;
    await call(sim, 'im.dialog.users.list', { DIALOG_ID: `chat${chatId}`, LAST_ID: 0, LIMIT: 200 });
    const timings: number[] = [];
    for (let page = 1; page <= 20; page++) {
      const started = performance.now();
      const answer = await call(sim, 'im.dialog.users.list', {
        DIALOG_ID: `chat${chatId}`,
        LAST_ID: page * 5_000,
        LIMIT: 200,
      });
      timings.push(performance.now() - started);
      expect(answer.body.result).toHaveLength(200);
    }
    console.info(`keyset page of 200 in a 200k chat: median ${median(timings).toFixed(1)} ms`);
    expect(median(timings)).toBeLessThan(50);
  });
});

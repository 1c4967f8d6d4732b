import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Bitrix24Client } from '../../functions/bitrix24/client-types.js';
import { Bitrix24MalformedResponseError } from '../../functions/bitrix24/errors.js';
import {
  createRecentHintReader,
  formatRfc3339,
} from '../../functions/bitrix24/read-recent-hints.js';
import type { RunningSimulator } from '../../local/simulator/types.js';
import { caught } from './support/fixtures.js';
import { startPlainSimulator, webhookClient } from './support/simulator.js';

const HOUR_MS = 3_600_000;

describe('recent hint reader against the simulator', () => {
  let sim: RunningSimulator;
  beforeEach(async () => {
    sim = await startPlainSimulator({ seed: { chats: 20, membersPerChat: 4, seed: 2 } });
  });
  afterEach(() => sim.close());

  it("names the chats whose rows moved since a date, with user_counter and the portal's time", async () => {
    const reader = createRecentHintReader(webhookClient(sim));
    // The portal runs an hour ahead of this machine: the watermark must be the portal's time.
    sim.advanceClock(HOUR_MS);
    const first = await reader.readHints(Date.now() - HOUR_MS);
    expect(first.portalTime).toBeGreaterThan(Date.now() + HOUR_MS - 5_000);
    sim.advanceClock(2_000);
    sim.admin.addMembers(4, [sim.admin.addUser().id]);
    sim.admin.postMessage(11);
    sim.resetStats();

    const second = await reader.readHints(first.portalTime);
    expect(sim.stats().byMethod).toEqual({ 'im.recent.get': 1 });
    expect(second.since).toBe(first.portalTime);
    expect(second.hints.map((h) => h.chatId).sort((a, b) => a - b)).toEqual([4, 11]);
    expect(second.hints.find((h) => h.chatId === 4)).toEqual({
      chatId: 4,
      dateUpdate: expect.any(Number),
      userCounter: 5,
    });
    for (const hint of second.hints)
      expect(hint.dateUpdate).toBeGreaterThanOrEqual(first.portalTime - 1_000);
  });

  it('refuses an answer with rows older than the date asked for (the filter was not applied)', async () => {
    const reader = createRecentHintReader(webhookClient(sim));
    sim.faults.inject({
      method: 'im.recent.get',
      kind: 'malformed-result',
      result: [{ type: 'chat', chat_id: 3, date_update: '2020-01-01T00:00:00+03:00' }],
    });
    const error = await caught(reader.readHints(Date.now() - 60_000));
    expect(error).toBeInstanceOf(Bitrix24MalformedResponseError);
    expect(error).toMatchObject({ method: 'im.recent.get' });
  });

  it('refuses a chat row without a date_update', async () => {
    const reader = createRecentHintReader(webhookClient(sim));
    sim.faults.inject({
      method: 'im.recent.get',
      kind: 'malformed-result',
      result: [{ type: 'chat', chat_id: 3 }],
    });
    expect(await caught(reader.readHints(Date.now()))).toBeInstanceOf(
      Bitrix24MalformedResponseError,
    );
  });
});

describe('recent hint reader', () => {
  it('asks with LAST_SYNC_DATE in the exact RFC 3339 form the portal parses', () => {
    expect(formatRfc3339(Date.UTC(2026, 2, 2, 14, 5, 9, 750))).toBe('2026-03-02T14:05:09+00:00');
  });

  it('refuses an answer without time.date_start (no watermark to trust)', async () => {
    const client = {
      call: async () => ({ result: [], time: {} }),
    } as unknown as Bitrix24Client;
    const error = await caught(createRecentHintReader(client).readHints(Date.now()));
    expect(error).toBeInstanceOf(Bitrix24MalformedResponseError);
  });
});

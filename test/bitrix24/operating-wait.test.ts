import { describe, expect, it } from 'vitest';
import { createBitrix24Client } from '../../functions/bitrix24/bitrix24-client.js';
import { chatUserListSchema } from '../../functions/bitrix24/schemas.js';
import { webhookStore } from './support/fixtures.js';

const NOW_MS = 1_780_000_000_000;

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json' },
  });
}

/** A client whose answers come from `answers` in order and whose sleeps are recorded, not slept. */
function scriptedClient(answers: Response[]) {
  const sleeps: number[] = [];
  const client = createBitrix24Client({
    credentials: webhookStore('https://portal.bitrix24.com/rest/1/abcdef123456/'),
    fetch: async () => {
      const next = answers.shift();
      if (!next) throw new Error('no more scripted answers');
      return next;
    },
    now: () => NOW_MS,
    random: () => 0.5,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  return { client, sleeps };
}

const limited = () =>
  json(429, {
    error: 'OPERATION_TIME_LIMIT',
    error_description: 'Method is blocked due to operation time limit.',
  });

describe('waiting out OPERATION_TIME_LIMIT', () => {
  it('waits for the reset time the last success reported when it is still ahead', async () => {
    const resetAt = NOW_MS / 1000 + 30;
    const { client, sleeps } = scriptedClient([
      json(200, { result: [1], time: { operating: 400, operating_reset_at: resetAt } }),
      limited(),
      json(200, { result: [1], time: {} }),
    ]);
    await client.call('im.chat.user.list', { CHAT_ID: 2 }, chatUserListSchema);
    await client.call('im.chat.user.list', { CHAT_ID: 2 }, chatUserListSchema);
    expect(sleeps[0]).toBeGreaterThanOrEqual(30_000);
  });

  it('does not retry at once when the known reset time has already passed', async () => {
    // The last success named a reset 100 s ago; the portal still refuses: the budget frees at
    // the NEXT basket reset, unknown here, so the fallback wait applies, not an instant retry.
    const { client, sleeps } = scriptedClient([
      json(200, { result: [1], time: { operating: 400, operating_reset_at: NOW_MS / 1000 - 100 } }),
      limited(),
      json(200, { result: [1], time: {} }),
    ]);
    await client.call('im.chat.user.list', { CHAT_ID: 2 }, chatUserListSchema);
    await client.call('im.chat.user.list', { CHAT_ID: 2 }, chatUserListSchema);
    expect(sleeps[0]).toBeGreaterThanOrEqual(10_000);
  });
});

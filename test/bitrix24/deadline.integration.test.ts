import { describe, expect, it } from 'vitest';
import { MIN_REQUEST_MS } from '../../functions/bitrix24/bitrix24-client.js';
import { Bitrix24DeadlineError } from '../../functions/bitrix24/errors.js';
import { createBitrix24MemberReader } from '../../functions/bitrix24/member-reader.js';
import { chatUserListSchema } from '../../functions/bitrix24/schemas.js';
import { caught } from './support/fixtures.js';
import { useSimulator, webhookClient } from './support/simulator.js';

const listMembers = { CHAT_ID: 2 };

/** A deadline `ms` from now, fixed when made (as the worker fixes it per invocation). */
function deadlineIn(ms: number): () => number {
  const at = Date.now() + ms;
  return () => at;
}

describe('client deadline against the simulator', () => {
  const sim = useSimulator({ seed: 'demo' });

  it('fails at once, without sending, when the wait for the bucket would pass the deadline', async () => {
    // One request per 2 s; the deadline leaves 2.5 s, of which a request needs 1.
    const client = webhookClient(sim(), {
      rateLimit: { burst: 2, drainPerSecond: 0.5 },
      deadlineAt: deadlineIn(2_500),
    });
    await client.call('im.chat.user.list', listMembers, chatUserListSchema);
    const error = await caught(client.call('im.chat.user.list', listMembers, chatUserListSchema));
    expect(error).toBeInstanceOf(Bitrix24DeadlineError);
    expect(error).toMatchObject({ code: 'DEADLINE_EXCEEDED', retryable: true });
    expect(sim().stats().requests).toBe(1);
  });

  it('keeps retrying rate-limited answers past the attempt limit until the deadline', async () => {
    sim().faults.inject({
      method: 'im.chat.user.list',
      kind: 'status',
      status: 503,
      error: 'QUERY_LIMIT_EXCEEDED',
      times: 1_000,
    });
    // 10/s, slowing to 4/s, 1.6/s, 0.64/s after each 503: waits of 0.25, 0.63, 1.6 s.
    const client = webhookClient(sim(), {
      rateLimit: { burst: 5, drainPerSecond: 10 },
      retry: { maxAttempts: 2 },
      deadlineAt: deadlineIn(4_000),
    });
    const error = await caught(client.call('im.chat.user.list', listMembers, chatUserListSchema));
    expect(error).toMatchObject({ code: 'DEADLINE_EXCEEDED', retryable: true });
    expect(client.requestCount()).toBeGreaterThan(2);
    expect(client.rateLimitedCount()).toBe(client.requestCount());
  });

  it('cuts a slow request off at the deadline, not at the request timeout', async () => {
    sim().faults.inject({ method: 'im.chat.user.list', kind: 'slow', delayMs: 5_000 });
    const client = webhookClient(sim(), {
      timeoutMs: 60_000,
      deadlineAt: deadlineIn(MIN_REQUEST_MS + 500),
    });
    const error = await caught(client.call('im.chat.user.list', listMembers, chatUserListSchema));
    expect(error).toBeInstanceOf(Bitrix24DeadlineError);
    expect(client.requestCount()).toBe(1);
  });

  it('does not start an operating-limit wait that would pass the deadline', async () => {
    sim().faults.inject({
      method: 'im.chat.user.list',
      kind: 'status',
      status: 429,
      error: 'OPERATION_TIME_LIMIT',
    });
    const client = webhookClient(sim(), {
      retry: { maxAttempts: 3, operationFallbackWaitMs: 10_000 },
      deadlineAt: deadlineIn(5_000),
    });
    const error = await caught(client.call('im.chat.user.list', listMembers, chatUserListSchema));
    expect(error).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    expect(client.requestCount()).toBe(1);
  });

  it('does not start a back-off that would pass the deadline', async () => {
    sim().faults.inject({
      method: 'im.chat.user.list',
      kind: 'status',
      status: 500,
      error: 'INTERNAL_SERVER_ERROR',
    });
    const client = webhookClient(sim(), {
      retry: { maxAttempts: 3, baseDelayMs: 10_000, maxDelayMs: 10_000 },
      random: () => 1,
      deadlineAt: deadlineIn(5_000),
    });
    const error = await caught(client.call('im.chat.user.list', listMembers, chatUserListSchema));
    expect(error).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    expect(client.requestCount()).toBe(1);
  });

  it('reads the deadline afresh for every call', async () => {
    let deadline: number | undefined = Date.now() - 1;
    const client = webhookClient(sim(), { deadlineAt: () => deadline });
    expect(
      await caught(client.call('im.chat.user.list', listMembers, chatUserListSchema)),
    ).toBeInstanceOf(Bitrix24DeadlineError);
    deadline = undefined;
    const { result } = await client.call('im.chat.user.list', listMembers, chatUserListSchema);
    expect(result).toContain(20);
  });

  it('turns a passed deadline into retryable failed reads, never into no access', async () => {
    const client = webhookClient(sim(), { deadlineAt: deadlineIn(MIN_REQUEST_MS - 1) });
    const reads = await createBitrix24MemberReader(client).readMembers([1, 2, 5]);
    for (const chatId of [1, 2, 5]) {
      expect(reads.get(chatId)).toMatchObject({
        kind: 'failed',
        chatId,
        code: 'DEADLINE_EXCEEDED',
        retryable: true,
      });
    }
    expect(sim().stats().requests).toBe(0);
  });
});

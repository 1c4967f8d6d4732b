import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RequestEvent } from '../../functions/bitrix24/client-types.js';
import {
  Bitrix24AccessError,
  Bitrix24AuthError,
  type Bitrix24Error,
  Bitrix24InvalidRequestError,
  Bitrix24MalformedResponseError,
  Bitrix24OperationLimitError,
  Bitrix24RateLimitError,
  Bitrix24TransportError,
} from '../../functions/bitrix24/errors.js';
import { chatUserListSchema } from '../../functions/bitrix24/schemas.js';
import type { Fault, RunningSimulator } from '../../local/simulator/types.js';
import { caught, webhookStore } from './support/fixtures.js';
import { startPlainSimulator, useSimulator, webhookClient } from './support/simulator.js';

const listMembers = { CHAT_ID: 2 };

describe('client against the simulator: errors and faults', () => {
  const sim = useSimulator({ seed: 'demo' });
  beforeEach(() => sim().setRateLimit(false));

  type ErrorClass = new (...args: never[]) => Bitrix24Error;
  const persistent: [string, Fault, ErrorClass, string][] = [
    [
      'OPERATION_TIME_LIMIT',
      { kind: 'status', status: 429, error: 'OPERATION_TIME_LIMIT', times: 10 },
      Bitrix24OperationLimitError,
      'OPERATION_TIME_LIMIT',
    ],
    [
      'a 500 error code',
      { kind: 'status', status: 500, error: 'INTERNAL_SERVER_ERROR', times: 10 },
      Bitrix24TransportError,
      'INTERNAL_SERVER_ERROR',
    ],
    [
      'an HTML 502 page',
      { kind: 'html', status: 502, times: 10 },
      Bitrix24TransportError,
      'NON_JSON_BODY',
    ],
    [
      'an HTML body with 200',
      { kind: 'html', status: 200, times: 10 },
      Bitrix24TransportError,
      'NON_JSON_BODY',
    ],
    [
      'an empty body',
      { kind: 'empty-body', status: 200, times: 10 },
      Bitrix24TransportError,
      'EMPTY_BODY',
    ],
    [
      'a dropped connection',
      { kind: 'drop-connection', times: 10 },
      Bitrix24TransportError,
      'NETWORK_ERROR',
    ],
    ['a slow answer', { kind: 'slow', delayMs: 400, times: 10 }, Bitrix24TransportError, 'TIMEOUT'],
    [
      'NO_AUTH_FOUND',
      { kind: 'status', status: 401, error: 'NO_AUTH_FOUND' },
      Bitrix24AuthError,
      'NO_AUTH_FOUND',
    ],
    [
      'insufficient_scope',
      { kind: 'status', status: 401, error: 'insufficient_scope' },
      Bitrix24AuthError,
      'insufficient_scope',
    ],
    [
      'PORTAL_DELETED',
      { kind: 'status', status: 403, error: 'PORTAL_DELETED' },
      Bitrix24AuthError,
      'PORTAL_DELETED',
    ],
    [
      'OVERLOAD_LIMIT as 503',
      { kind: 'status', status: 503, error: 'OVERLOAD_LIMIT' },
      Bitrix24AuthError,
      'OVERLOAD_LIMIT',
    ],
    [
      'ACCESS_ERROR',
      { kind: 'status', status: 403, error: 'ACCESS_ERROR' },
      Bitrix24AccessError,
      'ACCESS_ERROR',
    ],
    [
      'INVALID_FORMAT',
      { kind: 'status', status: 400, error: 'INVALID_FORMAT' },
      Bitrix24InvalidRequestError,
      'INVALID_FORMAT',
    ],
    [
      'a malformed result',
      { kind: 'malformed-result', result: { not: 'a list' } },
      Bitrix24MalformedResponseError,
      'MALFORMED_RESPONSE',
    ],
  ];

  it.each(persistent)('turns %s into its class', async (_label, fault, type, code) => {
    sim().faults.inject({ ...fault, method: 'im.chat.user.list' });
    const events: RequestEvent[] = [];
    const client = webhookClient(sim(), {
      timeoutMs: 200,
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5, maxOperationWaitMs: 10 },
      onRequest: (event) => events.push(event),
    });
    const error = await caught(client.call('im.chat.user.list', listMembers, chatUserListSchema));
    expect(error).toBeInstanceOf(type);
    expect(error).toMatchObject({ code, method: 'im.chat.user.list' });
    const attempts = (error as Bitrix24Error).retryable ? 3 : 1;
    expect(events).toHaveLength(attempts);
    expect(client.requestCount()).toBe(attempts);
  });

  it('retries 503 QUERY_LIMIT_EXCEEDED past the attempt limit, and counts the answers', async () => {
    sim().faults.inject({
      method: 'im.chat.user.list',
      kind: 'status',
      status: 503,
      error: 'QUERY_LIMIT_EXCEEDED',
      description: 'Too many requests',
      times: 6,
    });
    const client = webhookClient(sim(), { retry: { maxAttempts: 2 } });
    const { result } = await client.call('im.chat.user.list', listMembers, chatUserListSchema);
    expect(result).toContain(20);
    expect(client.requestCount()).toBe(7);
    expect(client.rateLimitedCount()).toBe(6);
  });

  it('gives up on QUERY_LIMIT_EXCEEDED after maxRateLimitedMs when no deadline is set', async () => {
    sim().faults.inject({
      method: 'im.chat.user.list',
      kind: 'status',
      status: 503,
      error: 'QUERY_LIMIT_EXCEEDED',
      times: 1_000,
    });
    const client = webhookClient(sim(), {
      rateLimit: { burst: 5, drainPerSecond: 100 },
      retry: { maxAttempts: 2, maxRateLimitedMs: 300 },
    });
    const error = await caught(client.call('im.chat.user.list', listMembers, chatUserListSchema));
    expect(error).toBeInstanceOf(Bitrix24RateLimitError);
    expect(error).toMatchObject({ code: 'QUERY_LIMIT_EXCEEDED', retryable: true });
    expect(client.requestCount()).toBeGreaterThan(2);
    expect(client.rateLimitedCount()).toBe(client.requestCount());
  });

  it('classifies real portal answers by code', async () => {
    const client = webhookClient(sim());
    const call = (method: string, params: Record<string, unknown>) =>
      caught(client.call(method, params, chatUserListSchema));
    expect(await call('im.chat.user.list', {})).toMatchObject({
      constructor: Bitrix24InvalidRequestError,
      code: 'CHAT_ID_EMPTY',
    });
    expect(await call('im.dialog.users.list', {})).toMatchObject({ code: 'DIALOG_ID_EMPTY' });
    expect(await call('im.no.such.method', {})).toMatchObject({
      constructor: Bitrix24InvalidRequestError,
      code: 'ERROR_METHOD_NOT_FOUND',
      status: 404,
    });
    expect(await call('im.chat.user.list', { CHAT_ID: sim().admin.generalChatId })).toMatchObject({
      constructor: Bitrix24AccessError,
      code: 'ACCESS_ERROR',
    });
    const wrong = webhookClient(sim(), {
      credentials: webhookStore(
        sim().webhookUrl.replace(/\/rest\/1\/[^/]+\//, '/rest/1/nope1234/'),
      ),
    });
    expect(
      await caught(wrong.call('im.chat.user.list', listMembers, chatUserListSchema)),
    ).toMatchObject({ constructor: Bitrix24AuthError, code: 'INVALID_CREDENTIALS' });
  });

  it.each<[string, Fault]>([
    ['a 503 QUERY_LIMIT_EXCEEDED', { kind: 'status', status: 503, error: 'QUERY_LIMIT_EXCEEDED' }],
    ['a 500 error', { kind: 'status', status: 500, error: 'INTERNAL_SERVER_ERROR' }],
    ['an HTML 503 page', { kind: 'html', status: 503 }],
    ['an empty body', { kind: 'empty-body' }],
    ['a slow answer beyond the timeout', { kind: 'slow', delayMs: 1_000 }],
    ['a dropped connection', { kind: 'drop-connection' }],
  ])('recovers from %s', async (_label, fault) => {
    sim().faults.inject({ ...fault, method: 'im.chat.user.list', times: 2 });
    const client = webhookClient(sim(), { timeoutMs: 300 });
    const { result } = await client.call('im.chat.user.list', listMembers, chatUserListSchema);
    expect([...result].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 20]);
    expect(client.requestCount()).toBe(3);
    expect(sim().faults.pending()).toBe(0);
  });

  it('recovers a whole batch from a transient failure', async () => {
    sim().faults.inject({ method: 'batch', kind: 'html', status: 500 });
    const client = webhookClient(sim());
    const results = await client.batch([
      { key: 'a', method: 'im.chat.user.list', params: { CHAT_ID: 2 } },
      { key: 'b', method: 'im.chat.user.list', params: { CHAT_ID: 4 } },
    ]);
    expect(results.get('a')).toMatchObject({ ok: true });
    expect(results.get('b')).toMatchObject({ ok: true, result: expect.arrayContaining([13]) });
    expect(client.requestCount()).toBe(2);
  });

  it('stays under the portal limit for a long read (120 requests at burst 10, 20/s)', async () => {
    sim().setRateLimit({ burst: 10, drainPerSecond: 20 });
    const client = webhookClient(sim(), { rateLimit: { burst: 10, drainPerSecond: 20 } });
    const started = performance.now();
    for (let i = 0; i < 120; i += 1) {
      await client.call('im.chat.user.list', listMembers, chatUserListSchema);
    }
    const elapsed = performance.now() - started;
    expect(sim().stats().rateLimited).toBe(0);
    expect(sim().stats().requests).toBe(120);
    // 10 free, 110 paced at 20/s.
    expect(elapsed).toBeGreaterThan(5_000);
    console.info(`120 paced requests: ${Math.round(elapsed)} ms, 0 × 503`);
  });

  it('stays under the portal limit with concurrent callers', async () => {
    sim().setRateLimit({ burst: 10, drainPerSecond: 20 });
    const client = webhookClient(sim(), { rateLimit: { burst: 10, drainPerSecond: 20 } });
    await Promise.all(
      Array.from({ length: 40 }, () =>
        client.call('im.chat.user.list', listMembers, chatUserListSchema),
      ),
    );
    expect(sim().stats().rateLimited).toBe(0);
  });

  it('shares the portal limit with another job when each takes half of it', async () => {
    sim().setRateLimit({ burst: 10, drainPerSecond: 20 });
    const half = { burst: 10, drainPerSecond: 20, share: 0.5 };
    const jobs = [
      webhookClient(sim(), { rateLimit: half }),
      webhookClient(sim(), { rateLimit: half }),
    ];
    await Promise.all(
      jobs.map(async (client) => {
        for (let i = 0; i < 20; i += 1) {
          await client.call('im.chat.user.list', listMembers, chatUserListSchema);
        }
      }),
    );
    expect(sim().stats()).toMatchObject({ requests: 40, rateLimited: 0 });
  });

  it('backs off after a 503 from a portal budget other integrations filled', async () => {
    sim().setRateLimit({ burst: 5, drainPerSecond: 10 });
    // Another integration on the same IP spends the portal's whole burst.
    const other = webhookClient(sim(), { retry: { maxAttempts: 1 } });
    for (let i = 0; i < 5; i += 1)
      await other.call('im.chat.user.list', listMembers, chatUserListSchema);
    const client = webhookClient(sim(), {
      rateLimit: { burst: 5, drainPerSecond: 10 },
      retry: { maxAttempts: 5, baseDelayMs: 1, maxDelayMs: 1 },
    });
    sim().resetStats();
    for (let i = 0; i < 5; i += 1)
      await client.call('im.chat.user.list', listMembers, chatUserListSchema);
    // One 503 empties our bucket; from then on we pace at the portal's drain rate.
    expect(sim().stats().rateLimited).toBe(1);
  });
});

describe('client against the simulator: operating limit', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startPlainSimulator({
      seed: 'demo',
      operatingLimit: { limitSeconds: 2, windowSeconds: 3 },
    });
  });
  afterAll(() => sim.close());

  it('waits until operating_reset_at after a 429, then succeeds', async () => {
    const client = webhookClient(sim, { retry: { maxAttempts: 3, maxOperationWaitMs: 10_000 } });
    const started = Date.now();
    for (let i = 0; i < 3; i += 1) {
      await client.call('im.chat.user.list', listMembers, chatUserListSchema);
    }
    expect(sim.stats().operationLimited).toBe(1);
    expect(client.requestCount()).toBe(4);
    // The budget frees when the first basket (opened at the first call) is 3 s old.
    expect(Date.now() - started).toBeGreaterThan(1_500);
  });

  it('gives up when the reset is further away than the longest allowed wait', async () => {
    const client = webhookClient(sim, { retry: { maxAttempts: 2, maxOperationWaitMs: 20 } });
    sim.resetStats();
    let error: unknown;
    for (let i = 0; i < 4 && error === undefined; i += 1) {
      error = await client.call('im.chat.user.list', listMembers, chatUserListSchema).then(
        () => undefined,
        (e: unknown) => e,
      );
    }
    expect(error).toBeInstanceOf(Bitrix24OperationLimitError);
    expect((error as Bitrix24OperationLimitError).resetAt).toBeInstanceOf(Date);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator } from '../../local/simulator/start-simulator.js';
import type { RunningSimulator, SimulatorOptions } from '../../local/simulator/types.js';
import { call, postJson } from './rest-call.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('simulator limits', () => {
  let sim: RunningSimulator | undefined;
  const start = async (options: SimulatorOptions) => {
    sim = await startSimulator({ tls: false, ...options });
    return sim;
  };
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  it('answers 503 QUERY_LIMIT_EXCEEDED once the 50-request bucket is full', async () => {
    // Portal time runs 1,000× slower than real time, so the bucket does not drain (2 per portal
    // second) while 60 calls land, however loaded the machine is.
    const portal = await start({ timeScale: 0.001 });
    const answers = await Promise.all(
      Array.from({ length: 60 }, () => call(portal, 'im.chat.user.list', { CHAT_ID: 2 })),
    );
    const accepted = answers.filter((answer) => answer.status === 200).length;
    const refused = answers.filter((answer) => answer.status === 503);
    expect(accepted).toBe(50);
    expect(accepted + refused.length).toBe(60);
    expect(refused[0]?.body).toEqual({
      error: 'QUERY_LIMIT_EXCEEDED',
      error_description: 'Too many requests',
    });
    expect(portal.stats().rateLimited).toBe(refused.length);
  });

  it('drains the bucket at drainPerSecond of portal time', async () => {
    // 2 per portal second at 100× speed: 200 requests per real second.
    const portal = await start({ rateLimit: { burst: 5, drainPerSecond: 2 }, timeScale: 100 });
    for (let i = 0; i < 5; i++) await call(portal, 'im.chat.user.list', { CHAT_ID: 2 });
    await sleep(30);
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await call(portal, 'im.chat.user.list', { CHAT_ID: 2 })).status);
    }
    expect(statuses).toContain(200);
  });

  it('counts a whole batch as one request', async () => {
    const portal = await start({ rateLimit: { burst: 2, drainPerSecond: 0.001 } });
    const cmd = Object.fromEntries(
      Array.from({ length: 50 }, (_, i) => [`c${i}`, 'im.chat.user.list?CHAT_ID=2']),
    );
    expect((await call(portal, 'batch', { cmd })).status).toBe(200);
    expect((await call(portal, 'batch', { cmd })).status).toBe(200);
    expect((await call(portal, 'batch', { cmd })).status).toBe(503);
  });

  it('switches the bucket off and on at run time', async () => {
    const portal = await start({ rateLimit: { burst: 1, drainPerSecond: 0.001 } });
    await call(portal, 'im.chat.user.list', { CHAT_ID: 2 });
    expect((await call(portal, 'im.chat.user.list', { CHAT_ID: 2 })).status).toBe(503);
    portal.setRateLimit(false);
    expect((await call(portal, 'im.chat.user.list', { CHAT_ID: 2 })).status).toBe(200);
    portal.setRateLimit({ burst: 1, drainPerSecond: 0.001 });
    expect((await call(portal, 'im.chat.user.list', { CHAT_ID: 2 })).status).toBe(200);
    expect((await call(portal, 'im.chat.user.list', { CHAT_ID: 2 })).status).toBe(503);
  });

  it("fills the bucket with other integrations' load, which outruns the drain and then refuses us", async () => {
    // 10 burst, draining 2 per portal second, another integration sending 6: the counter gains 4
    // per portal second and passes the burst within 2.5 s (0.25 s real at 10×).
    const portal = await start({
      rateLimit: { burst: 10, drainPerSecond: 2 },
      competingLoad: 6,
      timeScale: 10,
    });
    expect((await call(portal, 'im.chat.user.list', { CHAT_ID: 2 })).status).toBe(200);
    await sleep(400);
    expect((await call(portal, 'im.chat.user.list', { CHAT_ID: 2 })).status).toBe(503);
    const stats = portal.stats();
    expect(stats.competingRequests).toBeGreaterThanOrEqual(24);
    expect(stats).toMatchObject({ requests: 2, rateLimited: 1 });
  });

  it("leaves the rest of the drain to us while others' load stays below it", async () => {
    // 3 burst, drain 2, others 1 per portal second: one request per portal second is ours.
    const portal = await start({ rateLimit: { burst: 3, drainPerSecond: 2 }, timeScale: 10 });
    portal.setCompetingLoad(1);
    const statuses = [];
    for (let i = 0; i < 8; i++) {
      statuses.push((await call(portal, 'im.chat.user.list', { CHAT_ID: 2 })).status);
      await sleep(110);
    }
    expect(statuses.every((status) => status === 200)).toBe(true);
    portal.setCompetingLoad(0);
    const before = portal.stats().competingRequests;
    await sleep(300);
    expect(portal.stats().competingRequests).toBe(before);
  });

  it('takes the competing load over the admin endpoint', async () => {
    const portal = await start({ rateLimit: { burst: 2, drainPerSecond: 0.001 } });
    const set = await postJson(`${portal.baseUrl}/_admin/load`, { requestsPerSecond: 1_000 });
    expect(set.status).toBe(200);
    await sleep(50);
    expect((await call(portal, 'im.chat.user.list', { CHAT_ID: 2 })).status).toBe(503);
    const bad = await postJson(`${portal.baseUrl}/_admin/load`, { requestsPerSecond: -1 });
    expect(bad.status).toBe(400);
  });

  it('leaves operating keys out of time while the operating limit is off', async () => {
    const portal = await start({ rateLimit: false });
    const answer = await call(portal, 'im.chat.user.list', { CHAT_ID: 2 });
    expect(answer.body.time.operating).toBeUndefined();
    expect(answer.body.time.operating_reset_at).toBeUndefined();
  });

  it('blocks one method with 429 once its operating budget is spent, until the reset', async () => {
    // 3 calls of 1 s each fill a 3 s budget; the 10-minute window lasts 0.6 s at 1000×.
    const portal = await start({
      rateLimit: false,
      operatingLimit: { limitSeconds: 3, costSeconds: 1 },
      timeScale: 1000,
    });
    const answers = [];
    for (let i = 0; i < 3; i++)
      answers.push(await call(portal, 'im.chat.user.list', { CHAT_ID: 2 }));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
    expect(answers.map((answer) => answer.body.time.operating)).toEqual([1, 2, 3]);
    const resetAt = answers[2]?.body.time.operating_reset_at as number;
    expect(resetAt).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000));

    const blocked = await call(portal, 'im.chat.user.list', { CHAT_ID: 2 });
    expect(blocked.status).toBe(429);
    expect(blocked.body).toEqual({
      error: 'OPERATION_TIME_LIMIT',
      error_description: 'Method is blocked due to operation time limit.',
    });
    const other = await call(portal, 'im.dialog.get', { DIALOG_ID: 'chat2' });
    expect(other.status).toBe(200);
    expect(other.body.time).toMatchObject({ operating: 1, operating_reset_at: expect.any(Number) });
    expect(portal.stats().operationLimited).toBe(1);

    await sleep(700);
    const afterReset = await call(portal, 'im.chat.user.list', { CHAT_ID: 2 });
    expect(afterReset.status).toBe(200);
    expect(afterReset.body.time.operating).toBe(1);
  });
});

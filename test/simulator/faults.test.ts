import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator } from '../../local/simulator/start-simulator.js';
import type { RunningSimulator } from '../../local/simulator/types.js';
import { call, postJson } from './rest-call.js';

describe('simulator faults', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ tls: false, rateLimit: false });
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.faults.clear());

  it('answers the next matching request with an injected status and error', async () => {
    sim.faults.inject({
      method: 'im.chat.user.list',
      kind: 'status',
      status: 500,
      error: 'INTERNAL_SERVER_ERROR',
      description: 'Internal server error',
    });
    expect((await call(sim, 'im.dialog.get', { DIALOG_ID: 'chat2' })).status).toBe(200);
    expect(sim.faults.pending()).toBe(1);
    const failed = await call(sim, 'im.chat.user.list', { CHAT_ID: 2 });
    expect(failed.status).toBe(500);
    expect(failed.body).toEqual({
      error: 'INTERNAL_SERVER_ERROR',
      error_description: 'Internal server error',
    });
    expect(sim.faults.pending()).toBe(0);
    expect((await call(sim, 'im.chat.user.list', { CHAT_ID: 2 })).status).toBe(200);
  });

  it('applies a fault `times` times', async () => {
    sim.faults.inject({ kind: 'status', status: 503, error: 'QUERY_LIMIT_EXCEEDED', times: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await call(sim, 'im.chat.user.list', { CHAT_ID: 2 })).status);
    expect(statuses).toEqual([503, 503, 200]);
  });

  it('answers with an nginx HTML page', async () => {
    sim.faults.inject({ kind: 'html', status: 502 });
    const answer = await call(sim, 'im.chat.user.list', { CHAT_ID: 2 });
    expect(answer.status).toBe(502);
    expect(answer.contentType).toContain('text/html');
    expect(answer.text).toContain('<center>nginx</center>');
  });

  it('answers with an empty body', async () => {
    sim.faults.inject({ kind: 'empty-body' });
    const answer = await call(sim, 'im.chat.user.list', { CHAT_ID: 2 });
    expect(answer.status).toBe(200);
    expect(answer.text).toBe('');
  });

  it('delays a slow answer and then answers normally', async () => {
    sim.faults.inject({ kind: 'slow', delayMs: 150 });
    const started = performance.now();
    const answer = await call(sim, 'im.chat.user.list', { CHAT_ID: 2 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(answer.body.result).toHaveLength(6);
  });

  it('drops the connection', async () => {
    sim.faults.inject({ kind: 'drop-connection' });
    await expect(call(sim, 'im.chat.user.list', { CHAT_ID: 2 })).rejects.toThrow();
    expect((await call(sim, 'im.chat.user.list', { CHAT_ID: 2 })).status).toBe(200);
  });

  it('expires every issued access token before handling the request', async () => {
    const { accessToken } = sim.oauth.issueTokens(1);
    sim.faults.inject({ kind: 'expire-tokens' });
    const answer = await postJson(`${sim.baseUrl}/rest/im.chat.user.list`, {
      CHAT_ID: 2,
      auth: accessToken,
    });
    expect(answer.status).toBe(401);
    expect(answer.body.error).toBe('expired_token');
  });

  it('shortens an im.dialog.users.list page while next and total stay those of the full page', async () => {
    sim.faults.inject({ method: 'im.dialog.users.list', kind: 'short-page', drop: 2 });
    const short = await call(sim, 'im.dialog.users.list', { DIALOG_ID: 'chat1', LIMIT: 10 });
    expect(short.body.result).toHaveLength(8);
    expect(short.body).toMatchObject({ next: 10, total: 24 });
    const keyset = await call(sim, 'im.dialog.users.list', {
      DIALOG_ID: 'chat1',
      LAST_ID: 0,
      LIMIT: 10,
    });
    expect(keyset.body.result).toHaveLength(10);
  });

  it('shortens im.dialog.users.list pages inside a batch', async () => {
    sim.faults.inject({ method: 'im.dialog.users.list', kind: 'short-page', drop: 1 });
    const answer = await call(sim, 'batch', {
      cmd: {
        a: 'im.dialog.users.list?DIALOG_ID=chat1&LAST_ID=0&LIMIT=5',
        b: 'im.chat.user.list?CHAT_ID=2',
      },
    });
    expect(answer.body.result.result.a).toHaveLength(4);
    expect(answer.body.result.result.b).toHaveLength(6);
    expect(sim.faults.pending()).toBe(0);
  });

  it('replaces a result, or one kind of batch command result, with a malformed value', async () => {
    sim.faults.inject({ method: 'im.chat.user.list', kind: 'malformed-result', result: 'oops' });
    expect((await call(sim, 'im.chat.user.list', { CHAT_ID: 2 })).body.result).toBe('oops');
    sim.faults.inject({ method: 'im.chat.user.list', kind: 'malformed-result', result: [null] });
    const batch = await call(sim, 'batch', {
      cmd: { a: 'im.chat.user.list?CHAT_ID=2', b: 'im.dialog.get?DIALOG_ID=chat2' },
    });
    expect(batch.body.result.result.a).toEqual([null]);
    expect(batch.body.result.result.b).toMatchObject({ id: 2 });
  });

  it('turns a status fault for an inner method into that command’s result_error', async () => {
    sim.faults.inject({
      method: 'im.chat.user.list',
      kind: 'status',
      status: 400,
      error: 'CHAT_ID_EMPTY',
      description: "Chat ID can't be empty",
    });
    const batch = await call(sim, 'batch', {
      cmd: {
        a: 'im.chat.user.list?CHAT_ID=2',
        b: 'im.chat.user.list?CHAT_ID=4',
        c: 'im.dialog.get?DIALOG_ID=chat2',
      },
    });
    expect(batch.status).toBe(200);
    expect(Object.keys(batch.body.result.result_error)).toEqual(['a', 'b']);
    expect(Object.keys(batch.body.result.result)).toEqual(['c']);
  });

  it('fails a whole batch request with a batch-level fault', async () => {
    sim.faults.inject({ method: 'batch', kind: 'html', status: 504 });
    const answer = await call(sim, 'batch', { cmd: { a: 'im.chat.user.list?CHAT_ID=2' } });
    expect(answer.status).toBe(504);
  });
});

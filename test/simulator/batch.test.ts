import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator } from '../../local/simulator/start-simulator.js';
import type { RunningSimulator } from '../../local/simulator/types.js';
import { call, postForm } from './rest-call.js';

describe('batch', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ tls: false, rateLimit: false });
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.resetStats());

  it('runs a map of commands and files each answer under its key', async () => {
    const answer = await call(sim, 'batch', {
      halt: 0,
      cmd: {
        p0: 'im.dialog.users.list?DIALOG_ID=chat3&LIMIT=3&OFFSET=0',
        p1: 'im.dialog.users.list?DIALOG_ID=chat3&LIMIT=3&OFFSET=6',
        ids: 'im.chat.user.list?CHAT_ID=4',
      },
    });
    expect(answer.status).toBe(200);
    const { result } = answer.body;
    expect(Object.keys(result)).toEqual([
      'result',
      'result_error',
      'result_total',
      'result_next',
      'result_time',
    ]);
    expect(result.result.ids).toEqual([13, 1, 14, 15]);
    expect(result.result.p0).toHaveLength(3);
    expect(result.result_error).toEqual([]);
    // Engineering has 10 members, one dismissed: 9 active.
    expect(result.result_total).toEqual({ p0: 9, p1: 9 });
    expect(result.result_next).toEqual({ p0: 3 });
    expect(Object.keys(result.result_time)).toEqual(['p0', 'p1', 'ids']);
    expect(answer.body.time).toMatchObject({ start: expect.any(Number) });
  });

  it('answers a list of commands with lists', async () => {
    const answer = await call(sim, 'batch', {
      cmd: ['im.chat.user.list?CHAT_ID=2', 'im.chat.user.list?CHAT_ID=4'],
    });
    expect(answer.body.result.result).toEqual([
      [2, 1, 3, 4, 5, 20],
      [13, 1, 14, 15],
    ]);
    expect(answer.body.result.result_total).toEqual([]);
    expect(answer.body.result.result_next).toEqual([]);
  });

  it('files per-command errors under result_error and carries on without halt', async () => {
    const answer = await call(sim, 'batch', {
      cmd: {
        general: 'im.chat.user.list?CHAT_ID=1',
        empty: 'im.chat.user.list',
        ok: 'im.chat.user.list?CHAT_ID=2',
        unknown: 'im.nope',
      },
    });
    const { result } = answer.body;
    expect(answer.status).toBe(200);
    expect(result.result).toEqual({ ok: [2, 1, 3, 4, 5, 20] });
    expect(result.result_error).toEqual({
      general: { error: 'ACCESS_ERROR', error_description: 'Action unavailable' },
      empty: { error: 'CHAT_ID_EMPTY', error_description: "Chat ID can't be empty" },
      unknown: { error: 'ERROR_METHOD_NOT_FOUND', error_description: 'Method not found!' },
    });
  });

  it('stops at the first failing command with halt=1', async () => {
    const answer = await call(sim, 'batch', {
      halt: 1,
      cmd: {
        a: 'im.chat.user.list?CHAT_ID=2',
        b: 'im.chat.user.list?CHAT_ID=1',
        c: 'im.chat.user.list?CHAT_ID=4',
      },
    });
    expect(answer.body.result.result).toEqual({ a: [2, 1, 3, 4, 5, 20] });
    expect(Object.keys(answer.body.result.result_error)).toEqual(['b']);
  });

  it('runs 50 commands and answers each one beyond with ERROR_BATCH_LENGTH_EXCEEDED', async () => {
    const cmd = Object.fromEntries(
      Array.from({ length: 51 }, (_, i) => [`c${i}`, 'im.chat.user.list?CHAT_ID=2']),
    );
    const answer = await call(sim, 'batch', { cmd });
    expect(answer.status).toBe(200);
    expect(Object.keys(answer.body.result.result)).toHaveLength(50);
    expect(answer.body.result.result_error).toEqual({
      c50: { error: 'ERROR_BATCH_LENGTH_EXCEEDED', error_description: 'Max batch length exceeded' },
    });
    expect(sim.stats().byMethod['batch:im.chat.user.list']).toBe(50);
  });

  it('refuses a nested batch with ERROR_BATCH_METHOD_NOT_ALLOWED', async () => {
    const answer = await call(sim, 'batch', {
      cmd: { inner: 'batch?cmd[a]=im.chat.user.list%3FCHAT_ID%3D2' },
    });
    expect(answer.body.result.result_error.inner.error).toBe('ERROR_BATCH_METHOD_NOT_ALLOWED');
    expect(answer.body.result.result).toEqual([]);
  });

  it('parses command query strings PHP-style, array parameters included', async () => {
    const answer = await call(sim, 'batch', {
      cmd: {
        users: 'im.user.list.get?ID[]=2&ID[]=3',
        general: 'im.dialog.users.list?DIALOG_ID=chat1&SKIP_EXTERNAL=Y&LIMIT=200',
      },
    });
    expect(Object.keys(answer.body.result.result.users)).toEqual(['2', '3']);
    expect(answer.body.result.result_total.general).toBe(22);
  });

  it('accepts cmd as form fields', async () => {
    const form = `halt=0&cmd[a]=${encodeURIComponent('im.chat.user.list?CHAT_ID=2')}&cmd[b]=${encodeURIComponent('im.chat.user.list?CHAT_ID=4')}`;
    const answer = await postForm(`${sim.webhookUrl}batch`, form);
    expect(answer.body.result.result).toEqual({ a: [2, 1, 3, 4, 5, 20], b: [13, 1, 14, 15] });
  });

  it('counts the batch once and each command under batch:<method>', async () => {
    await call(sim, 'batch', {
      cmd: { a: 'im.chat.user.list?CHAT_ID=2', b: 'IM.DIALOG.GET?DIALOG_ID=chat2' },
    });
    expect(sim.stats()).toMatchObject({
      requests: 1,
      byMethod: { batch: 1, 'batch:im.chat.user.list': 1, 'batch:im.dialog.get': 1 },
    });
  });

  it('answers an empty batch with empty lists', async () => {
    const answer = await call(sim, 'batch', {});
    expect(answer.body.result).toEqual({
      result: [],
      result_error: [],
      result_total: [],
      result_next: [],
      result_time: [],
    });
  });
});

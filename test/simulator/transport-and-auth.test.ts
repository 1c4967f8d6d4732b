import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../local/simulator/start-simulator.js';
import type { RunningSimulator } from '../../local/simulator/types.js';
import { get, postForm, postJson } from './rest-call.js';

describe('simulator transport and webhook auth', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ tls: false, rateLimit: false });
  });
  afterAll(() => sim.close());

  it('accepts the webhook path with a .json suffix and any method-name case', async () => {
    for (const method of ['im.chat.user.list', 'im.chat.user.list.json', 'IM.Chat.User.List']) {
      const answer = await postJson(`${sim.webhookUrl}${method}`, { CHAT_ID: 2 });
      expect(answer.status).toBe(200);
      expect(answer.body.result).toEqual([2, 1, 3, 4, 5, 20]);
    }
  });

  it('reads parameters from a GET query string', async () => {
    const answer = await get(`${sim.webhookUrl}im.chat.user.list?CHAT_ID=4`);
    expect(answer.body.result).toEqual([13, 1, 14, 15]);
  });

  it('reads parameters from an urlencoded form body, PHP bracket keys included', async () => {
    const answer = await postForm(`${sim.webhookUrl}im.user.list.get`, 'ID[]=2&ID[]=999');
    expect(answer.body.result).toMatchObject({ '2': { id: 2, first_name: 'Boris' }, '999': null });
    const indexed = await postForm(`${sim.webhookUrl}im.user.list.get`, 'ID[0]=3&ID[1]=4');
    expect(Object.keys(indexed.body.result)).toEqual(['3', '4']);
  });

  it('reads parameters from a multipart/form-data body', async () => {
    const form = new FormData();
    form.append('DIALOG_ID', 'chat4');
    form.append('LIMIT', '2');
    const response = await fetch(`${sim.webhookUrl}im.dialog.users.list`, {
      method: 'POST',
      body: form,
    });
    const body = (await response.json()) as { result: Array<{ id: number }> };
    expect(body.result.map((user: { id: number }) => user.id)).toEqual([13, 1]);
    expect(body).toMatchObject({ total: 4, next: 2 });
  });

  it('lets the body override the query string, as PHP merges $_GET then $_POST', async () => {
    const answer = await postJson(`${sim.webhookUrl}im.chat.user.list?CHAT_ID=2`, { CHAT_ID: 4 });
    expect(answer.body.result).toEqual([13, 1, 14, 15]);
  });

  it('wraps every success in result and the time object', async () => {
    const answer = await postJson(`${sim.webhookUrl}im.chat.user.list`, { CHAT_ID: 2 });
    expect(answer.contentType).toContain('application/json');
    expect(Object.keys(answer.body)).toEqual(['result', 'time']);
    expect(answer.body.time).toEqual({
      start: expect.any(Number),
      finish: expect.any(Number),
      duration: expect.any(Number),
      processing: expect.any(Number),
      date_start: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/),
      date_finish: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/),
    });
  });

  it('answers an unknown method with 404 ERROR_METHOD_NOT_FOUND', async () => {
    const answer = await postJson(`${sim.webhookUrl}im.nothing.here`, {});
    expect(answer.status).toBe(404);
    expect(answer.body).toEqual({
      error: 'ERROR_METHOD_NOT_FOUND',
      error_description: 'Method not found!',
    });
  });

  it('answers a wrong webhook code with 401 INVALID_CREDENTIALS', async () => {
    const wrong = sim.webhookUrl.replace(/\/rest\/1\/[^/]+\//, '/rest/1/notthecode/');
    const answer = await postJson(`${wrong}im.chat.user.list`, { CHAT_ID: 2 });
    expect(answer.status).toBe(401);
    expect(answer.body.error).toBe('INVALID_CREDENTIALS');
  });

  it('answers a webhook code used with another user ID as INVALID_CREDENTIALS', async () => {
    const wrong = sim.webhookUrl.replace('/rest/1/', '/rest/2/');
    expect((await postJson(`${wrong}im.chat.user.list`, { CHAT_ID: 2 })).body.error).toBe(
      'INVALID_CREDENTIALS',
    );
  });

  it('answers a request without credentials with 401 NO_AUTH_FOUND', async () => {
    const answer = await postJson(`${sim.baseUrl}/rest/im.chat.user.list`, { CHAT_ID: 2 });
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({
      error: 'NO_AUTH_FOUND',
      error_description: 'Wrong authorization data',
    });
  });

  it('runs calls of a second webhook as its own user', async () => {
    const financeWebhook = sim.createWebhook(14);
    const answer = await postJson(`${financeWebhook}im.chat.user.list`, { CHAT_ID: 5 });
    expect(answer.body.result).toEqual([14, 16, 17, 18]);
  });

  it('answers paths outside /rest with a 404 HTML page', async () => {
    const answer = await get(`${sim.baseUrl}/index.php`);
    expect(answer.status).toBe(404);
    expect(answer.contentType).toContain('text/html');
  });
});

describe('simulator conflicting statuses', () => {
  it('uses 403 for INVALID_CREDENTIALS when configured so', async () => {
    const sim = await startSimulator({
      tls: false,
      seed: 'empty',
      statuses: { invalidCredentials: 403 },
    });
    try {
      const wrong = sim.webhookUrl.replace(/\/rest\/1\/[^/]+\//, '/rest/1/nope/');
      const answer = await postJson(`${wrong}im.chat.user.list`, { CHAT_ID: 1 });
      expect(answer.status).toBe(403);
      expect(answer.body.error).toBe('INVALID_CREDENTIALS');
    } finally {
      await sim.close();
    }
  });
});

describe('simulator admin HTTP surface', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ tls: false, seed: 'empty', rateLimit: false });
  });
  afterAll(() => sim.close());

  it('creates users and chats, changes members and reads stats over HTTP', async () => {
    const user = await postJson(`${sim.baseUrl}/_admin/users`, { firstName: 'Zoe' });
    expect(user.status).toBe(201);
    expect(user.body).toMatchObject({ id: 2, firstName: 'Zoe', active: true });
    const chat = await postJson(`${sim.baseUrl}/_admin/chats`, { title: 'Ops', memberIds: [1] });
    expect(chat.body).toMatchObject({ title: 'Ops', memberIds: [1] });
    const chatId = chat.body.id as number;
    const changed = await postJson(`${sim.baseUrl}/_admin/chats/${chatId}/members`, { add: [2] });
    expect(changed.body.memberIds).toEqual([1, 2]);
    await postJson(`${sim.baseUrl}/_admin/users/2/active`, { active: false });
    expect(sim.admin.user(2)?.active).toBe(false);
    await postJson(`${sim.baseUrl}/_admin/chats/${chatId}/members`, { remove: [2] });
    expect(sim.admin.chat(chatId)?.memberIds).toEqual([1]);

    const fault = await postJson(`${sim.baseUrl}/_admin/faults`, {
      kind: 'status',
      status: 500,
      error: 'INTERNAL_SERVER_ERROR',
    });
    expect(fault.body).toEqual({ pending: 1 });
    const failed = await postJson(`${sim.webhookUrl}im.chat.user.list`, { CHAT_ID: chatId });
    expect(failed.status).toBe(500);
    const stats = await get(`${sim.baseUrl}/_admin/stats`);
    expect(stats.body).toMatchObject({ requests: 1, byMethod: { 'im.chat.user.list': 1 } });
  });

  it('answers a bad admin request with 400 and the reason', async () => {
    const answer = await postJson(`${sim.baseUrl}/_admin/chats`, { memberIds: [424242] });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toContain('424242');
  });
});

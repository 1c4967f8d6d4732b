import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../local/simulator/start-simulator.js';
import type { RunningSimulator } from '../../local/simulator/types.js';
import { call, postForm } from './rest-call.js';

const ids = (result: Array<{ id: number }>) => result.map((user) => user.id);

describe('im.chat.user.list', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ tls: false, rateLimit: false });
  });
  afterAll(() => sim.close());

  it('returns every member ID unpaged, dismissed users and bots included', async () => {
    const answer = await call(sim, 'im.chat.user.list', { CHAT_ID: 3 });
    expect(answer.body.result).toEqual([6, 1, 7, 8, 9, 10, 11, 12, 22, 20]);
    expect(answer.body.total).toBeUndefined();
    expect(answer.body.next).toBeUndefined();
  });

  it('accepts DIALOG_ID chatN instead of CHAT_ID', async () => {
    expect((await call(sim, 'im.chat.user.list', { DIALOG_ID: 'chat4' })).body.result).toEqual([
      13, 1, 14, 15,
    ]);
  });

  it('returns [] for a chat the caller is not in and for a missing chat', async () => {
    expect((await call(sim, 'im.chat.user.list', { CHAT_ID: 5 })).body.result).toEqual([]);
    expect((await call(sim, 'im.chat.user.list', { CHAT_ID: 9999 })).body.result).toEqual([]);
  });

  it('shows the members of an open chat to a non-member', async () => {
    const outsider = sim.createWebhook(16);
    const answer = await call({ ...sim, webhookUrl: outsider }, 'im.chat.user.list', {
      CHAT_ID: 6,
    });
    expect(answer.body.result).toEqual([19, 1, 20, 23, 21]);
  });

  it('refuses the general chat with 403 ACCESS_ERROR', async () => {
    const answer = await call(sim, 'im.chat.user.list', { CHAT_ID: sim.admin.generalChatId });
    expect(answer.status).toBe(403);
    expect(answer.body).toEqual({ error: 'ACCESS_ERROR', error_description: 'Action unavailable' });
  });

  it('answers a missing CHAT_ID with 400 CHAT_ID_EMPTY', async () => {
    const answer = await call(sim, 'im.chat.user.list', {});
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      error: 'CHAT_ID_EMPTY',
      error_description: "Chat ID can't be empty",
    });
  });

  it('answers a malformed DIALOG_ID with 400 DIALOG_ID_EMPTY', async () => {
    const answer = await call(sim, 'im.chat.user.list', { DIALOG_ID: 'room7' });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe('DIALOG_ID_EMPTY');
  });

  it('reflects membership changes at once', async () => {
    const chat = sim.admin.createChat({ memberIds: [1, 2] });
    sim.admin.addMembers(chat.id, [3]);
    sim.admin.removeMembers(chat.id, [2]);
    sim.admin.addMembers(chat.id, [2]);
    expect((await call(sim, 'im.chat.user.list', { CHAT_ID: chat.id })).body.result).toEqual([
      1, 3, 2,
    ]);
  });
});

describe('im.dialog.users.list', () => {
  let sim: RunningSimulator;
  let chatId: number;
  /** Members in join order: 1, then 120 users added in descending ID order. */
  let joinOrder: number[];
  beforeAll(async () => {
    sim = await startSimulator({ tls: false, rateLimit: false, seed: 'empty' });
    const users = sim.admin.addUsers(120).reverse();
    joinOrder = [1, ...users];
    chatId = sim.admin.createChat({ memberIds: joinOrder }).id;
  });
  afterAll(() => sim.close());

  const page = (params: Record<string, unknown>) =>
    call(sim, 'im.dialog.users.list', { DIALOG_ID: `chat${chatId}`, ...params });

  it('pages with OFFSET in join order, with total and next', async () => {
    const first = await page({ LIMIT: 50, OFFSET: 0 });
    expect(ids(first.body.result)).toEqual(joinOrder.slice(0, 50));
    expect(first.body).toMatchObject({ total: 121, next: 50 });
    expect(Object.keys(first.body)).toEqual(['result', 'next', 'total', 'time']);
  });

  it('leaves next out of the last page', async () => {
    const last = await page({ LIMIT: 50, OFFSET: 100 });
    expect(ids(last.body.result)).toEqual(joinOrder.slice(100));
    expect(last.body.total).toBe(121);
    expect('next' in last.body).toBe(false);
  });

  it('leaves next out when the last page is exactly full', async () => {
    const chat = sim.admin.createChat({ memberIds: joinOrder.slice(0, 100) });
    const second = await call(sim, 'im.dialog.users.list', {
      DIALOG_ID: `chat${chat.id}`,
      LIMIT: 50,
      OFFSET: 50,
    });
    expect(second.body.result).toHaveLength(50);
    expect(second.body.total).toBe(100);
    expect('next' in second.body).toBe(false);
  });

  it('answers an offset past the end with an empty page and the total', async () => {
    const beyond = await page({ OFFSET: 500 });
    expect(beyond.body.result).toEqual([]);
    expect(beyond.body.total).toBe(121);
    expect('next' in beyond.body).toBe(false);
  });

  it('uses LIMIT 50 by default and for LIMIT ≤ 0, and clamps it to 200', async () => {
    expect((await page({})).body.result).toHaveLength(50);
    expect((await page({ LIMIT: 0 })).body.result).toHaveLength(50);
    expect((await page({ LIMIT: -5 })).body.result).toHaveLength(50);
    const big = sim.admin.createChat({ memberIds: [1, ...sim.admin.addUsers(250)] });
    const clamped = await call(sim, 'im.dialog.users.list', {
      DIALOG_ID: `chat${big.id}`,
      LIMIT: 1000,
    });
    expect(clamped.body.result).toHaveLength(200);
    expect(clamped.body).toMatchObject({ total: 251, next: 200 });
  });

  it('lets start win over OFFSET when start > 0', async () => {
    const answer = await page({ LIMIT: 10, OFFSET: 0, start: 30 });
    expect(ids(answer.body.result)).toEqual(joinOrder.slice(30, 40));
    expect(answer.body.next).toBe(40);
    const ignored = await page({ LIMIT: 10, OFFSET: 20, start: -1 });
    expect(ids(ignored.body.result)).toEqual(joinOrder.slice(20, 30));
  });

  it('switches to keyset mode with LAST_ID: ascending IDs, no total or next', async () => {
    const sorted = [...joinOrder].sort((a, b) => a - b);
    const first = await page({ LAST_ID: 0, LIMIT: 50 });
    expect(ids(first.body.result)).toEqual(sorted.slice(0, 50));
    expect(Object.keys(first.body)).toEqual(['result', 'time']);
    const lastId = sorted[49] as number;
    const second = await page({ LAST_ID: String(lastId), LIMIT: 200 });
    expect(ids(second.body.result)).toEqual(sorted.slice(50));
    const end = await page({ LAST_ID: sorted.at(-1), LIMIT: 200 });
    expect(end.body.result).toEqual([]);
  });

  it('stays in OFFSET mode for a negative LAST_ID', async () => {
    const answer = await page({ LAST_ID: -1, LIMIT: 5 });
    expect(ids(answer.body.result)).toEqual(joinOrder.slice(0, 5));
    expect(answer.body.total).toBe(121);
  });

  it('leaves dismissed users out of pages and the total, in both modes', async () => {
    const dismissed = joinOrder[1] as number;
    sim.admin.setUserActive(dismissed, false);
    try {
      const offset = await page({ LIMIT: 200 });
      expect(offset.body.total).toBe(120);
      expect(ids(offset.body.result)).not.toContain(dismissed);
      const keyset = await page({ LAST_ID: 0, LIMIT: 200 });
      expect(ids(keyset.body.result)).not.toContain(dismissed);
    } finally {
      sim.admin.setUserActive(dismissed, true);
    }
  });

  it('returns the documented item shape (docs/bitrix24.md §3)', async () => {
    const [item] = (await page({ LIMIT: 1 })).body.result;
    expect(Object.keys(item)).toEqual([
      'id',
      'active',
      'name',
      'first_name',
      'last_name',
      'work_position',
      'color',
      'avatar',
      'avatar_hr',
      'gender',
      'birthday',
      'extranet',
      'network',
      'bot',
      'connector',
      'external_auth_id',
      'status',
      'idle',
      'last_activity_date',
      'mobile_last_date',
      'desktop_last_date',
      'absent',
      'departments',
      'phones',
      'bot_data',
      'type',
      'website',
      'email',
    ]);
    expect(item).toMatchObject({ id: 1, active: true, bot: false, bot_data: null, type: 'user' });
  });

  it('answers a missing or malformed DIALOG_ID with 400 DIALOG_ID_EMPTY', async () => {
    for (const params of [{}, { DIALOG_ID: '' }, { DIALOG_ID: 'chat' }, { DIALOG_ID: 'x12' }]) {
      const answer = await call(sim, 'im.dialog.users.list', params);
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({
        error: 'DIALOG_ID_EMPTY',
        error_description: "Dialog ID can't be empty",
      });
    }
  });

  it('answers 403 ACCESS_ERROR for a chat the caller is not in', async () => {
    const closed = sim.admin.createChat({ memberIds: [joinOrder[5] as number] });
    const answer = await call(sim, 'im.dialog.users.list', { DIALOG_ID: `chat${closed.id}` });
    expect(answer.status).toBe(403);
    expect(answer.body.error).toBe('ACCESS_ERROR');
  });

  it('answers 400 ACCESS_ERROR for a chat that cannot be resolved', async () => {
    const answer = await call(sim, 'im.dialog.users.list', { DIALOG_ID: 'chat987654' });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe('ACCESS_ERROR');
  });
});

describe('im.dialog.users.list on the demo portal', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ tls: false, rateLimit: false });
  });
  afterAll(() => sim.close());

  it('reads the general chat that im.chat.user.list refuses', async () => {
    const answer = await call(sim, 'im.dialog.users.list', { DIALOG_ID: 'chat1', LIMIT: 200 });
    expect(answer.status).toBe(200);
    expect(answer.body.total).toBe(24); // 25 users, one dismissed
  });

  it('skips external users only for SKIP_EXTERNAL=Y exactly', async () => {
    const all = await call(sim, 'im.dialog.users.list', { DIALOG_ID: 'chat6' });
    expect(ids(all.body.result)).toEqual([19, 1, 20, 23, 21]);
    const notY = await call(sim, 'im.dialog.users.list', {
      DIALOG_ID: 'chat6',
      SKIP_EXTERNAL: true,
    });
    expect(notY.body.total).toBe(5);
    const skipped = await postForm(
      `${sim.webhookUrl}im.dialog.users.list`,
      'DIALOG_ID=chat6&SKIP_EXTERNAL=Y',
    );
    // The bot (20) and the e-mail user (23) are external; the extranet user (21) is not.
    expect(ids(skipped.body.result)).toEqual([19, 1, 21]);
    expect(skipped.body.total).toBe(3);
  });

  it('keeps the types listed in SKIP_EXTERNAL_EXCEPT_TYPES, whose presence turns skipping on', async () => {
    const answer = await call(sim, 'im.dialog.users.list', {
      DIALOG_ID: 'chat6',
      SKIP_EXTERNAL_EXCEPT_TYPES: 'bot',
    });
    expect(ids(answer.body.result)).toEqual([19, 1, 20, 21]);
  });

  it('marks bots and extranet users in the items', async () => {
    const answer = await call(sim, 'im.dialog.users.list', { DIALOG_ID: 'chat6' });
    const byId = new Map(answer.body.result.map((u: { id: number }) => [u.id, u]));
    expect(byId.get(20)).toMatchObject({ bot: true, type: 'bot', external_auth_id: 'bot' });
    expect(byId.get(21)).toMatchObject({ extranet: true, type: 'extranet' });
  });
});

describe('im.dialog.get and im.user.list.get', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ tls: false, rateLimit: false });
  });
  afterAll(() => sim.close());

  it('describes a chat with dialog_id and user_counter', async () => {
    const answer = await call(sim, 'im.dialog.get', { DIALOG_ID: 'chat3' });
    expect(answer.body.result).toMatchObject({
      id: 3,
      dialog_id: 'chat3',
      name: 'Engineering',
      owner: 6,
      type: 'chat',
      message_type: 'C',
      // Active members: the dismissed user 22 is a member but not counted.
      user_counter: 9,
      manager_list: [6],
    });
  });

  it('refuses a chat the caller cannot see with 403 and a malformed ID with 400', async () => {
    expect((await call(sim, 'im.dialog.get', { DIALOG_ID: 'chat5' })).status).toBe(403);
    const malformed = await call(sim, 'im.dialog.get', { DIALOG_ID: 'abc' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toBe('DIALOG_ID_EMPTY');
  });

  it('maps requested IDs to users or null, dismissed users included', async () => {
    const answer = await call(sim, 'im.user.list.get', { ID: [22, 4040] });
    expect(answer.body.result).toEqual({
      '22': expect.objectContaining({ id: 22, active: false, last_name: 'Volkov' }),
      '4040': null,
    });
    expect('avatar_hr' in answer.body.result['22']).toBe(false);
  });

  it('returns the caller without ID and rejects a malformed ID list', async () => {
    expect(Object.keys((await call(sim, 'im.user.list.get', {})).body.result)).toEqual(['1']);
    const bad = await call(sim, 'im.user.list.get', { ID: ['x'] });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({
      error: 'INVALID_FORMAT',
      error_description: 'A wrong format for the ID field is passed',
    });
  });
});

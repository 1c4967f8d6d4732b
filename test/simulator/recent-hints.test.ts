import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator } from '../../local/simulator/start-simulator.js';
import type { RunningSimulator } from '../../local/simulator/types.js';
import { call, postJson } from './rest-call.js';

const DAY_MS = 86_400_000;

interface Row {
  chat_id: number;
  date_update: string;
  message: { id: number; date: string };
  chat: { user_counter: number };
}

/** The portal's own time (`time.date_start`) of a cheap call. */
async function portalNow(sim: RunningSimulator): Promise<string> {
  return (await call(sim, 'im.recent.get', { SKIP_CHAT: 'Y' })).body.time.date_start as string;
}

async function changedSince(sim: RunningSimulator, since: string, extra = {}): Promise<Row[]> {
  const answer = await call(sim, 'im.recent.get', { LAST_SYNC_DATE: since, ...extra });
  expect(answer.status).toBe(200);
  return answer.body.result as Row[];
}

const chatIds = (rows: Row[]) => rows.map((row) => row.chat_id).sort((a, b) => a - b);

describe('recent rows as change hints', () => {
  let sim: RunningSimulator;
  let since: string;

  beforeEach(async () => {
    // Generated chats 2..11 (5 members, the webhook user in each), general chat 1.
    sim = await startSimulator({
      tls: false,
      rateLimit: false,
      seed: { chats: 10, membersPerChat: 5, seed: 4 },
    });
    // ATOM dates have whole seconds: let the seeded activity fall before `since`.
    sim.advanceClock(2_000);
    since = await portalNow(sim);
    sim.advanceClock(1_000);
  });
  afterEach(() => sim.close());

  it('returns only the rows changed since LAST_SYNC_DATE, as one unpaged array', async () => {
    expect(await changedSince(sim, since)).toEqual([]);
    sim.admin.addMembers(3, [sim.admin.addUser().id]);
    sim.admin.removeMembers(7, [sim.admin.chat(7)?.memberIds.at(-1) ?? 0]);
    sim.admin.postMessage(9);
    const rows = await changedSince(sim, since, { OFFSET: 2, LIMIT: 1 });
    expect(chatIds(rows)).toEqual([3, 7, 9]);
    expect(rows[0]).toMatchObject({
      id: `chat${rows[0]?.chat_id}`,
      type: 'chat',
      date_update: expect.any(String),
      message: { date: rows[0]?.date_update },
      chat: { user_counter: expect.any(Number) },
    });
    expect(Date.parse(rows[0]?.date_update ?? '')).toBeGreaterThanOrEqual(Date.parse(since));
  });

  it('takes LAST_UPDATE as an alias of LAST_SYNC_DATE', async () => {
    sim.admin.postMessage(4);
    const answer = await call(sim, 'im.recent.get', { LAST_UPDATE: since });
    expect(chatIds(answer.body.result)).toEqual([4]);
  });

  it('reaches back at most 7 days', async () => {
    sim.admin.postMessage(5);
    sim.advanceClock(8 * DAY_MS);
    sim.admin.postMessage(6);
    // Asked from before chat 5's message, answered from 7 days ago only.
    expect(chatIds(await changedSince(sim, since))).toEqual([6]);
  });

  it("moves a member's rows forward with the portal's clock", async () => {
    sim.advanceClock(3_600_000);
    const before = Date.parse(since);
    expect(Date.parse(await portalNow(sim))).toBeGreaterThanOrEqual(before + 3_600_000);
    sim.admin.postMessage(2);
    const [row] = await changedSince(sim, since);
    expect(Date.parse(row?.date_update ?? '')).toBeGreaterThanOrEqual(before + 3_600_000);
  });

  it('counts active members only in user_counter', async () => {
    const members = sim.admin.chat(8)?.memberIds ?? [];
    const list = async () =>
      ((await call(sim, 'im.recent.list', { LIMIT: 200 })).body.result.items as Row[]).find(
        (row) => row.chat_id === 8,
      );
    expect((await list())?.chat.user_counter).toBe(members.length);
    sim.admin.setUserActive(members.at(-1) ?? 0, false);
    expect((await list())?.chat.user_counter).toBe(members.length - 1);
  });

  it("drops the leaver's own row and gives a joiner one", async () => {
    const userId = sim.admin.addUser().id;
    const theirs = sim.createWebhook(userId);
    const rowsOf = async () =>
      chatIds((await postJson(`${theirs}im.recent.get`, { LAST_SYNC_DATE: since })).body.result);
    sim.admin.addMembers(10, [userId]);
    expect(await rowsOf()).toEqual([10]);
    sim.admin.removeMembers(10, [userId]);
    expect(await rowsOf()).toEqual([]);
  });

  describe('silent paths: the membership changes, no row moves', () => {
    it('an internal call that skips the message', async () => {
      sim.admin.addMembers(2, [sim.admin.addUser().id], { silent: true });
      expect(await changedSince(sim, since)).toEqual([]);
    });

    it.each([
      ['an announcement chat', { announcement: true }],
      ['an open chat', { type: 'open' as const }],
      ['a channel', { type: 'channel' as const }],
      ['a collab', { type: 'collab' as const }],
      ['a group chat with leave messages off', { leaveMessages: false }],
    ])('a leave or removal in %s (a join still moves it)', async (_name, kind) => {
      const chat = sim.admin.createChat({ ...kind, memberIds: [1, 2, 3, 4] });
      sim.advanceClock(1_000);
      const after = await portalNow(sim);
      sim.advanceClock(1_000);
      sim.admin.removeMembers(chat.id, [2], { bySelf: true });
      sim.admin.removeMembers(chat.id, [3], { actorId: 1 });
      expect(await changedSince(sim, after)).toEqual([]);
      sim.admin.addMembers(chat.id, [5]);
      expect(chatIds(await changedSince(sim, after))).toEqual([chat.id]);
    });

    it("a user's hard deletion: every relation goes, no chat moves", async () => {
      const userId = sim.admin.chat(2)?.memberIds.at(-1) ?? 0;
      const before = sim.admin.chats().filter((c) => c.memberIds.includes(userId)).length;
      expect(sim.admin.deleteUserRelations(userId)).toHaveLength(before);
      expect(sim.admin.chats().filter((c) => c.memberIds.includes(userId))).toEqual([]);
      expect(await changedSince(sim, since)).toEqual([]);
    });

    it("the general chat's leave option off (Bitrix24's default), its join option on", async () => {
      sim.admin.setGeneralChatMessages({ leave: false });
      sim.admin.removeMembers(1, [sim.admin.chat(1)?.memberIds.at(-1) ?? 0]);
      expect(await changedSince(sim, since)).toEqual([]);
      sim.admin.addMembers(1, [sim.admin.addUser().id]);
      expect(chatIds(await changedSince(sim, since))).toEqual([1]);
    });

    it('the general chat with its auto-messages off', async () => {
      sim.admin.setGeneralChatMessages(false);
      sim.admin.addMembers(1, [sim.admin.addUser().id]);
      expect(await changedSince(sim, since)).toEqual([]);
      sim.admin.setGeneralChatMessages(true);
      sim.admin.addMembers(1, [sim.admin.addUser().id]);
      expect(chatIds(await changedSince(sim, since))).toEqual([1]);
    });

    it('a deactivation (membership stays, user_counter drops)', async () => {
      sim.admin.setUserActive(sim.admin.chat(6)?.memberIds.at(-1) ?? 0, false);
      expect(await changedSince(sim, since)).toEqual([]);
    });

    it('a chat the integration user is not in has no row at all', async () => {
      const elsewhere = sim.admin.createChat({ memberIds: [2, 3] });
      sim.admin.addMembers(elsewhere.id, [4]);
      expect(await changedSince(sim, since)).toEqual([]);
    });
  });
});

describe('admin routes for hints', () => {
  it('changes membership silently, posts messages, switches settings and moves the clock', async () => {
    const sim = await startSimulator({ tls: false, rateLimit: false, seed: 'demo' });
    try {
      sim.advanceClock(2_000);
      const since = await portalNow(sim);
      sim.advanceClock(1_000);
      const admin = (path: string, body: unknown) =>
        postJson(`${sim.baseUrl}/_admin/${path}`, body);
      expect((await admin('chats/2/members', { add: [7], silent: true })).status).toBe(200);
      expect(sim.admin.chat(2)?.memberIds).toContain(7);
      expect(await changedSince(sim, since)).toEqual([]);
      expect((await admin('chats/3/messages', {})).status).toBe(201);
      expect(chatIds(await changedSince(sim, since))).toEqual([3]);
      expect((await admin('settings', { generalChatMessages: false })).status).toBe(200);
      await admin('chats/1/members', { remove: [7] });
      expect(chatIds(await changedSince(sim, since))).toEqual([3]);
      const clock = await admin('clock', { advanceMs: DAY_MS });
      expect(clock.body.nowMs).toBeGreaterThan(Date.parse(since) + DAY_MS);
      expect((await admin('clock', { advanceMs: -1 })).status).toBe(400);
    } finally {
      await sim.close();
    }
  });
});

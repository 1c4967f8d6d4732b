import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PortalState } from '../../local/simulator/portal-state.js';
import { applySeed, churn, createRandom } from '../../local/simulator/seeds.js';
import { startSimulator } from '../../local/simulator/start-simulator.js';
import type { RunningSimulator } from '../../local/simulator/types.js';
import { call } from './rest-call.js';

describe('simulator seeds', () => {
  it('builds the demo portal: 25 users, a general chat with everyone, six group chats', () => {
    const state = new PortalState();
    applySeed(state, 'demo', 1, Date.now());
    expect(state.userIds()).toHaveLength(25);
    expect(state.generalChatId).toBe(1);
    expect(state.chat(1)?.memberIds).toHaveLength(25);
    expect(state.chats().map((chat) => chat.title)).toEqual([
      'General chat',
      'Marketing',
      'Engineering',
      'Board',
      'Finance',
      'Support',
      'Project Phoenix',
    ]);
    expect(state.chat(5)?.memberIds).not.toContain(1);
    expect(state.user(20)).toMatchObject({ bot: true, externalAuthId: 'bot' });
    expect(state.user(21)).toMatchObject({ extranet: true });
    expect(state.user(22)).toMatchObject({ active: false });
  });

  it('builds the empty portal with the webhook user and a general chat only', () => {
    const state = new PortalState();
    applySeed(state, 'empty', 1, Date.now());
    expect(state.userIds()).toEqual([1]);
    expect(state.chats().map((chat) => chat.id)).toEqual([1]);
  });

  // Generation speed is the benchmark's business (`npm run bench` prints "portal ready in N ms").
  it('generates 10,000 chats × 50 members plus a 200,000-member chat deterministically', () => {
    const seed = { chats: 10_000, membersPerChat: 50, largeChats: [200_000], seed: 7 };
    const state = new PortalState();
    applySeed(state, seed, 1, Date.now());
    expect(state.chatCount()).toBe(10_002);
    const regular = state.chat(2);
    expect(regular?.memberIds).toHaveLength(50);
    expect(regular?.memberIds[0]).toBe(1);
    const large = state.chat(10_002);
    expect(large?.memberIds).toHaveLength(200_000);
    expect(large?.memberIds).toContain(1);

    const again = new PortalState();
    applySeed(again, seed, 1, Date.now());
    expect(again.chat(2)?.memberIds).toEqual(regular?.memberIds);
    expect(again.chat(9_999)?.memberIds).toEqual(state.chat(9_999)?.memberIds);
  });

  it('scatters chat IDs with gaps and mixes chat kinds, keeping the same members', () => {
    const seed = {
      chats: 500,
      membersPerChat: 10,
      seed: 4,
      mix: { open: 0.2, channel: 0.1, leaveMessagesOff: 0.1 },
    };
    const plain = new PortalState();
    applySeed(plain, seed, 1, Date.now());
    const real = new PortalState();
    applySeed(real, { ...seed, chatIdGap: 200 }, 1, Date.now());
    const [plainChats, realChats] = [plain.chats(), real.chats()];
    expect(realChats.map((c) => [c.type, c.memberIds])).toEqual(
      plainChats.map((c) => [c.type, c.memberIds]),
    );
    const ids = realChats.map((c) => c.id);
    const gaps = ids.slice(1).map((id, i) => id - (ids[i] as number));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(200);
    expect(ids.at(-1)).toBeGreaterThan(500 * 50);
    const share = (pick: (c: (typeof realChats)[0]) => boolean) =>
      realChats.filter(pick).length / realChats.length;
    expect(share((c) => c.type === 'open')).toBeCloseTo(0.2, 1);
    expect(share((c) => c.type === 'channel')).toBeCloseTo(0.1, 1);
    expect(share((c) => c.type === 'chat' && !c.leaveMessages)).toBeCloseTo(0.1, 1);
  });

  it('churns the same members for the same PRNG seed', () => {
    const make = () => {
      const state = new PortalState();
      applySeed(state, { chats: 200, membersPerChat: 10, seed: 3 }, 1, Date.now());
      return state;
    };
    const first = make();
    const second = make();
    const changes = churn(first, { share: 0.2, random: createRandom(11) });
    expect(churn(second, { share: 0.2, random: 11 })).toEqual(changes);
    expect(changes.length).toBeGreaterThan(10);
    expect(changes.every((change) => change.userId !== 1)).toBe(true);
    for (const change of changes) {
      const members = first.chat(change.chatId)?.memberIds ?? [];
      expect(members.includes(change.userId)).toBe(change.change === 'joined');
    }
  });
});

describe('im.recent.list', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({
      tls: false,
      rateLimit: false,
      seed: { chats: 30, membersPerChat: 5, seed: 1 },
    });
  });
  afterAll(() => sim.close());

  type Page = { items: Array<{ id: string; chat_id: number; type: string }>; hasMore: boolean };

  it("lists the caller's chats newest first in the documented item shape", async () => {
    const answer = await call(sim, 'im.recent.list', { LIMIT: 5 });
    expect(answer.body.total).toBe(-1);
    const page = answer.body.result as Page & Record<string, unknown>;
    expect(page).toMatchObject({ hasMore: true, hasMorePages: true });
    expect(page.items[0]).toMatchObject({
      id: 'chat31',
      chat_id: 31,
      type: 'chat',
      chat: { id: 31, name: expect.any(String), type: 'chat', message_type: 'C', user_counter: 5 },
    });
  });

  it('overlaps consecutive OFFSET pages, and deduplicated pages cover every chat', async () => {
    const seen: string[] = [];
    let offset = 0;
    for (;;) {
      const page = (await call(sim, 'im.recent.list', { OFFSET: offset, LIMIT: 10 })).body
        .result as Page;
      seen.push(...page.items.map((item) => item.id));
      if (!page.hasMore) break;
      offset += 10;
    }
    const unique = new Set(seen);
    expect(seen.length).toBeGreaterThan(unique.size);
    expect(unique.size).toBe(31);
  });

  it('pages by LAST_MESSAGE_DATE without overlap', async () => {
    const first = (await call(sim, 'im.recent.list', { LIMIT: 20 })).body.result;
    const lastDate = first.items.at(-1).message.date as string;
    const second = (await call(sim, 'im.recent.list', { LIMIT: 20, LAST_MESSAGE_DATE: lastDate }))
      .body.result as Page;
    const ids = [...first.items, ...second.items].map((item: { id: string }) => item.id);
    expect(new Set(ids).size).toBe(31);
    expect(second.hasMore).toBe(false);
  });

  it('moves a chat whose membership changed to the top', async () => {
    sim.admin.addMembers(2, [sim.admin.addUser().id]);
    const page = (await call(sim, 'im.recent.list', { LIMIT: 1 })).body.result as Page;
    expect(page.items[0]?.chat_id).toBe(2);
  });

  it('returns no items with SKIP_CHAT=Y', async () => {
    const page = (await call(sim, 'im.recent.list', { SKIP_CHAT: 'Y' })).body.result as Page;
    expect(page.items).toEqual([]);
    expect(page.hasMore).toBe(false);
  });
});

describe('im.recent.list overlap option', () => {
  it('does not overlap when recentListPageOverlap is 0', async () => {
    const sim = await startSimulator({
      tls: false,
      rateLimit: false,
      seed: { chats: 9, membersPerChat: 3 },
      recentListPageOverlap: 0,
    });
    try {
      const first = (await call(sim, 'im.recent.list', { LIMIT: 5 })).body.result;
      const second = (await call(sim, 'im.recent.list', { LIMIT: 5, OFFSET: 5 })).body.result;
      const ids = [...first.items, ...second.items].map((item: { id: string }) => item.id);
      expect(ids).toHaveLength(10);
      expect(new Set(ids).size).toBe(10);
    } finally {
      await sim.close();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { createBitrix24MemberReader } from '../../functions/bitrix24/member-reader.js';
import type { MemberJoinedData } from '../../functions/core/build-events.js';
import { contentHash } from '../../functions/core/member-set.js';
import { type ChatId, DEFAULT_BREAKER, type UserId } from '../../functions/core/model.js';
import { syncWorkItem } from '../../functions/core/sync-work-item.js';
import { InMemorySnapshotStore, RecordingPublisher } from '../support/fakes.js';
import { useSimulator, webhookClient } from './support/simulator.js';

/**
 * Attribution end to end over real HTTP: the simulator writes the system messages a portal
 * writes, the production reader reads them, the core attributes the synced changes.
 */
describe('attribution from system messages, against the simulator', () => {
  const sim = useSimulator();

  /** A chat already synced a minute ago with `members`, then one sync of it now (as user 1). */
  async function syncAfter(
    chatId: ChatId,
    members: UserId[],
    change: () => void,
  ): Promise<Map<UserId, MemberJoinedData['attribution']>> {
    const store = new InMemorySnapshotStore();
    store.put({
      portalId: 'acme',
      chatId,
      members,
      contentHash: contentHash(members),
      version: 1,
      sequence: 1,
      observedAt: new Date(Date.now() - 60_000).toISOString(),
    });
    change();
    const publisher = new RecordingPublisher();
    const reader = createBitrix24MemberReader(webhookClient(sim()));
    const report = await syncWorkItem(
      {
        reader,
        store,
        publisher,
        clock: { now: () => new Date() },
        portal: { portalId: 'acme', source: 'https://acme.bitrix24.com' },
        breaker: DEFAULT_BREAKER,
      },
      { portalId: 'acme', chatIds: [chatId], scheduledAt: new Date().toISOString() },
    );
    expect(report.chats[0]?.error).toBeUndefined();
    return new Map(
      publisher.published.map((e) => {
        const data = e.event.data as MemberJoinedData;
        return [data.userId, data.attribution];
      }),
    );
  }

  it('names who invited, who removed, who left and who joined, with the message date', async () => {
    const admin = sim().admin;
    const [a, b, c, d, e] = admin.addUsers(5) as [number, number, number, number, number];
    const chat = admin.createChat({ memberIds: [1, a, c, d] });
    const got = await syncAfter(chat.id, [1, a, c, d], () => {
      admin.addMembers(chat.id, [b], { actorId: a });
      admin.removeMembers(chat.id, [c], { actorId: a });
      admin.removeMembers(chat.id, [d], { bySelf: true });
      admin.addMembers(chat.id, [e]);
      // More than 50 newer ordinary messages in front of the system messages.
      for (let i = 0; i < 60; i++) admin.postMessage(chat.id, { authorId: a });
    });
    const messages = admin.messages(chat.id);
    const about = (user: number) =>
      [...messages].reverse().find((m) => m.code !== undefined && m.text.includes(`=${user}`));
    const dateOf = (user: number) =>
      new Date(Math.floor((about(user)?.dateMs ?? 0) / 1000) * 1000).toISOString();
    expect(got.get(b)).toEqual({
      actorId: a,
      at: dateOf(b),
      how: 'invited',
      messageId: about(b)?.id,
    });
    expect(got.get(c)).toEqual({
      actorId: a,
      at: dateOf(c),
      how: 'removed',
      messageId: about(c)?.id,
    });
    expect(got.get(d)).toEqual({ actorId: d, at: dateOf(d), how: 'left', messageId: about(d)?.id });
    expect(got.get(e)).toMatchObject({ actorId: null, how: 'self_joined' });
    expect(sim().stats().byMethod['batch:im.dialog.messages.get']).toBe(2);
  });

  it('gives a silent join no actor and ignores a SYSTEM=Y spoof without CODE', async () => {
    const admin = sim().admin;
    const [a, b, c] = admin.addUsers(3) as [number, number, number];
    const chat = admin.createChat({ memberIds: [1, a] });
    const got = await syncAfter(chat.id, [1, a], () => {
      admin.addMembers(chat.id, [b], { silent: true });
      admin.addMembers(chat.id, [c], { silent: true });
      admin.addRestMessage(
        chat.id,
        a,
        `[USER=${a}]A[/USER] invited [USER=${c}]C[/USER] to chat.`,
        true,
      );
    });
    expect(got.get(b)).toBeNull();
    expect(got.get(c)).toBeNull();
  });

  it('reads no messages of a chat whose membership did not change', async () => {
    const admin = sim().admin;
    const [a] = admin.addUsers(1) as [number];
    const chat = admin.createChat({ memberIds: [1, a] });
    const got = await syncAfter(chat.id, [1, a], () => admin.postMessage(chat.id));
    expect(got.size).toBe(0);
    expect(sim().stats().byMethod['batch:im.dialog.messages.get'] ?? 0).toBe(0);
  });
});

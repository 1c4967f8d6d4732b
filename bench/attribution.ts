import { createBitrix24Client } from '../functions/bitrix24/bitrix24-client.js';
import { createBitrix24MemberReader } from '../functions/bitrix24/member-reader.js';
import { attributeChanges } from '../functions/core/attribute-changes.js';
import { diffMembers } from '../functions/core/diff-members.js';
import type { Attribution, ChatRead } from '../functions/core/model.js';
import { createRandom, startSimulator } from '../local/simulator/start-simulator.js';
import type { SimChatType } from '../local/simulator/types.js';

/** What the attribution bench measured (docs/events.md, `data.attribution`). */
export interface AttributionBench {
  /** Attributions that name the right actor, `how`, message and time, over all non-null ones. */
  readonly precision: number;
  /** Right attributions over the changes that posted a membership message. */
  readonly recall: number;
  /** Extra requests (message reads) per changed chat. */
  readonly churnRequestsPerChangedChat: number;
  /** Message requests on a tick where nothing changed. */
  readonly quietTickRequests: number;
  readonly changes: number;
  readonly changedChats: number;
}

type Expected = Omit<Attribution, 'at' | 'messageId'> | null;

/**
 * A portal of mixed chat types and languages churned by every path (invite, link, self-join,
 * removal, leave, silent adds and removals, avatar changes, SYSTEM=Y spoofs, and more than a page
 * of ordinary messages), then the production reader and the core's matcher, as the sync runs them:
 * members read, diffed, messages read for changed chats only, attributed; scored against what the
 * generator did. Seeded: the same seed, the same portal.
 */
export async function runAttributionBench(seed: number, chats = 60): Promise<AttributionBench> {
  const random = createRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const sim = await startSimulator({ seed: 'empty', rateLimit: false, tls: false });
  try {
    const admin = sim.admin;
    admin.setLanguage(pick(['en', 'ru', 'de'] as const));
    const users = admin.addUsers(40);
    const types: SimChatType[] = ['chat', 'chat', 'chat', 'open', 'workgroup', 'channel'];
    const chatIds = Array.from({ length: chats }, () => {
      const members = [1, ...users.filter(() => random() < 0.3)];
      return admin.createChat({ type: pick(types), memberIds: [...new Set(members)] }).id;
    });
    const client = createBitrix24Client({
      credentials: {
        load: async () => ({ kind: 'webhook', webhookUrl: sim.webhookUrl }),
        saveTokens: async () => {
          throw new Error('webhooks have no tokens');
        },
      },
      rateLimit: { burst: 1_000_000, drainPerSecond: 1_000_000 },
    });
    const reader = createBitrix24MemberReader(client);
    const before = await reader.readMembers(chatIds);
    const since = new Date(Date.now() - 1_000).toISOString();
    await new Promise((resolve) => setTimeout(resolve, 1_100));

    const expected = new Map<string, Expected>();
    for (const chatId of chatIds) {
      if (random() < 0.4) continue;
      const chat = admin.chat(chatId);
      if (!chat) continue;
      const posts = chat.type === 'chat';
      const actor = chat.memberIds.find((id) => id !== 1) ?? 1;
      const outside = users.filter((id) => !chat.memberIds.includes(id));
      const inside = chat.memberIds.filter((id) => id !== 1 && id !== actor);
      const joiner = outside.length > 0 ? pick(outside) : undefined;
      if (joiner !== undefined) {
        const path = pick(['invite', 'link', 'self', 'silent'] as const);
        if (path === 'silent') admin.addMembers(chatId, [joiner], { silent: true });
        else if (path === 'invite') admin.addMembers(chatId, [joiner], { actorId: actor });
        else if (path === 'link') admin.addMembers(chatId, [joiner], { linkAuthorId: actor });
        else admin.addMembers(chatId, [joiner]);
        const how = { invite: 'invited', link: 'joined_via_link', self: 'self_joined' } as const;
        expected.set(
          `${chatId}/${joiner}`,
          path === 'silent' || !posts
            ? null
            : { how: how[path], actorId: path === 'self' ? null : actor },
        );
      }
      const leaver = inside.length > 0 ? pick(inside) : undefined;
      if (leaver !== undefined) {
        const path = pick(['kick', 'leave', 'silent'] as const);
        if (random() < 0.3) admin.changeAvatar(chatId, leaver);
        if (path === 'silent') admin.removeMembers(chatId, [leaver], { silent: true });
        else if (path === 'kick') admin.removeMembers(chatId, [leaver], { actorId: actor });
        else admin.removeMembers(chatId, [leaver], { bySelf: true });
        expected.set(
          `${chatId}/${leaver}`,
          path === 'silent' || !posts
            ? null
            : {
                how: path === 'kick' ? 'removed' : 'left',
                actorId: path === 'kick' ? actor : leaver,
              },
        );
      }
      if (random() < 0.3 && joiner !== undefined) {
        const spoof = `[USER=${actor}]X[/USER] removed [USER=${joiner}]Y[/USER] from the chat.`;
        admin.addRestMessage(chatId, 1, spoof, true);
      }
      const ordinary = random() < 0.2 ? 60 : Math.floor(random() * 5);
      for (let i = 0; i < ordinary; i++) admin.postMessage(chatId, { authorId: actor });
    }

    const after = await reader.readMembers(chatIds);
    const changed = chatIds.flatMap((chatId) => {
      const a = before.get(chatId);
      const b = after.get(chatId);
      if (a?.kind !== 'complete' || b?.kind !== 'complete') return [];
      const diff = diffMembers(
        a.memberIds,
        (b as Extract<ChatRead, { kind: 'complete' }>).memberIds,
      );
      return diff.joined.length + diff.left.length > 0 ? [{ chatId, diff }] : [];
    });
    const quietBefore = reader.requestCount();
    await reader.readMessages?.([]);
    const quietTickRequests = reader.requestCount() - quietBefore;
    const requestsBefore = reader.requestCount();
    const messages = await reader.readMessages?.(changed.map((c) => ({ chatId: c.chatId, since })));
    const extra = reader.requestCount() - requestsBefore;

    let attributed = 0;
    let right = 0;
    let posted = 0;
    for (const { chatId, diff } of changed) {
      const found = attributeChanges(diff, messages?.get(chatId), since);
      const stored = admin.messages(chatId);
      for (const [userId, got] of found) {
        const want = expected.get(`${chatId}/${userId}`);
        if (want) posted += 1;
        if (got === null) continue;
        attributed += 1;
        const message = stored.find((m) => m.id === got.messageId);
        const at = message && new Date(Math.floor(message.dateMs / 1000) * 1000).toISOString();
        if (want && want.how === got.how && want.actorId === got.actorId && at === got.at) {
          right += 1;
        }
      }
    }
    return {
      precision: attributed === 0 ? 1 : right / attributed,
      recall: posted === 0 ? 1 : right / posted,
      churnRequestsPerChangedChat: changed.length === 0 ? 0 : extra / changed.length,
      quietTickRequests,
      changes: expected.size,
      changedChats: changed.length,
    };
  } finally {
    await sim.close();
  }
}

import { describe, expect, it } from 'vitest';
import { discoverGroupChats } from '../../functions/bitrix24/discover-chats.js';
import { Bitrix24AuthError, Bitrix24Error } from '../../functions/bitrix24/errors.js';
import { createBitrix24MemberReader } from '../../functions/bitrix24/member-reader.js';
import { caught } from './support/fixtures.js';
import { useSimulator, webhookClient } from './support/simulator.js';

describe('member reader against the simulator', () => {
  const sim = useSimulator({ seed: 'demo' });

  it('reads the member IDs of many chats in one batch request', async () => {
    const client = webhookClient(sim());
    const reader = createBitrix24MemberReader(client);
    const before = new Date().toISOString();
    const reads = await reader.readMembers([2, 3, 4, 7]);
    expect(reads.get(2)).toEqual({
      kind: 'complete',
      chatId: 2,
      memberIds: [1, 2, 3, 4, 5, 20],
      method: 'im.chat.user.list',
      startedAt: expect.any(String),
    });
    // The read's start is the batch request's: the next change's window begins there.
    const started = (reads.get(2) as { startedAt: string }).startedAt;
    expect(started >= before && started <= new Date().toISOString()).toBe(true);
    // im.chat.user.list keeps dismissed users (22 in Engineering), unlike im.dialog.users.list.
    expect(reads.get(3)).toMatchObject({
      kind: 'complete',
      memberIds: expect.arrayContaining([22]),
    });
    expect(reads.get(4)).toMatchObject({ kind: 'complete', memberIds: [1, 13, 14, 15] });
    expect(sim().stats().requests).toBe(1);
    expect(sim().stats().byMethod.batch).toBe(1);
    expect(reader.requestCount()).toBe(1);
  });

  it('uses one request per 50 chats', async () => {
    const users = sim().admin.addUsers(3);
    const chatIds = Array.from(
      { length: 120 },
      () => sim().admin.createChat({ memberIds: [1, ...users] }).id,
    );
    sim().resetStats();
    const reader = createBitrix24MemberReader(webhookClient(sim()));
    const reads = await reader.readMembers(chatIds);
    expect([...reads.values()].every((read) => read.kind === 'complete')).toBe(true);
    expect(sim().stats().byMethod.batch).toBe(3);
  });

  it('reports an empty list as no access, never as an empty chat', async () => {
    const reader = createBitrix24MemberReader(webhookClient(sim()));
    // Finance (5) does not include the webhook user: Bitrix24 answers [].
    const reads = await reader.readMembers([5, 999_999]);
    expect(reads.get(5)).toMatchObject({ kind: 'no_access', chatId: 5, code: 'EMPTY_MEMBER_LIST' });
    expect(reads.get(999_999)).toMatchObject({ kind: 'no_access' });
  });

  it('reads the general chat through the keyset fallback, without dismissed users', async () => {
    const reader = createBitrix24MemberReader(webhookClient(sim()));
    const reads = await reader.readMembers([1, 2]);
    const general = reads.get(1);
    expect(general).toMatchObject({ kind: 'complete', method: 'im.dialog.users.list' });
    expect(general?.kind === 'complete' && general.memberIds).not.toContain(22);
    expect(general?.kind === 'complete' && general.memberIds).toContain(1);
    expect(reads.get(2)).toMatchObject({ kind: 'complete', method: 'im.chat.user.list' });
    expect(sim().stats().byMethod['im.dialog.users.list']).toBe(2);
  });

  it('fails the chats whose commands failed, with their code, without throwing', async () => {
    // The simulator's command-level fault hits every im.chat.user.list command of one request.
    sim().faults.inject({
      method: 'im.chat.user.list',
      kind: 'status',
      status: 400,
      error: 'CHAT_ID_EMPTY',
      description: "Chat ID can't be empty",
    });
    const reader = createBitrix24MemberReader(webhookClient(sim()));
    const reads = await reader.readMembers([2, 4]);
    expect(reads.get(2)).toMatchObject({
      kind: 'failed',
      chatId: 2,
      code: 'CHAT_ID_EMPTY',
      retryable: false,
    });
    expect(reads.get(4)).toMatchObject({ kind: 'failed', chatId: 4, code: 'CHAT_ID_EMPTY' });
    expect(sim().stats().requests).toBe(1);
    const again = await reader.readMembers([2, 4]);
    expect([...again.values()].map((read) => read.kind)).toEqual(['complete', 'complete']);
  });

  it("keeps the webhook code out of a failed command's message", async () => {
    // A command error that echoes the request (as some portal errors do) must be redacted like
    // a top-level one: the read's message travels into sync.failed events.
    const code = /\/rest\/\d+\/([^/]+)\//.exec(sim().webhookUrl)?.[1] ?? '';
    expect(code.length).toBeGreaterThan(5);
    sim().faults.inject({
      method: 'im.chat.user.list',
      kind: 'status',
      status: 400,
      error: 'WRONG_REQUEST',
      description: `bad request ${sim().webhookUrl}im.chat.user.list (code ${code})`,
    });
    const reads = await createBitrix24MemberReader(webhookClient(sim())).readMembers([2]);
    const read = reads.get(2);
    expect(read).toMatchObject({ kind: 'failed', code: 'WRONG_REQUEST' });
    expect(JSON.stringify(read)).not.toContain(code);
  });

  it('fails a chat whose command result is malformed', async () => {
    sim().faults.inject({
      method: 'im.chat.user.list',
      kind: 'malformed-result',
      result: ['x', -1],
    });
    const reads = await createBitrix24MemberReader(webhookClient(sim())).readMembers([2]);
    expect(reads.get(2)).toMatchObject({ kind: 'failed', code: 'MALFORMED_RESPONSE' });
  });

  it('fails the chats of a batch refused as a whole with ACCESS_ERROR, without the keyset fallback', async () => {
    // Only a per-command ACCESS_ERROR (the general chat refusing im.chat.user.list) means "read
    // this chat another way"; the whole request refused says nothing about any one chat.
    sim().faults.inject({
      method: 'batch',
      kind: 'status',
      status: 403,
      error: 'ACCESS_ERROR',
      description: 'Access denied',
    });
    const reads = await createBitrix24MemberReader(webhookClient(sim())).readMembers([1, 2, 3]);
    for (const chatId of [1, 2, 3]) {
      expect(reads.get(chatId)).toMatchObject({
        kind: 'failed',
        chatId,
        code: 'ACCESS_ERROR',
        retryable: false,
      });
    }
    expect(sim().stats().byMethod['im.dialog.users.list']).toBeUndefined();
    expect(sim().stats().requests).toBe(1);
  });

  it('marks a failed read retryable or not by the error class of its code', async () => {
    sim().faults.inject({
      method: 'im.chat.user.list',
      kind: 'status',
      status: 500,
      error: 'INTERNAL_SERVER_ERROR',
    });
    const transient = await createBitrix24MemberReader(webhookClient(sim())).readMembers([2]);
    expect(transient.get(2)).toMatchObject({
      kind: 'failed',
      code: 'INTERNAL_SERVER_ERROR',
      retryable: true,
    });
    sim().faults.inject({ method: 'im.chat.user.list', kind: 'malformed-result', result: ['x'] });
    const malformed = await createBitrix24MemberReader(webhookClient(sim())).readMembers([2]);
    expect(malformed.get(2)).toMatchObject({ code: 'MALFORMED_RESPONSE', retryable: false });
  });

  it('fails every chat of a request that keeps failing', async () => {
    sim().faults.inject({ method: 'batch', kind: 'html', status: 502, times: 10 });
    const reader = createBitrix24MemberReader(webhookClient(sim()));
    const reads = await reader.readMembers([2, 3, 4]);
    expect([...reads.values()].map((read) => read.kind)).toEqual(['failed', 'failed', 'failed']);
    expect(reads.get(2)).toMatchObject({ code: 'NON_JSON_BODY', retryable: true });
  });

  it('throws when the portal rejects the credentials', async () => {
    const badUrl = sim().webhookUrl.replace(/\/rest\/1\/[^/]+\//, '/rest/1/wrongcode0000/');
    const reader = createBitrix24MemberReader(webhookClient(sim(), { credentials: store(badUrl) }));
    const error = await caught(reader.readMembers([2, 3]));
    expect(error).toBeInstanceOf(Bitrix24AuthError);
    expect((error as Bitrix24AuthError).code).toBe('INVALID_CREDENTIALS');
  });

  it('throws when the webhook lacks the im scope (insufficient_scope inside the batch)', async () => {
    const crmOnly = sim().createWebhook(1, { scopes: ['crm'] });
    const reader = createBitrix24MemberReader(
      webhookClient(sim(), { credentials: store(crmOnly) }),
    );
    const error = await caught(reader.readMembers([2, 3]));
    expect(error).toBeInstanceOf(Bitrix24AuthError);
    expect((error as Bitrix24AuthError).code).toBe('insufficient_scope');
  });

  it('fails the details lookup when a chunk fails, instead of reporting its users as unknown', async () => {
    const reader = createBitrix24MemberReader(webhookClient(sim()), { userIdsPerCommand: 10 });
    sim().faults.inject({
      kind: 'status',
      method: 'im.user.list.get',
      status: 500,
      error: 'INTERNAL_SERVER_ERROR',
    });
    const error = await caught(reader.readUserDetails([1, 2, 3]));
    expect(error).toBeInstanceOf(Bitrix24Error);
    expect((error as Bitrix24Error).code).toBe('INTERNAL_SERVER_ERROR');
  });

  it('reads user details in batches, skipping unknown users', async () => {
    const reader = createBitrix24MemberReader(webhookClient(sim()), { userIdsPerCommand: 10 });
    const ids = [...Array.from({ length: 25 }, (_, i) => i + 1), 888_888];
    const details = await reader.readUserDetails(ids);
    expect(details.size).toBe(25);
    expect(details.has(888_888)).toBe(false);
    expect(details.get(20)).toMatchObject({ id: 20, bot: true });
    expect(details.get(21)).toMatchObject({ id: 21, extranet: true });
    expect(details.get(2)).toMatchObject({ firstName: 'Boris', lastName: 'Smirnov' });
    expect(sim().stats().byMethod['batch:im.user.list.get']).toBe(3);
  });

  it('discovers the group chats the webhook user belongs to', async () => {
    const chatIds = await discoverGroupChats(webhookClient(sim()), { pageSize: 2 });
    expect(chatIds).toEqual(expect.arrayContaining([1, 2, 3, 4, 6, 7]));
    expect(chatIds).not.toContain(5);
    expect(new Set(chatIds).size).toBe(chatIds.length);
  });
});

function store(webhookUrl: string) {
  return {
    load: async () => ({ kind: 'webhook' as const, webhookUrl }),
    saveTokens: async () => false,
  };
}

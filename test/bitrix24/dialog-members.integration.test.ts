import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBitrix24MemberReader } from '../../functions/bitrix24/member-reader.js';
import { readDialogMembers } from '../../functions/bitrix24/read-dialog-members.js';
import type { RunningSimulator } from '../../local/simulator/types.js';
import { startPlainSimulator, useSimulator, webhookClient } from './support/simulator.js';

describe('keyset reads of im.dialog.users.list', () => {
  const sim = useSimulator();
  let pool: number[];
  beforeAll(() => {
    pool = sim().admin.addUsers(1_000);
  });

  // Pages: full ones, then a short one (if any), then the empty page that proves the end.
  it.each([
    [1, 2],
    [199, 2],
    [200, 2],
    [201, 3],
    [400, 3],
    [401, 4],
    [600, 4],
  ])('reads a chat of %i members completely in %i requests', async (size, requests) => {
    const members = pool.slice(0, size - 1);
    const chat = sim().admin.createChat({ memberIds: [1, ...members] });
    const read = await readDialogMembers(webhookClient(sim()), chat.id);
    expect(read).toEqual({
      kind: 'complete',
      chatId: chat.id,
      memberIds: [1, ...members].sort((a, b) => a - b),
      method: 'im.dialog.users.list',
      startedAt: expect.any(String),
    });
    expect(sim().stats().byMethod['im.dialog.users.list']).toBe(requests);
  });

  it('stops between pages when out of time and goes on from its progress to the same list, with no page read twice', async () => {
    const members = [1, ...pool.slice(0, 599)];
    const chat = sim().admin.createChat({ memberIds: members });
    const client = webhookClient(sim());
    let pages = 0;
    const stopAfterTwoPages = {
      call: ((...args: Parameters<typeof client.call>) => {
        pages += 1;
        return client.call(...args);
      }) as typeof client.call,
    };

    // Act: the first attempt's time runs out after two pages; the second goes on
    const first = await readDialogMembers({ ...client, ...stopAfterTwoPages }, chat.id, {
      get stopAt() {
        return pages >= 2 ? 0 : undefined;
      },
    });
    const second =
      first.kind === 'partial'
        ? await readDialogMembers(client, chat.id, { resume: first.progress })
        : first;

    // Assess
    expect(first).toMatchObject({
      kind: 'partial',
      progress: { memberIds: members.slice(0, 400) },
    });
    expect(first.kind === 'partial' && first.progress.lastId).toBe(members[399]);
    expect(second).toEqual({
      kind: 'complete',
      chatId: chat.id,
      memberIds: members,
      method: 'im.dialog.users.list',
      // A resumed read started at its first page, in the earlier invocation.
      startedAt: first.kind === 'partial' ? first.progress.startedAt : '',
    });
    // 2 pages, then the third and the empty page that proves the end: 4, as in one read.
    expect(sim().stats().byMethod['im.dialog.users.list']).toBe(4);
  });

  it('comes back partial, not failed, when the client reports its deadline', async () => {
    const members = [1, ...pool.slice(0, 399)];
    const chat = sim().admin.createChat({ memberIds: members });
    let deadline: number | undefined;
    const client = webhookClient(sim(), { deadlineAt: () => deadline });
    let pages = 0;
    const counting = {
      call: ((...args: Parameters<typeof client.call>) => {
        pages += 1;
        if (pages === 2) deadline = Date.now() - 1;
        return client.call(...args);
      }) as typeof client.call,
    };

    const read = await readDialogMembers({ ...client, ...counting }, chat.id);

    expect(read).toMatchObject({ kind: 'partial', progress: { memberIds: members.slice(0, 200) } });
  });

  it('reads an open chat with no active members as complete and empty in one request', async () => {
    const chat = sim().admin.createChat({ type: 'open', memberIds: [] });
    const read = await readDialogMembers(webhookClient(sim()), chat.id);
    expect(read).toEqual({
      kind: 'complete',
      chatId: chat.id,
      memberIds: [],
      method: 'im.dialog.users.list',
      startedAt: expect.any(String),
    });
    expect(sim().stats().byMethod['im.dialog.users.list']).toBe(1);
  });

  it('omits dismissed users, unlike im.chat.user.list', async () => {
    const [a, b] = pool.slice(0, 2) as [number, number];
    const chat = sim().admin.createChat({ memberIds: [1, a, b] });
    sim().admin.setUserActive(b, false);
    try {
      const read = await readDialogMembers(webhookClient(sim()), chat.id);
      expect(read).toMatchObject({ kind: 'complete', memberIds: [1, a] });
    } finally {
      sim().admin.setUserActive(b, true);
    }
  });

  it('detects a short page as a failed read, not a complete one', async () => {
    const chat = sim().admin.createChat({ memberIds: [1, ...pool.slice(0, 449)] });
    sim().faults.inject({ method: 'im.dialog.users.list', kind: 'short-page', drop: 3 });
    const read = await readDialogMembers(webhookClient(sim()), chat.id);
    expect(read).toMatchObject({ kind: 'failed', code: 'SHORT_PAGE', retryable: true });
  });

  it('detects a short last page followed by stragglers as failed', async () => {
    const chat = sim().admin.createChat({ memberIds: [1, ...pool.slice(0, 149)] });
    sim().faults.inject({ method: 'im.dialog.users.list', kind: 'short-page', drop: 1 });
    const read = await readDialogMembers(webhookClient(sim()), chat.id);
    expect(read).toMatchObject({ kind: 'failed', code: 'SHORT_PAGE' });
  });

  it('fails a read whose page is malformed', async () => {
    const chat = sim().admin.createChat({ memberIds: [1, 2] });
    sim().faults.inject({
      method: 'im.dialog.users.list',
      kind: 'malformed-result',
      result: { id: 1 },
    });
    const read = await readDialogMembers(webhookClient(sim()), chat.id);
    expect(read).toMatchObject({ kind: 'failed', code: 'MALFORMED_RESPONSE', retryable: false });
  });

  it('reports a chat the user cannot see as no access', async () => {
    const chat = sim().admin.createChat({ memberIds: pool.slice(0, 3) });
    const read = await readDialogMembers(webhookClient(sim()), chat.id);
    expect(read).toMatchObject({ kind: 'no_access', code: 'ACCESS_ERROR' });
  });
});

describe('a 200,000-member chat', () => {
  let sim: RunningSimulator;
  let members: number[];
  beforeAll(async () => {
    sim = await startPlainSimulator();
    members = sim.admin.addUsers(199_999);
    sim.admin.addMembers(sim.admin.generalChatId, members);
  }, 120_000);
  afterAll(() => sim.close());

  it('reads completely through im.chat.user.list in one request', async () => {
    const chat = sim.admin.createChat({ memberIds: [1, ...members] });
    sim.resetStats();
    const started = performance.now();
    const reads = await createBitrix24MemberReader(webhookClient(sim)).readMembers([chat.id]);
    const read = reads.get(chat.id);
    expect(read?.kind === 'complete' && read.memberIds.length).toBe(200_000);
    expect(sim.stats().requests).toBe(1);
    console.info(`200k via im.chat.user.list: ${Math.round(performance.now() - started)} ms`);
  });

  it('reads completely through the keyset fallback in 1,001 requests', async () => {
    sim.resetStats();
    const started = performance.now();
    const reader = createBitrix24MemberReader(webhookClient(sim));
    const reads = await reader.readMembers([sim.admin.generalChatId]);
    const read = reads.get(sim.admin.generalChatId);
    expect(read).toMatchObject({ kind: 'complete', method: 'im.dialog.users.list' });
    expect(read?.kind === 'complete' && read.memberIds.length).toBe(200_000);
    expect(sim.stats().byMethod['im.dialog.users.list']).toBe(1_001);
    console.info(
      `200k via keyset: ${reader.requestCount()} requests, ${Math.round(performance.now() - started)} ms`,
    );
  }, 300_000);
});

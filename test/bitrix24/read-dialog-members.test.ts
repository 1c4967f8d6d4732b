import { describe, expect, it } from 'vitest';
import type { Bitrix24Client } from '../../functions/bitrix24/client-types.js';
import { discoverGroupChats } from '../../functions/bitrix24/discover-chats.js';
import { readDialogMembers } from '../../functions/bitrix24/read-dialog-members.js';

/** A client whose `call` answers from a list of canned results and records the params. */
function cannedClient(pages: unknown[]) {
  const params: Record<string, unknown>[] = [];
  const client: Bitrix24Client = {
    call: async (_method, sent, schema) => {
      params.push({ ...sent });
      const result = schema.parse(pages.shift() ?? []);
      return { result, time: {} };
    },
    batch: async () => new Map(),
    requestCount: () => params.length,
    rateLimitedCount: () => 0,
  };
  return { client, params };
}

const users = (...ids: number[]) => ids.map((id) => ({ id }));
const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

describe('keyset member read', () => {
  it('pages by LAST_ID, never OFFSET, until an empty page', async () => {
    const { client, params } = cannedClient([users(...range(1, 200)), users(...range(201, 5)), []]);
    const read = await readDialogMembers(client, 9);
    expect(read).toMatchObject({ kind: 'complete', memberIds: range(1, 205) });
    expect(params).toEqual([
      { DIALOG_ID: 'chat9', LAST_ID: 0, LIMIT: 200 },
      { DIALOG_ID: 'chat9', LAST_ID: 200, LIMIT: 200 },
      { DIALOG_ID: 'chat9', LAST_ID: 205, LIMIT: 200 },
    ]);
  });

  it('fails a read whose IDs do not rise strictly within a page', async () => {
    const { client } = cannedClient([users(1, 3, 2)]);
    expect(await readDialogMembers(client, 9)).toMatchObject({
      kind: 'failed',
      code: 'NON_MONOTONIC_PAGE',
    });
  });

  it('fails a read whose next page goes back below LAST_ID', async () => {
    const { client } = cannedClient([users(...range(1, 200)), users(150, 400)]);
    expect(await readDialogMembers(client, 9)).toMatchObject({
      kind: 'failed',
      code: 'NON_MONOTONIC_PAGE',
    });
  });

  it('fails a read with a duplicate ID across pages', async () => {
    const { client } = cannedClient([users(...range(1, 200)), users(200, 201)]);
    expect(await readDialogMembers(client, 9)).toMatchObject({ kind: 'failed' });
  });

  it('fails a read where members follow a short page', async () => {
    const { client } = cannedClient([users(1, 2, 3), users(4)]);
    expect(await readDialogMembers(client, 9)).toMatchObject({
      kind: 'failed',
      code: 'SHORT_PAGE',
    });
  });

  it('fails a read that never reaches an empty page', async () => {
    const pages = range(0, 5).map((i) => users(...range(1 + i * 200, 200)));
    const { client } = cannedClient(pages);
    expect(await readDialogMembers(client, 9, { maxPages: 3 })).toMatchObject({
      kind: 'failed',
      code: 'TOO_MANY_PAGES',
    });
  });
});

describe('chat discovery', () => {
  const item = (chatId: number, type = 'chat', chatType = 'chat') => ({
    id: type === 'chat' ? `chat${chatId}` : chatId,
    chat_id: chatId,
    type,
    chat: { type: chatType },
  });

  it('deduplicates overlapping pages and keeps group chats only', async () => {
    const { client, params } = cannedClient([
      { items: [item(7), item(5), item(3, 'user')], hasMore: true },
      { items: [item(5), item(4, 'chat', 'lines'), item(2)], hasMore: false },
    ]);
    expect(await discoverGroupChats(client, { pageSize: 3 })).toEqual([2, 5, 7]);
    expect(params).toEqual([
      { SKIP_DIALOG: 'Y', SKIP_OPENLINES: 'Y', LIMIT: 3, OFFSET: 0 },
      { SKIP_DIALOG: 'Y', SKIP_OPENLINES: 'Y', LIMIT: 3, OFFSET: 3 },
    ]);
  });

  it('follows the deprecated hasMorePages when hasMore is absent', async () => {
    const { client, params } = cannedClient([
      { items: [item(1)], hasMorePages: true },
      { items: [item(2)], hasMorePages: false },
    ]);
    expect(await discoverGroupChats(client)).toEqual([1, 2]);
    expect(params).toHaveLength(2);
  });
});

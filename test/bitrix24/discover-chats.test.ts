import { describe, expect, it } from 'vitest';
import type { Bitrix24Client } from '../../functions/bitrix24/client-types.js';
import { discoverGroupChats } from '../../functions/bitrix24/discover-chats.js';
import { caught } from './support/fixtures.js';

type Page = { items: { id: string; chat_id: number; type: string }[]; hasMore?: boolean };

/** A client whose `im.recent.list` pages come from `pages` by OFFSET / LIMIT. */
function recentListClient(pages: Page[]): Bitrix24Client & { offsets: number[] } {
  const offsets: number[] = [];
  return {
    offsets,
    call: async (_method, params, schema) => {
      const offset = Number(params.OFFSET);
      offsets.push(offset);
      const page = pages[offset / Number(params.LIMIT)] ?? { items: [], hasMore: false };
      return { result: schema.parse(page), time: {} };
    },
    batch: async () => new Map(),
    requestCount: () => offsets.length,
    rateLimitedCount: () => 0,
  } as Bitrix24Client & { offsets: number[] };
}

const chat = (id: number) => ({ id: `chat${id}`, chat_id: id, type: 'chat' });

describe('chat discovery', () => {
  it('keeps paging past an empty page while the portal says there is more', async () => {
    // Items are collapsed into dialogs after paging (docs): a page of skipped entries can be
    // empty and still be followed by chats.
    const client = recentListClient([
      { items: [chat(9)], hasMore: true },
      { items: [], hasMore: true },
      { items: [chat(2)], hasMore: false },
    ]);
    expect(await discoverGroupChats(client, { pageSize: 2 })).toEqual([2, 9]);
  });

  it('fails rather than return a partial list when the page limit is reached', async () => {
    const client = recentListClient([
      { items: [chat(1)], hasMore: true },
      { items: [chat(2)], hasMore: true },
      { items: [chat(3)], hasMore: false },
    ]);
    const error = await caught(discoverGroupChats(client, { pageSize: 2, maxPages: 2 }));
    expect(error).toMatchObject({ code: 'TOO_MANY_PAGES', method: 'im.recent.list' });
  });
});

import type { ChatId } from '../core/model.js';
import type { Bitrix24Client } from './client-types.js';
import { Bitrix24MalformedResponseError } from './errors.js';
import { recentListSchema } from './schemas.js';

export interface DiscoverChatsOptions {
  /** `LIMIT` per page; the method's maximum is 200 (docs `im-recent-list.md`). */
  readonly pageSize?: number | undefined;
  /** Safety stop. Default 1 000 pages. */
  readonly maxPages?: number | undefined;
}

/**
 * IDs of every group chat the integration user sees in `im.recent.list` (docs
 * `api-reference/chats/im-recent-list.md`): `OFFSET` advances by `LIMIT`, not by the item count,
 * and pages may overlap (items are collapsed into dialogs after paging), so IDs are de-duplicated.
 * Dialogs and open lines are skipped server-side (`SKIP_DIALOG`, `SKIP_OPENLINES` = `Y`) and
 * again here: only `type: "chat"` items with a chat ID count, open-line chats excluded.
 * Paging ends when `hasMore` (or its deprecated alias `hasMorePages`) is false; only without
 * either flag does an empty page end it (an empty page with `hasMore: true` is what collapsing
 * skipped entries looks like). Reaching `maxPages` with more to come fails: a silently partial
 * list would leave chats unsynced run after run.
 */
export async function discoverGroupChats(
  client: Bitrix24Client,
  options: DiscoverChatsOptions = {},
): Promise<ChatId[]> {
  const pageSize = Math.min(200, options.pageSize ?? 200);
  const maxPages = options.maxPages ?? 1_000;
  const found = new Set<ChatId>();
  for (let page = 0; page < maxPages; page += 1) {
    const { result } = await client.call(
      'im.recent.list',
      { SKIP_DIALOG: 'Y', SKIP_OPENLINES: 'Y', LIMIT: pageSize, OFFSET: page * pageSize },
      recentListSchema,
    );
    for (const item of result.items) {
      if (item.type !== 'chat' || item.chat?.type === 'lines') continue;
      if (item.chat_id !== undefined && item.chat_id > 0) found.add(item.chat_id);
    }
    const hasMore = result.hasMore ?? result.hasMorePages ?? result.items.length > 0;
    if (!hasMore) return [...found].sort((a, b) => a - b);
  }
  throw new Bitrix24MalformedResponseError({
    code: 'TOO_MANY_PAGES',
    method: 'im.recent.list',
    description: `still more after ${maxPages} pages`,
  });
}

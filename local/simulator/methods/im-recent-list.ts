import { parseAtom } from '../bitrix-time.js';
import { intval, isSet, upperCaseKeys } from '../php-params.js';
import type { ChatRecord } from '../portal-state.js';
import type { MethodAnswer, MethodContext } from './method-types.js';
import { newestFirst, recentChatsOf, renderRecentRow } from './recent-row.js';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 200;

/**
 * `im.recent.list` (docs `api-reference/chats/im-recent-list.md`): the caller's recent dialogs,
 * newest activity first, as `{items, hasMore, hasMorePages, …}` with top-level `total: -1`.
 * Only group chats are simulated (no private dialogs or open lines). Paging: `LAST_MESSAGE_DATE`
 * (items strictly older than it) or `OFFSET`/`LIMIT` (default 50, max 200). The docs warn that
 * "page boundaries may overlap"; OFFSET pages after the first start `recentListPageOverlap`
 * items early so clients must deduplicate.
 */
export function imRecentList(context: MethodContext): MethodAnswer {
  const { state, callerId, params } = context;
  const p = upperCaseKeys(params);
  const limitValue = intval(p.LIMIT);
  const limit = limitValue <= 0 ? DEFAULT_LIMIT : Math.min(limitValue, MAX_LIMIT);
  const empty = { items: [], hasMorePages: false, hasMore: false };

  let chats: ChatRecord[] = p.SKIP_CHAT === 'Y' ? [] : recentChatsOf(state, callerId);
  const before = parseAtom(p.LAST_MESSAGE_DATE);
  if (before !== undefined) {
    // ATOM dates have whole seconds: everything from that second on counts as seen.
    const cutoff = Math.floor(before / 1000) * 1000;
    chats = chats.filter((chat) => chat.lastActivityMs < cutoff);
  }
  chats.sort(newestFirst);

  let from = 0;
  if (before === undefined && isSet(p.OFFSET)) {
    const offset = Math.max(0, intval(p.OFFSET));
    // Capped below half a page so that paging by OFFSET += LIMIT always moves forward.
    const overlap = Math.min(context.recentListPageOverlap, Math.floor(limit / 2));
    from = offset > 0 ? Math.max(0, offset - overlap) : 0;
  }
  const page = chats.slice(from, from + limit);
  const hasMore = from + page.length < chats.length;
  const result = page.length
    ? {
        items: page.map((chat) => renderRecentRow(state, chat, callerId)),
        hasMorePages: hasMore,
        hasMore,
      }
    : empty;
  return {
    result: {
      ...result,
      copilot: { chats: null, messages: null, roles: [], recommendedRoles: [] },
      messagesAutoDeleteConfigs: [],
    },
    total: -1,
  };
}

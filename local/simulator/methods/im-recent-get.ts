import { parseAtom } from '../bitrix-time.js';
import { intval, isSet, upperCaseKeys } from '../php-params.js';
import type { MethodAnswer, MethodContext } from './method-types.js';
import { newestFirst, recentChatsOf, renderRecentRow } from './recent-row.js';

const DAY_MS = 86_400_000;
/** How far back `LAST_SYNC_DATE` may reach; an older date is moved up to this. */
const SYNC_WINDOW_MS = 7 * DAY_MS;
/** The rows returned without `LAST_SYNC_DATE`. */
const DEFAULT_WINDOW_MS = 30 * DAY_MS;

/**
 * `im.recent.get` (docs `api-reference/chats/im-recent-get.md`; docs/bitrix24.md, "Recent list as
 * change hints"): the caller's recent rows as one plain array, newest first. With
 * `LAST_SYNC_DATE` (or its alias `LAST_UPDATE`, which overrides it) only rows whose
 * `date_update` is at or after that date come back, the date moved up to at most 7 days ago,
 * and `OFFSET`/`LIMIT` are ignored. An unparsable date is ignored like the source does
 * (30 days, paged). Only group chats are simulated: `SKIP_CHAT` or `ONLY_OPENLINES` = `Y`
 * return nothing.
 */
export function imRecentGet(context: MethodContext): MethodAnswer {
  const { state, callerId, params, nowMs } = context;
  const p = upperCaseKeys(params);
  if (p.SKIP_CHAT === 'Y' || p.ONLY_OPENLINES === 'Y') return { result: [] };

  const since = parseAtom(isSet(p.LAST_UPDATE) ? p.LAST_UPDATE : p.LAST_SYNC_DATE);
  const from =
    since === undefined ? nowMs - DEFAULT_WINDOW_MS : Math.max(since, nowMs - SYNC_WINDOW_MS);
  // DATE_UPDATE is stored in whole seconds and compared with >=.
  const fromSecond = Math.floor(from / 1000);
  let rows = recentChatsOf(state, callerId)
    .filter((chat) => Math.floor(chat.lastActivityMs / 1000) >= fromSecond)
    .sort(newestFirst);
  if (since === undefined) {
    const offset = Math.max(0, intval(p.OFFSET));
    const limit = intval(p.LIMIT);
    rows = rows.slice(offset, limit > 0 ? offset + limit : undefined);
  }
  return { result: rows.map((chat) => renderRecentRow(state, chat, callerId)) };
}

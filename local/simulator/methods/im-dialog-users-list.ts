import { parseDialogId } from '../dialog-id.js';
import { intval, isSet, upperCaseKeys } from '../php-params.js';
import { NO_FILTER } from '../portal-state.js';
import { dialogIdEmpty, RestError } from '../rest-error.js';
import { externalFilter, renderUser } from '../user-view.js';
import type { MethodAnswer, MethodContext } from './method-types.js';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 200;

/** docs/bitrix24.md §3 `getLimit`: absent or ≤0 → 50, above 200 → 200. */
function pageLimit(value: unknown): number {
  const limit = intval(value);
  if (limit <= 0) return DEFAULT_LIMIT;
  return Math.min(limit, MAX_LIMIT);
}

/** First index in ascending `ids` whose value is greater than `lastId`. */
function upperBound(ids: readonly number[], lastId: number): number {
  let low = 0;
  let high = ids.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((ids[mid] ?? 0) <= lastId) low = mid + 1;
    else high = mid;
  }
  return low;
}

const noAccess = () =>
  new RestError(403, 'ACCESS_ERROR', 'You do not have access to the specified dialog');
/** docs/bitrix24.md §3: the source answers an unresolvable dialog with 400, not 403. */
const unresolvable = () => new RestError(400, 'ACCESS_ERROR', "You don't have access to this chat");

/**
 * `im.dialog.users.list` (docs/bitrix24.md §3). OFFSET mode: active members in relation order,
 * `total` = count, `next` = offset + page length only while more remain. Keyset mode (`LAST_ID` set
 * and ≥ 0): `USER_ID > LAST_ID ORDER BY USER_ID`, bare array, no `total`/`next`. Dismissed users
 * are left out in both.
 */
export function imDialogUsersList(context: MethodContext): MethodAnswer {
  const { state, callerId, params } = context;
  const p = upperCaseKeys(params);
  if (!isSet(p.DIALOG_ID) || p.DIALOG_ID === '') throw dialogIdEmpty();
  const ref = parseDialogId(p.DIALOG_ID);
  if (!ref) throw dialogIdEmpty();

  const filter = externalFilter(p.SKIP_EXTERNAL, p.SKIP_EXTERNAL_EXCEPT_TYPES) ?? NO_FILTER;
  let joinOrder: readonly number[];
  let byId: () => readonly number[];
  if (ref.kind === 'chat') {
    const chat = state.chatRecord(ref.chatId);
    if (!chat) throw unresolvable();
    if (!state.canRead(chat, callerId)) throw noAccess();
    joinOrder = state.activeInJoinOrder(chat, filter);
    byId = () => state.activeById(chat, filter);
  } else if (ref.kind === 'private') {
    const other = state.user(ref.userId);
    if (!other || ref.userId === callerId) throw unresolvable();
    const pair = [callerId, ref.userId].filter((id) => {
      const user = state.user(id);
      return user?.active === true && filter.keep(user);
    });
    joinOrder = pair;
    byId = () => [...pair].sort((a, b) => a - b);
  } else {
    throw unresolvable();
  }

  const limit = pageLimit(p.LIMIT);
  const render = (ids: readonly number[]) => {
    const count = Math.max(0, ids.length - context.shortPageDrop);
    const items: Array<Record<string, unknown>> = [];
    for (let i = 0; i < count; i++) {
      const user = state.user(ids[i] as number);
      if (user) items.push(renderUser(user));
    }
    return items;
  };

  if (isSet(p.LAST_ID) && intval(p.LAST_ID) >= 0) {
    const sorted = byId();
    const from = upperBound(sorted, intval(p.LAST_ID));
    return { result: render(sorted.slice(from, from + limit)) };
  }

  // docs/bitrix24.md §3 getOffset: the generic `start` wins when > 0 (it is read as sent,
  // lower-case).
  const start = intval(params.start);
  const offset = start > 0 ? start : Math.max(0, intval(p.OFFSET));
  const page = joinOrder.slice(offset, offset + limit);
  const total = joinOrder.length;
  // The short-page fault drops items after `next` is fixed: a client trusting `next` misses them.
  const reached = offset + page.length;
  return reached < total
    ? { result: render(page), total, next: reached }
    : { result: render(page), total };
}

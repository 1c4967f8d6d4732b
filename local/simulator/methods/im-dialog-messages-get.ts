import { formatAtom } from '../bitrix-time.js';
import { intval, isSet, upperCaseKeys } from '../php-params.js';
import type { SimMessage } from '../types.js';
import { renderUser } from '../user-view.js';
import type { MethodAnswer, MethodContext } from './method-types.js';
import { readableChatDialog } from './readable-chat-dialog.js';

/** Messages per page without `LIMIT`, and the most one page returns. */
const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 50;

/**
 * `im.dialog.messages.get` (b24restdocs `api-reference/chats/messages/im-dialog-messages-get.md`):
 * newest first, `LAST_ID` pages back to older IDs, `FIRST_ID` forward; `LIMIT` ≤ 50; with the
 * authors and tagged users in `users`. `params.CODE` comes back as a string or a one-element
 * array (both are seen); messages without one carry `params: []`.
 */
export function imDialogMessagesGet({ state, callerId, params }: MethodContext): MethodAnswer {
  const p = upperCaseKeys(params);
  const chat = readableChatDialog(state, callerId, p.DIALOG_ID);
  const requested = isSet(p.LIMIT) ? intval(p.LIMIT) : DEFAULT_LIMIT;
  const limit = Math.min(MAX_LIMIT, requested > 0 ? requested : DEFAULT_LIMIT);
  const lastId = isSet(p.LAST_ID) ? intval(p.LAST_ID) : 0;
  const firstId = isSet(p.FIRST_ID) ? intval(p.FIRST_ID) : 0;
  const all = chat.messages;
  let page: SimMessage[];
  if (firstId > 0) {
    page = all.filter((m) => m.id > firstId).slice(0, limit);
  } else {
    const older = lastId > 0 ? all.filter((m) => m.id < lastId) : all;
    page = older.slice(-limit);
  }
  page = [...page].reverse();
  const userIds = new Set<number>();
  for (const message of page) {
    if (message.authorId > 0) userIds.add(message.authorId);
    for (const tag of message.text.matchAll(/\[USER=(\d+)/g)) userIds.add(Number(tag[1]));
  }
  return {
    result: {
      chat_id: chat.id,
      messages: page.map((m) => ({
        id: m.id,
        chat_id: m.chatId,
        author_id: m.authorId,
        date: formatAtom(m.dateMs),
        text: m.text,
        unread: false,
        uuid: null,
        replaces: [],
        params: m.code === undefined ? [] : { CODE: m.id % 2 === 0 ? m.code : [m.code] },
      })),
      users: [...userIds].flatMap((id) => {
        const user = state.user(id);
        return user ? [renderUser(user)] : [];
      }),
      files: [],
    },
  };
}

import { parseDialogId } from '../dialog-id.js';
import { intval, isSet, upperCaseKeys } from '../php-params.js';
import { dialogIdEmpty, RestError } from '../rest-error.js';
import type { MethodAnswer, MethodContext } from './method-types.js';

/**
 * `im.chat.user.list` (docs/bitrix24.md §4): every relation's user ID, unpaged, no ACTIVE or
 * external filtering (dismissed users and bots included), in relation order. `[]` when the caller
 * may not see the chat or it does not exist. The general chat is refused with 403 ACCESS_ERROR.
 */
export function imChatUserList({ state, callerId, params }: MethodContext): MethodAnswer {
  const p = upperCaseKeys(params);
  let chatId = intval(p.CHAT_ID);
  if (!isSet(p.CHAT_ID) && isSet(p.DIALOG_ID)) {
    const ref = parseDialogId(p.DIALOG_ID);
    if (!ref || ref.kind === 'private') throw dialogIdEmpty();
    // sgN / crmN name a workgroup or CRM entity; none are simulated, so nothing resolves.
    if (ref.kind !== 'chat') return { result: [] };
    chatId = ref.chatId;
  }
  if (chatId <= 0) throw new RestError(400, 'CHAT_ID_EMPTY', "Chat ID can't be empty");
  if (chatId === state.generalChatId) {
    throw new RestError(403, 'ACCESS_ERROR', 'Action unavailable');
  }
  const chat = state.chatRecord(chatId);
  if (!chat || !state.canRead(chat, callerId)) return { result: [] };
  return { result: Array.from(chat.members) };
}

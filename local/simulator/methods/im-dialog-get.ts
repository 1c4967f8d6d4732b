import { renderChat } from '../chat-view.js';
import { parseDialogId } from '../dialog-id.js';
import { isSet, upperCaseKeys } from '../php-params.js';
import { dialogIdEmpty, RestError } from '../rest-error.js';
import type { MethodAnswer, MethodContext } from './method-types.js';

/** `im.dialog.get` (docs/bitrix24.md §5): the chat object with `dialog_id` and `user_counter`. */
export function imDialogGet({ state, callerId, params }: MethodContext): MethodAnswer {
  const p = upperCaseKeys(params);
  if (!isSet(p.DIALOG_ID) || p.DIALOG_ID === '') throw dialogIdEmpty();
  const ref = parseDialogId(p.DIALOG_ID);
  if (!ref) throw dialogIdEmpty();
  const chat = ref.kind === 'chat' ? state.chatRecord(ref.chatId) : undefined;
  if (!chat || !state.canRead(chat, callerId)) {
    throw new RestError(403, 'ACCESS_ERROR', 'You do not have access to the specified dialog');
  }
  return {
    result: {
      ...renderChat(state, chat, callerId),
      dialog_id: `chat${chat.id}`,
      last_message_id: chat.lastMessageId,
    },
  };
}

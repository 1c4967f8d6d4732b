import { renderChat } from '../chat-view.js';
import { upperCaseKeys } from '../php-params.js';
import type { MethodAnswer, MethodContext } from './method-types.js';
import { readableChatDialog } from './readable-chat-dialog.js';

/** `im.dialog.get` (docs/bitrix24.md §5): the chat object with `dialog_id` and `user_counter`. */
export function imDialogGet({ state, callerId, params }: MethodContext): MethodAnswer {
  const p = upperCaseKeys(params);
  const chat = readableChatDialog(state, callerId, p.DIALOG_ID);
  return {
    result: {
      ...renderChat(state, chat, callerId),
      dialog_id: `chat${chat.id}`,
      last_message_id: chat.lastMessageId,
    },
  };
}

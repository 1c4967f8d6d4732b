import { parseDialogId } from '../dialog-id.js';
import { isSet, upperCaseKeys } from '../php-params.js';
import { dialogIdEmpty, RestError } from '../rest-error.js';
import type { MethodAnswer, MethodContext } from './method-types.js';

/**
 * `im.message.add` (b24restdocs `api-reference/chats/messages/im-message-add.md`) to a chat:
 * `SYSTEM=Y` posts as a system message (author 0) but never with a `CODE`, so a REST client can
 * write any text that looks like a membership message. Returns the message ID.
 */
export function imMessageAdd({ state, callerId, params }: MethodContext): MethodAnswer {
  const p = upperCaseKeys(params);
  if (!isSet(p.DIALOG_ID) || p.DIALOG_ID === '') throw dialogIdEmpty();
  const ref = parseDialogId(p.DIALOG_ID);
  const chat = ref?.kind === 'chat' ? state.chatRecord(ref.chatId) : undefined;
  if (!chat?.members.has(callerId)) {
    throw new RestError(403, 'ACCESS_ERROR', 'You do not have access to the specified dialog');
  }
  const text = typeof p.MESSAGE === 'string' ? p.MESSAGE : '';
  if (text === '') throw new RestError(400, 'MESSAGE_EMPTY', 'Message can not be empty');
  const message = state.addRestMessage(chat.id, callerId, text, p.SYSTEM === 'Y');
  return { result: message.id };
}

import { parseDialogId } from '../dialog-id.js';
import { isSet } from '../php-params.js';
import type { ChatRecord, PortalState } from '../portal-state.js';
import { dialogIdEmpty, RestError } from '../rest-error.js';

/**
 * The group chat a `DIALOG_ID` names, as the `im.dialog.*` methods resolve it: an empty or
 * unparsable ID is `DIALOG_ID_EMPTY`; a private dialog, an unknown chat or one the caller may not
 * read is 403 `ACCESS_ERROR`.
 */
export function readableChatDialog(
  state: PortalState,
  callerId: number,
  dialogId: unknown,
): ChatRecord {
  if (!isSet(dialogId) || dialogId === '') throw dialogIdEmpty();
  const ref = parseDialogId(dialogId);
  if (!ref) throw dialogIdEmpty();
  const chat = ref.kind === 'chat' ? state.chatRecord(ref.chatId) : undefined;
  if (!chat || !state.canRead(chat, callerId)) {
    throw new RestError(403, 'ACCESS_ERROR', 'You do not have access to the specified dialog');
  }
  return chat;
}

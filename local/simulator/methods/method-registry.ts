import { imChatUserList } from './im-chat-user-list.js';
import { imDialogGet } from './im-dialog-get.js';
import { imDialogMessagesGet } from './im-dialog-messages-get.js';
import { imDialogUsersList } from './im-dialog-users-list.js';
import { imMessageAdd } from './im-message-add.js';
import { imRecentGet } from './im-recent-get.js';
import { imRecentList } from './im-recent-list.js';
import { imUserListGet } from './im-user-list-get.js';
import type { MethodHandler } from './method-types.js';

/** The scope every simulated method needs (`batch` itself is `basic`, always granted). */
export const METHOD_SCOPE = 'im';

/**
 * The simulated REST methods, keyed by lower-case name (docs/bitrix24.md §1: classic names are
 * case-insensitive).
 */
export const METHODS: ReadonlyMap<string, MethodHandler> = new Map([
  ['im.chat.user.list', imChatUserList],
  ['im.dialog.users.list', imDialogUsersList],
  ['im.dialog.get', imDialogGet],
  ['im.dialog.messages.get', imDialogMessagesGet],
  ['im.message.add', imMessageAdd],
  ['im.user.list.get', imUserListGet],
  ['im.recent.list', imRecentList],
  ['im.recent.get', imRecentGet],
]);

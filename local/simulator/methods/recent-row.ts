import { formatAtom } from '../bitrix-time.js';
import { renderChat } from '../chat-view.js';
import type { ChatRecord, PortalState } from '../portal-state.js';
import { renderUser, userColor } from '../user-view.js';

/** Recent-list order: pinned rows first (none are simulated), then the newest message first. */
export function newestFirst(a: ChatRecord, b: ChatRecord): number {
  return b.lastActivityMs - a.lastActivityMs || b.id - a.id;
}

/** The caller's recent rows: one per chat the caller is a member of (no row otherwise). */
export function recentChatsOf(state: PortalState, callerId: number): ChatRecord[] {
  const chats: ChatRecord[] = [];
  for (const chatId of state.chatIdsOf(callerId)) {
    const chat = state.chatRecord(chatId);
    if (chat) chats.push(chat);
  }
  return chats;
}

/**
 * One group-chat row of `im.recent.list` / `im.recent.get` (docs `im-recent-list.md`): the last
 * message, `date_update` (the row's last change: the last message that bumped it) and the chat
 * object with `user_counter`.
 */
export function renderRecentRow(state: PortalState, chat: ChatRecord, callerId: number) {
  const date = formatAtom(chat.lastActivityMs);
  const author = state.user(chat.ownerId);
  return {
    id: `chat${chat.id}`,
    chat_id: chat.id,
    type: 'chat',
    avatar: { url: '', color: userColor(chat.id) },
    title: chat.title,
    message: {
      id: chat.lastMessageId,
      text: '',
      file: false,
      author_id: 0,
      attach: false,
      sticker: null,
      date,
      status: 'received',
      uuid: null,
    },
    counter: 0,
    last_id: chat.lastMessageId,
    pinned: false,
    unread: false,
    has_reminder: false,
    date_update: date,
    date_last_activity: date,
    chat: renderChat(state, chat, callerId),
    user: author ? renderUser(author) : { id: 0 },
    options: [],
  };
}

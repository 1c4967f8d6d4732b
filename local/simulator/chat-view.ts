import { formatAtom } from './bitrix-time.js';
import type { ChatRecord, PortalState } from './portal-state.js';
import { userColor } from './user-view.js';

/**
 * `message_type` (docs/bitrix24.md §5): C group (a workgroup's chat too), O open (the general chat
 * too), N channel, B collab.
 */
function messageType(chat: ChatRecord): string {
  switch (chat.type) {
    case 'chat':
    case 'workgroup':
      return 'C';
    case 'channel':
      return 'N';
    case 'collab':
      return 'B';
    default:
      return 'O';
  }
}

/**
 * The chat object of `im.dialog.get` (docs/bitrix24.md §5) and of `im.recent.*` rows.
 * `user_counter` counts active members only, so a deactivation lowers it without any message
 * (docs/bitrix24.md §11; unverified against a live portal, docs/bitrix24.md §12).
 */
export function renderChat(state: PortalState, chat: ChatRecord, callerId: number) {
  const role = chat.ownerId === callerId ? 'OWNER' : chat.members.has(callerId) ? 'MEMBER' : 'NONE';
  return {
    id: chat.id,
    parent_chat_id: 0,
    parent_message_id: 0,
    name: chat.title,
    owner: chat.ownerId,
    extranet: state.hasExtranetMember(chat),
    contains_collaber: false,
    avatar: '',
    color: userColor(chat.id),
    type: chat.type,
    entity_type: chat.type === 'general' ? 'GENERAL' : '',
    entity_id: '',
    entity_data_1: '',
    entity_data_2: '',
    entity_data_3: '',
    mute_list: [],
    manager_list: [chat.ownerId],
    date_create: formatAtom(chat.createdAtMs),
    message_type: messageType(chat),
    user_counter: state.activeMemberCount(chat),
    restrictions: {
      avatar: true,
      rename: true,
      extend: true,
      call: true,
      mute: true,
      leave: chat.type !== 'general',
      leave_owner: chat.type !== 'general',
      send: true,
      user_list: true,
    },
    role,
    text_field_enabled: true,
    background_id: null,
    entity_link: { type: '', url: '', id: '' },
    permissions: {
      manage_users_add: 'member',
      manage_users_delete: 'manager',
      manage_ui: 'member',
      manage_settings: 'owner',
      manage_messages: 'member',
      can_post: 'member',
    },
    public: '',
  };
}

import {
  type NamedUser,
  type PortalLanguage,
  renderSystemText,
  SYSTEM_TEXTS,
  type SystemTextTable,
} from './system-texts.js';
import type {
  MembershipChangeOptions,
  NewChat,
  NewUser,
  PortalAdmin,
  SimChat,
  SimChatType,
  SimMessage,
  SimUser,
} from './types.js';

/** Names for users created without one: deterministic by ID so every run reads the same. */
const FIRST_NAMES = [
  ['Anna', 'F'],
  ['Boris', 'M'],
  ['Carla', 'F'],
  ['Dmitri', 'M'],
  ['Elena', 'F'],
  ['Farid', 'M'],
  ['Greta', 'F'],
  ['Hugo', 'M'],
  ['Irina', 'F'],
  ['Jonas', 'M'],
  ['Katya', 'F'],
  ['Lev', 'M'],
  ['Mila', 'F'],
  ['Nikolai', 'M'],
  ['Olga', 'F'],
  ['Pavel', 'M'],
] as const;
const LAST_NAMES = [
  'Petrova',
  'Smirnov',
  'Keller',
  'Novak',
  'Ivanova',
  'Haddad',
  'Lindqvist',
  'Moreau',
  'Kuznetsova',
  'Weber',
  'Orlova',
  'Tanaka',
  'Sokolova',
  'Brandt',
  'Volkova',
  'Fischer',
  'Romanova',
];

export function defaultName(id: number): {
  firstName: string;
  lastName: string;
  gender: 'M' | 'F';
} {
  const first = FIRST_NAMES[id % FIRST_NAMES.length] ?? FIRST_NAMES[0];
  const lastName = LAST_NAMES[Math.floor(id / FIRST_NAMES.length) % LAST_NAMES.length] ?? 'Petrova';
  return { firstName: first[0], lastName, gender: first[1] };
}

/** Chat types anyone on the portal may read; the others only their members. */
const PUBLIC_CHAT_TYPES: ReadonlySet<SimChatType> = new Set(['open', 'general', 'channel']);

export interface UserRecord extends SimUser {
  readonly gender: 'M' | 'F';
}

/**
 * Read caches of one chat's active members. Rebuilt lazily when the chat's membership or any
 * user's `active` flag changed, so paging a 200,000-member chat costs a slice, not a scan.
 */
interface MemberCache {
  readonly chatVersion: number;
  readonly usersVersion: number;
  /** Active members in join (relation) order, keyed by external-user filter. */
  readonly joinOrder: Map<string, number[]>;
  /** Active members ascending by ID, keyed by external-user filter. */
  readonly byId: Map<string, number[]>;
  hasExtranet?: boolean;
}

export interface ChatRecord {
  readonly id: number;
  title: string;
  readonly type: SimChatType;
  readonly ownerId: number;
  /** Insertion order is relation order: a re-join gets a new relation and moves to the end. */
  readonly members: Set<number>;
  /** An announcement chat: no leave or removal posts anything (a silent path). */
  readonly announcement: boolean;
  /** Leave and removal messages (false: switched off for the chat, a silent path). */
  readonly leaveMessages: boolean;
  readonly createdAtMs: number;
  /**
   * When the last message that moves the chat up its members' recent lists was posted: every
   * member's recent row has this as `date_update` and `message.date`. Rows are per user (a user
   * sees only the chats they are a member of) but share the chat's last bump: per-user state
   * such as pins or a row created by a silent join is not modelled.
   */
  lastActivityMs: number;
  lastMessageId: number;
  /** Messages posted while the simulator ran, oldest first (seeded history is not kept). */
  readonly messages: SimMessage[];
  version: number;
  cache?: MemberCache;
}

/** Decides which active members a read returns (SKIP_EXTERNAL, docs/bitrix24.md §3). */
export interface MemberFilter {
  /** Cache key; '' = no filtering. */
  readonly key: string;
  readonly keep: (user: UserRecord) => boolean;
}

export const NO_FILTER: MemberFilter = { key: '', keep: () => true };

/**
 * The simulated portal's users and chats. Everything is Map/Set indexed: no request scans all
 * chats or all users.
 */
export class PortalState implements PortalAdmin {
  private readonly users = new Map<number, UserRecord>();
  private readonly chatRecords = new Map<number, ChatRecord>();
  /**
   * user ID → chat IDs the user has a relation in (for `im.recent.list`). Built per user on
   * first use (one pass over the chats), then kept up to date, so seeding stays cheap.
   */
  private readonly chatsOfUser = new Map<number, Set<number>>();
  private nextUserId = 1;
  private nextChatId = 1;
  private messageCounter = 1000;
  private usersVersion = 0;
  private generalId = 0;
  /** Bitrix24's general-chat options: join/leave auto-messages. Off = a silent path. */
  private generalChatMessages = { join: true, leave: true };
  private language: PortalLanguage = 'en';

  constructor(private readonly now: () => number = Date.now) {}

  get generalChatId(): number {
    return this.generalId;
  }

  addUser(user: NewUser = {}): SimUser {
    const id = user.id ?? this.nextUserId;
    if (!Number.isInteger(id) || id <= 0) throw new Error(`invalid user id ${id}`);
    if (this.users.has(id)) throw new Error(`user ${id} already exists`);
    const name = defaultName(id);
    const bot = user.bot ?? false;
    const record: UserRecord = {
      id,
      firstName: user.firstName ?? name.firstName,
      lastName: user.lastName ?? name.lastName,
      workPosition: user.workPosition === undefined ? null : user.workPosition,
      active: user.active ?? true,
      bot,
      extranet: user.extranet ?? false,
      externalAuthId: user.externalAuthId ?? (bot ? 'bot' : 'default'),
      gender: user.gender ?? name.gender,
    };
    this.users.set(id, record);
    if (id >= this.nextUserId) this.nextUserId = id + 1;
    return record;
  }

  addUsers(count: number): number[] {
    const ids: number[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const id = this.nextUserId++;
      const name = defaultName(id);
      this.users.set(id, {
        id,
        firstName: name.firstName,
        lastName: name.lastName,
        workPosition: null,
        active: true,
        bot: false,
        extranet: false,
        externalAuthId: 'default',
        gender: name.gender,
      });
      ids[i] = id;
    }
    return ids;
  }

  user(id: number): UserRecord | undefined {
    return this.users.get(id);
  }

  userIds(): number[] {
    return Array.from(this.users.keys()).sort((a, b) => a - b);
  }

  /** Highest user ID so far (random picks draw from 1..maxUserId). */
  get maxUserId(): number {
    return this.nextUserId - 1;
  }

  setUserActive(id: number, active: boolean): void {
    const user = this.requireUser(id);
    if (user.active === active) return;
    this.users.set(id, { ...user, active });
    this.usersVersion++;
  }

  createChat(chat: NewChat): SimChat {
    return this.view(this.insertChat(chat, true));
  }

  /** Seeding path: the generator vouches that every member exists. */
  createChatUnchecked(chat: NewChat): ChatRecord {
    return this.insertChat(chat, false);
  }

  private insertChat(chat: NewChat, validate: boolean): ChatRecord {
    const id = chat.id ?? this.nextChatId;
    if (!Number.isInteger(id) || id <= 0) throw new Error(`invalid chat id ${id}`);
    if (this.chatRecords.has(id)) throw new Error(`chat ${id} already exists`);
    const type = chat.type ?? 'chat';
    if (type === 'general' && this.generalId !== 0) {
      throw new Error(`the portal already has a general chat (${this.generalId})`);
    }
    if (validate) for (const userId of chat.memberIds) this.requireUser(userId);
    const ownerId = chat.ownerId ?? chat.memberIds[0] ?? 1;
    const createdAtMs = this.now();
    const record: ChatRecord = {
      id,
      title: chat.title ?? (type === 'general' ? 'General chat' : `Chat ${id}`),
      type,
      ownerId,
      members: new Set(chat.memberIds),
      announcement: chat.announcement ?? false,
      leaveMessages: chat.leaveMessages ?? true,
      createdAtMs,
      lastActivityMs: createdAtMs,
      lastMessageId: ++this.messageCounter,
      messages: [],
      version: 0,
    };
    this.chatRecords.set(id, record);
    for (const [userId, chats] of this.chatsOfUser) if (record.members.has(userId)) chats.add(id);
    if (type === 'general') this.generalId = id;
    if (id >= this.nextChatId) this.nextChatId = id + 1;
    return record;
  }

  chat(id: number): SimChat | undefined {
    const record = this.chatRecords.get(id);
    return record && this.view(record);
  }

  chats(): SimChat[] {
    return Array.from(this.chatRecords.values(), (record) => this.view(record));
  }

  chatRecord(id: number): ChatRecord | undefined {
    return this.chatRecords.get(id);
  }

  chatCount(): number {
    return this.chatRecords.size;
  }

  /**
   * Joins post a `CHAT_JOIN` system message, which moves the chat up its members' recent lists
   * (docs/bitrix24.md, "Recent list as change hints"), unless `options.silent` (an internal call
   * skipping the message) or the general chat with its auto-messages off.
   */
  addMembers(
    chatId: number,
    userIds: readonly number[],
    options: MembershipChangeOptions = {},
  ): void {
    const chat = this.requireChat(chatId);
    const added: number[] = [];
    for (const userId of userIds) {
      this.requireUser(userId);
      if (chat.members.has(userId)) continue;
      chat.members.add(userId);
      this.chatsOfUser.get(userId)?.add(chatId);
      added.push(userId);
    }
    if (added.length === 0) return;
    this.invalidate(chat);
    if (!options.silent && (chat.type !== 'general' || this.generalChatMessages.join)) {
      this.postSystemMessage(chat);
      this.writeJoinText(chat, added, options);
    }
  }

  /**
   * Leaves post a `CHAT_LEAVE` system message only where `postsLeaveMessages` says so (types.ts,
   * `SimChatType`); elsewhere they are silent. The leaver's own row goes.
   */
  removeMembers(
    chatId: number,
    userIds: readonly number[],
    options: MembershipChangeOptions = {},
  ): void {
    const chat = this.requireChat(chatId);
    const removed: number[] = [];
    for (const userId of userIds) {
      if (!chat.members.delete(userId)) continue;
      this.chatsOfUser.get(userId)?.delete(chatId);
      removed.push(userId);
    }
    if (removed.length === 0) return;
    this.invalidate(chat);
    if (!options.silent && this.postsLeaveMessages(chat)) {
      this.postSystemMessage(chat);
      for (const userId of removed) this.writeLeaveText(chat, userId, options);
    }
  }

  recentDate(chatId: number): number | undefined {
    return this.chatRecords.get(chatId)?.lastActivityMs;
  }

  deleteUserRelations(userId: number): number[] {
    const chatIds = [...this.chatIdsOf(userId)];
    for (const chatId of chatIds) this.removeMembers(chatId, [userId], { silent: true });
    return chatIds;
  }

  /** An ordinary message: moves the chat up its members' recent lists, membership unchanged. */
  postMessage(chatId: number, options: { authorId?: number; text?: string } = {}): void {
    const chat = this.requireChat(chatId);
    this.postSystemMessage(chat);
    const authorId = options.authorId ?? chat.ownerId;
    this.store(chat, authorId, options.text ?? `Message ${chat.lastMessageId}`);
  }

  changeAvatar(chatId: number, userId: number): void {
    const chat = this.requireChat(chatId);
    this.postSystemMessage(chat);
    const text = renderSystemText(this.texts(), 'avatarChanged', { users: [this.named(userId)] });
    this.store(chat, 0, text, 'CHAT_LEAVE');
  }

  setLanguage(language: PortalLanguage): void {
    this.language = language;
  }

  messages(chatId: number): readonly SimMessage[] {
    return this.requireChat(chatId).messages;
  }

  /**
   * What a membership change writes, by chat type (types.ts, `SimChatType`). The recent-list bump
   * (`postSystemMessage`) is kept for every type as before: hint tests rely on it.
   */
  private writeJoinText(
    chat: ChatRecord,
    added: readonly number[],
    options: MembershipChangeOptions,
  ) {
    const table = this.texts();
    const users = added.map((id) => this.named(id));
    if (chat.type === 'workgroup') {
      this.store(chat, 0, renderSystemText(table, 'workgroupJoined', { users }));
      return;
    }
    if (!this.writesCodedMessages(chat)) return;
    let text: string;
    if (options.linkAuthorId !== undefined) {
      text = renderSystemText(table, 'joinedViaLink', {
        actor: this.named(options.linkAuthorId),
        users,
      });
    } else if (options.actorId !== undefined && !added.includes(options.actorId)) {
      text = renderSystemText(table, 'invited', { actor: this.named(options.actorId), users });
    } else {
      text = renderSystemText(table, users.length === 1 ? 'joinedOne' : 'joinedMany', { users });
    }
    this.store(chat, 0, text, 'CHAT_JOIN');
  }

  private writeLeaveText(chat: ChatRecord, userId: number, options: MembershipChangeOptions) {
    if (!this.writesCodedMessages(chat)) return;
    const table = this.texts();
    const member = this.named(userId);
    const actor = options.actorId;
    const text =
      chat.type === 'general'
        ? renderSystemText(table, 'generalLeft', { users: [member] })
        : actor !== undefined && actor !== userId
          ? renderSystemText(table, 'removed', {
              actor: this.named(actor),
              users: [member],
              replace: true,
            })
          : renderSystemText(table, 'left', { users: [member] });
    this.store(chat, 0, text, 'CHAT_LEAVE');
  }

  private writesCodedMessages(chat: ChatRecord): boolean {
    return chat.type === 'chat' || chat.type === 'general';
  }

  private texts(): SystemTextTable {
    return SYSTEM_TEXTS[this.language];
  }

  private named(userId: number): NamedUser {
    const user = this.requireUser(userId);
    return { id: userId, name: `${user.firstName} ${user.lastName}`.trim(), gender: user.gender };
  }

  private store(
    chat: ChatRecord,
    authorId: number,
    text: string,
    code?: 'CHAT_JOIN' | 'CHAT_LEAVE',
  ): SimMessage {
    const message: SimMessage = {
      id: chat.lastMessageId,
      chatId: chat.id,
      authorId,
      dateMs: chat.lastActivityMs,
      text,
      ...(code === undefined ? {} : { code }),
    };
    chat.messages.push(message);
    return message;
  }

  /** `im.message.add`: `SYSTEM=Y` posts as author 0 without `CODE` (a spoof, never evidence). */
  addRestMessage(chatId: number, authorId: number, text: string, system: boolean): SimMessage {
    const chat = this.requireChat(chatId);
    this.postSystemMessage(chat);
    return this.store(chat, system ? 0 : authorId, text);
  }

  setGeneralChatMessages(on: boolean | { readonly join?: boolean; readonly leave?: boolean }) {
    this.generalChatMessages =
      typeof on === 'boolean' ? { join: on, leave: on } : { ...this.generalChatMessages, ...on };
  }

  /**
   * Where a leave or removal posts `CHAT_LEAVE` (im module: `Chat::sendMessageUserDelete` posts
   * only when the type's `needToSendMessageUserDelete()` is true, never for announcements;
   * `GeneralChat` only while `general_chat_message_leave` is on).
   */
  private postsLeaveMessages(chat: ChatRecord): boolean {
    if (chat.type === 'general') return this.generalChatMessages.leave;
    return (
      (chat.type === 'chat' || chat.type === 'workgroup') &&
      !chat.announcement &&
      chat.leaveMessages
    );
  }

  deleteChat(chatId: number): void {
    const chat = this.requireChat(chatId);
    for (const userId of chat.members) this.chatsOfUser.get(userId)?.delete(chatId);
    this.chatRecords.delete(chatId);
    if (this.generalId === chatId) this.generalId = 0;
  }

  renameChat(chatId: number, title: string): void {
    const chat = this.requireChat(chatId);
    chat.title = title;
    this.invalidate(chat);
    this.postSystemMessage(chat);
  }

  /** Chat IDs the user has a relation in. */
  chatIdsOf(userId: number): ReadonlySet<number> {
    let chats = this.chatsOfUser.get(userId);
    if (!chats) {
      chats = new Set();
      for (const chat of this.chatRecords.values())
        if (chat.members.has(userId)) chats.add(chat.id);
      this.chatsOfUser.set(userId, chats);
    }
    return chats;
  }

  /** Whether `userId` may read the chat's members: open and general chats are visible to all. */
  canRead(chat: ChatRecord, userId: number): boolean {
    return PUBLIC_CHAT_TYPES.has(chat.type) || chat.members.has(userId);
  }

  /** Active members (filtered) in join order, cached. */
  activeInJoinOrder(chat: ChatRecord, filter: MemberFilter = NO_FILTER): readonly number[] {
    const cache = this.cacheOf(chat);
    let ids = cache.joinOrder.get(filter.key);
    if (!ids) {
      ids = [];
      for (const userId of chat.members) {
        const user = this.users.get(userId);
        if (user?.active && filter.keep(user)) ids.push(userId);
      }
      cache.joinOrder.set(filter.key, ids);
    }
    return ids;
  }

  /** Active members (filtered) ascending by ID, cached. */
  activeById(chat: ChatRecord, filter: MemberFilter = NO_FILTER): readonly number[] {
    const cache = this.cacheOf(chat);
    let ids = cache.byId.get(filter.key);
    if (!ids) {
      ids = Array.from(Int32Array.from(this.activeInJoinOrder(chat, filter)).sort());
      cache.byId.set(filter.key, ids);
    }
    return ids;
  }

  /** Members whose user is active: `user_counter` (docs/bitrix24.md). */
  activeMemberCount(chat: ChatRecord): number {
    return this.activeInJoinOrder(chat).length;
  }

  /** Whether an extranet user takes part (the chat's `extranet` flag), cached. */
  hasExtranetMember(chat: ChatRecord): boolean {
    const cache = this.cacheOf(chat);
    if (cache.hasExtranet === undefined) {
      cache.hasExtranet = false;
      for (const userId of chat.members) {
        if (this.users.get(userId)?.extranet) {
          cache.hasExtranet = true;
          break;
        }
      }
    }
    return cache.hasExtranet;
  }

  private cacheOf(chat: ChatRecord): MemberCache {
    const cached = chat.cache;
    if (
      cached &&
      cached.chatVersion === chat.version &&
      cached.usersVersion === this.usersVersion
    ) {
      return cached;
    }
    const fresh: MemberCache = {
      chatVersion: chat.version,
      usersVersion: this.usersVersion,
      joinOrder: new Map(),
      byId: new Map(),
    };
    chat.cache = fresh;
    return fresh;
  }

  private invalidate(chat: ChatRecord): void {
    chat.version++;
  }

  /** A message bumps every member's recent row (`date_update`, `message`). */
  private postSystemMessage(chat: ChatRecord): void {
    chat.lastActivityMs = Math.max(this.now(), chat.lastActivityMs + 1);
    chat.lastMessageId = ++this.messageCounter;
  }

  private requireUser(id: number): UserRecord {
    const user = this.users.get(id);
    if (!user) throw new Error(`unknown user ${id}`);
    return user;
  }

  private requireChat(id: number): ChatRecord {
    const chat = this.chatRecords.get(id);
    if (!chat) throw new Error(`unknown chat ${id}`);
    return chat;
  }

  /** A read-only view; `memberIds` is copied only when read (chats() stays cheap). */
  private view(record: ChatRecord): SimChat {
    return {
      id: record.id,
      title: record.title,
      type: record.type,
      ownerId: record.ownerId,
      announcement: record.announcement,
      leaveMessages: record.leaveMessages,
      get memberIds(): readonly number[] {
        return Array.from(record.members);
      },
    };
  }
}

import type { PortalState } from './portal-state.js';
import { createRandom, randomIndex } from './seeded-random.js';
import type { GeneratedSeed, NewChat, NewUser, PortalAdmin } from './types.js';

export { createRandom } from './seeded-random.js';

export type Seed = 'demo' | 'empty' | GeneratedSeed;

const MINUTE_MS = 60_000;

/** Gives each chat a distinct last-activity second, newest first in creation order reversed. */
function spreadActivity(state: PortalState, chatIds: readonly number[], nowMs: number): void {
  chatIds.forEach((chatId, index) => {
    const chat = state.chatRecord(chatId);
    if (chat) chat.lastActivityMs = nowMs - (chatIds.length - index) * 1000;
  });
}

function ensureUser(state: PortalState, id: number): void {
  if (!state.user(id)) state.addUser({ id });
}

/** The portal always has its webhook user and a general chat. */
function seedEmpty(state: PortalState, webhookUserId: number): void {
  ensureUser(state, webhookUserId);
  state.createChat({ id: 1, title: 'General chat', type: 'general', memberIds: [webhookUserId] });
}

const DEMO_USERS: ReadonlyArray<NewUser> = [
  {
    firstName: 'Anna',
    lastName: 'Petrova',
    workPosition: 'Integration administrator',
    gender: 'F',
  },
  { firstName: 'Boris', lastName: 'Smirnov', workPosition: 'Head of marketing', gender: 'M' },
  { firstName: 'Carla', lastName: 'Keller', workPosition: 'Content manager', gender: 'F' },
  { firstName: 'Dmitri', lastName: 'Novak', workPosition: 'SEO specialist', gender: 'M' },
  { firstName: 'Elena', lastName: 'Ivanova', workPosition: 'Designer', gender: 'F' },
  { firstName: 'Farid', lastName: 'Haddad', workPosition: 'CTO', gender: 'M' },
  { firstName: 'Greta', lastName: 'Lindqvist', workPosition: 'Backend developer', gender: 'F' },
  { firstName: 'Hugo', lastName: 'Moreau', workPosition: 'Frontend developer', gender: 'M' },
  { firstName: 'Irina', lastName: 'Kuznetsova', workPosition: 'QA engineer', gender: 'F' },
  { firstName: 'Jonas', lastName: 'Weber', workPosition: 'DevOps engineer', gender: 'M' },
  { firstName: 'Katya', lastName: 'Orlova', workPosition: 'Product manager', gender: 'F' },
  { firstName: 'Lev', lastName: 'Tanaka', workPosition: 'Data analyst', gender: 'M' },
  { firstName: 'Mila', lastName: 'Sokolova', workPosition: 'CEO', gender: 'F' },
  { firstName: 'Nikolai', lastName: 'Brandt', workPosition: 'CFO', gender: 'M' },
  { firstName: 'Olga', lastName: 'Volkova', workPosition: 'COO', gender: 'F' },
  { firstName: 'Pavel', lastName: 'Fischer', workPosition: 'Accountant', gender: 'M' },
  { firstName: 'Rosa', lastName: 'Romanova', workPosition: 'Payroll specialist', gender: 'F' },
  { firstName: 'Stefan', lastName: 'Hoffmann', workPosition: 'Controller', gender: 'M' },
  { firstName: 'Tamara', lastName: 'Belova', workPosition: 'Support lead', gender: 'F' },
  {
    firstName: 'Helpdesk',
    lastName: 'Bot',
    workPosition: null,
    bot: true,
    externalAuthId: 'bot',
    gender: 'M',
  },
  {
    firstName: 'Oliver',
    lastName: 'Grant',
    workPosition: 'Contractor',
    extranet: true,
    gender: 'M',
  },
  {
    firstName: 'Sergei',
    lastName: 'Volkov',
    workPosition: 'Former developer',
    active: false,
    gender: 'M',
  },
  {
    firstName: 'Customer',
    lastName: 'Mailbox',
    workPosition: null,
    externalAuthId: 'email',
    gender: 'M',
  },
  { firstName: 'Uma', lastName: 'Reddy', workPosition: 'Project manager', gender: 'F' },
  { firstName: 'Viktor', lastName: 'Lang', workPosition: 'Architect', gender: 'M' },
];

/**
 * The demo portal: 25 users (user 1 the webhook user; 20 a bot, 21 an extranet contractor,
 * 22 dismissed, 23 an external e-mail user), the general chat (1) with everyone, and six group
 * chats; user 1 is not in "Finance" (5); "Support" (6) is an open chat.
 */
function seedDemo(state: PortalState, webhookUserId: number, nowMs: number): void {
  DEMO_USERS.forEach((user, index) => {
    state.addUser({ ...user, id: index + 1 });
  });
  ensureUser(state, webhookUserId);
  const everyone = state.userIds();
  const chats: Array<Parameters<PortalState['createChat']>[0]> = [
    { id: 1, title: 'General chat', type: 'general', ownerId: 13, memberIds: everyone },
    { id: 2, title: 'Marketing', ownerId: 2, memberIds: [2, 1, 3, 4, 5, 20] },
    { id: 3, title: 'Engineering', ownerId: 6, memberIds: [6, 1, 7, 8, 9, 10, 11, 12, 22, 20] },
    { id: 4, title: 'Board', ownerId: 13, memberIds: [13, 1, 14, 15] },
    { id: 5, title: 'Finance', ownerId: 14, memberIds: [14, 16, 17, 18] },
    { id: 6, title: 'Support', type: 'open', ownerId: 19, memberIds: [19, 1, 20, 23, 21] },
    { id: 7, title: 'Project Phoenix', ownerId: 24, memberIds: [24, 1, 7, 8, 21, 25] },
  ];
  for (const chat of chats) state.createChat(chat);
  spreadActivity(
    state,
    chats.map((chat) => chat.id ?? 0),
    nowMs - MINUTE_MS,
  );
}

const TOPICS = ['Sales', 'Support', 'Project', 'Team', 'Region', 'Release', 'Client', 'Ops'];

/**
 * N chats × M members (+ large chats) from a seed: chat 1 is the general chat, chats 2.. are
 * group chats, the webhook user is a member of every chat; large chats list their members in a
 * shuffled join order so relation order and ID order differ. Every 97th user is extranet,
 * every 193rd a bot.
 */
function seedGenerated(
  state: PortalState,
  seed: GeneratedSeed,
  webhookUserId: number,
  nowMs: number,
) {
  const random = createRandom(seed.seed ?? 1);
  const largeChats = seed.largeChats ?? [];
  const members = Math.max(1, seed.membersPerChat);
  const poolSize = Math.max(
    100,
    members * 2,
    webhookUserId,
    ...largeChats,
    Math.min(100_000, Math.ceil((seed.chats * members) / 5)),
  );
  for (let id = 1; id <= poolSize; id++) {
    if (id % 193 === 0) state.addUser({ id, bot: true });
    else if (id % 97 === 0) state.addUser({ id, extranet: true });
    else state.addUser({ id });
  }

  const generalSize = Math.min(poolSize, seed.generalChatMembers ?? members);
  const general = [webhookUserId];
  for (let id = 1; general.length < generalSize; id++) if (id !== webhookUserId) general.push(id);
  state.createChat({ id: 1, title: 'General chat', type: 'general', memberIds: general });

  // The general chat is the oldest conversation; generated chats follow in creation order.
  const chatIds: number[] = [1];
  let nextChatId = 2;
  // A generator of its own, so a portal with gaps has the same members as one without.
  const gaps = seed.chatIdGap ? createRandom((seed.seed ?? 1) + 7) : undefined;
  const picked = new Set<number>();
  for (let index = 0; index < seed.chats; index++) {
    picked.clear();
    picked.add(webhookUserId);
    const size = Math.min(members, poolSize);
    while (picked.size < size) picked.add(1 + randomIndex(random, poolSize));
    const id = nextChatId;
    nextChatId += 1 + (gaps ? Math.floor(gaps() * (seed.chatIdGap ?? 1)) : 0);
    state.createChatUnchecked({
      id,
      title: `${TOPICS[index % TOPICS.length]} ${id}`,
      ownerId: webhookUserId,
      memberIds: [...picked],
      // Drawn only when asked for, so the same seed generates the same portal as before.
      ...(seed.mix ? chatKind(seed.mix, random()) : {}),
    });
    chatIds.push(id);
  }

  for (const size of largeChats) {
    const ids = new Int32Array(poolSize);
    for (let i = 0; i < poolSize; i++) ids[i] = i + 1;
    const memberIds = [webhookUserId];
    const wanted = Math.min(size, poolSize);
    // Partial Fisher–Yates: the first `wanted` slots become a random sample in random order.
    for (let i = 0; i < poolSize && memberIds.length < wanted; i++) {
      const j = i + randomIndex(random, poolSize - i);
      const picked = ids[j] as number;
      ids[j] = ids[i] as number;
      ids[i] = picked;
      if (picked !== webhookUserId) memberIds.push(picked);
    }
    const id = nextChatId++;
    state.createChatUnchecked({ id, title: `All hands ${id}`, ownerId: webhookUserId, memberIds });
    chatIds.push(id);
  }
  spreadActivity(state, chatIds, nowMs - MINUTE_MS);
}

/** The kind of chat a draw `r` in [0, 1) gives under `mix` (GeneratedSeed.mix). */
function chatKind(
  mix: NonNullable<GeneratedSeed['mix']>,
  r: number,
): Pick<NewChat, 'type' | 'announcement' | 'leaveMessages'> {
  let bound = mix.open ?? 0;
  if (r < bound) return { type: 'open' };
  bound += mix.channel ?? 0;
  if (r < bound) return { type: 'channel' };
  bound += mix.announcement ?? 0;
  if (r < bound) return { announcement: true };
  bound += mix.leaveMessagesOff ?? 0;
  if (r < bound) return { leaveMessages: false };
  return {};
}

export function applySeed(state: PortalState, seed: Seed, webhookUserId: number, nowMs: number) {
  if (seed === 'empty') seedEmpty(state, webhookUserId);
  else if (seed === 'demo') seedDemo(state, webhookUserId, nowMs);
  else seedGenerated(state, seed, webhookUserId, nowMs);
}

export interface MembershipChange {
  readonly chatId: number;
  readonly userId: number;
  readonly change: 'joined' | 'left';
  /** Made without a system message (MembershipChangeOptions.silent): no recent row moved. */
  readonly silent: boolean;
}

export interface ChurnOptions {
  /** Share of chats (general chat excluded) that get one change, 0..1. */
  readonly share: number;
  /** A seeded PRNG (`createRandom(seed)`) or a seed number. */
  readonly random: (() => number) | number;
  /** Never removed (the webhook user by default: losing it would hide the chat). */
  readonly keepUserIds?: readonly number[];
  /** Share of the changes made silently (no system message), 0..1. Default 0. */
  readonly silentShare?: number;
}

/**
 * Adds or removes one random member in a random `share` of the chats; deterministic for a
 * given PRNG state. Returns the changes made, for the demo and benchmark to check events
 * against.
 */
export function churn(admin: PortalAdmin, options: ChurnOptions): MembershipChange[] {
  const random = typeof options.random === 'number' ? createRandom(options.random) : options.random;
  const keep = new Set(options.keepUserIds ?? [1]);
  const silentShare = options.silentShare ?? 0;
  const userIds = admin.userIds();
  const changes: MembershipChange[] = [];
  if (userIds.length === 0) return changes;
  for (const chat of admin.chats()) {
    if (chat.id === admin.generalChatId || random() >= options.share) continue;
    // Drawn only when asked for, so the same seed churns the same members as before.
    const silent = silentShare > 0 && random() < silentShare;
    const memberIds = chat.memberIds;
    const removable = memberIds.filter((id) => !keep.has(id));
    if (random() < 0.5 && removable.length > 0) {
      const userId = removable[randomIndex(random, removable.length)] as number;
      admin.removeMembers(chat.id, [userId], { silent });
      changes.push({ chatId: chat.id, userId, change: 'left', silent });
      continue;
    }
    const present = new Set(memberIds);
    for (let attempt = 0; attempt < 20; attempt++) {
      const userId = userIds[randomIndex(random, userIds.length)] as number;
      if (present.has(userId)) continue;
      admin.addMembers(chat.id, [userId], { silent });
      changes.push({ chatId: chat.id, userId, change: 'joined', silent });
      break;
    }
  }
  return changes;
}

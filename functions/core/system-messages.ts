import type { UserId } from './model.js';

/**
 * Reads Bitrix24's own system messages about chat membership (docs/bitrix24.md §"System
 * messages"). A message is evidence only when all of these hold: `author_id` 0, `params.CODE`
 * `CHAT_JOIN` or `CHAT_LEAVE` (a string or a one-element array), and a text whose user tags fit
 * the code. REST clients can post `SYSTEM=Y` messages (author 0, no `CODE`), workgroup chats post
 * their own texts without `CODE`: neither is ever evidence.
 */

/** One message as `im.dialog.messages.get` returns it (the fields this module reads). */
export interface ChatMessage {
  readonly id: number;
  readonly authorId: number;
  /** ATOM (ISO 8601 with offset), as Bitrix24 writes it. */
  readonly date: string;
  readonly text: string;
  /** `params` as returned; only `CODE` is read. */
  readonly params?: unknown;
}

export type AttributionHow = 'invited' | 'self_joined' | 'joined_via_link' | 'removed' | 'left';

/** What one system message says happened to which members. */
export interface MembershipEvidence {
  readonly messageId: number;
  /** The message's `date` as an ISO 8601 UTC instant. */
  readonly at: string;
  readonly direction: 'joined' | 'left';
  readonly how: AttributionHow;
  /** Who did it: null when the text names nobody (a self-join and a system add read alike). */
  readonly actorId: UserId | null;
  /** The members who joined or left. */
  readonly userIds: readonly UserId[];
}

/**
 * The join texts a portal writes, one list per language; `{actor}` and `{users}` stand for user
 * tags (`{users}`: one or more, joined by a comma or a word). Joins are recognised only by these:
 * an invitation and a multi-user system add both carry two tags, and only the text's structure
 * tells them apart. English from the `im` module's language file; Russian and German are the
 * simulator's renderings and unverified, so the table is a setting ({@link parseSystemMessage}).
 */
export interface SystemTexts {
  readonly invited: readonly string[];
  readonly selfJoined: readonly string[];
  readonly joinedViaLink: readonly string[];
  /** One-tag `CHAT_LEAVE` texts that are a leave (the avatar-change text shares the code). */
  readonly left: readonly string[];
}

export const DEFAULT_SYSTEM_TEXTS: SystemTexts = {
  invited: [
    '{actor} invited {users} to chat.',
    '{actor} пригласил в чат {users}.',
    '{actor} пригласила в чат {users}.',
    '{actor} hat {users} in den Chat eingeladen.',
  ],
  selfJoined: [
    '{users} has joined the chat.',
    '{users} have joined the chat.',
    '{users} присоединился к чату.',
    '{users} присоединилась к чату.',
    '{users} присоединились к чату.',
    '{users} ist dem Chat beigetreten.',
    '{users} sind dem Chat beigetreten.',
  ],
  joinedViaLink: [
    '{users} was invited by {actor} and has now joined the chat.',
    '{users} присоединился к чату по ссылке от {actor}.',
    '{users} присоединилась к чату по ссылке от {actor}.',
    '{users} wurde von {actor} eingeladen und ist dem Chat beigetreten.',
  ],
  left: [
    '{user} left the chat.',
    '{user} покинул чат.',
    '{user} покинула чат.',
    '{user} hat den Chat verlassen.',
  ],
};

const USER_TAG = /\[USER=([1-9][0-9]{0,9})(?: REPLACE)?\][\s\S]*?\[\/USER\]/g;
const SLOT = '\u0000';

/**
 * The evidence in one message, or undefined when it is none (not a system message, no or another
 * `CODE`, an unparseable date, a text whose tags do not fit: e.g. the general chat's leave text
 * with a plain name, the avatar-change text).
 *
 * `CHAT_LEAVE`: two tags are a removal (the first removed the second), one tag a leave (the member
 * is the actor) when the text is a known leave text; told apart by the tags, never by language.
 */
export function parseSystemMessage(
  message: ChatMessage,
  texts: SystemTexts = DEFAULT_SYSTEM_TEXTS,
): MembershipEvidence | undefined {
  if (message.authorId !== 0) return undefined;
  const code = codeOf(message.params);
  if (code !== 'CHAT_JOIN' && code !== 'CHAT_LEAVE') return undefined;
  const at = instantOf(message.date);
  if (at === undefined) return undefined;
  const ids: UserId[] = [];
  const shape = message.text
    .replace(USER_TAG, (_tag, id: string) => {
      ids.push(Number(id));
      return SLOT;
    })
    .trim();
  const base = { messageId: message.id, at };
  if (code === 'CHAT_LEAVE') {
    if (ids.length === 2 && ids[0] !== ids[1]) {
      const [actor, removed] = ids as [UserId, UserId];
      return { ...base, direction: 'left', how: 'removed', actorId: actor, userIds: [removed] };
    }
    if (ids.length === 1 && matchTemplate(texts.left, shape, ids) !== undefined) {
      const member = ids[0] as UserId;
      return { ...base, direction: 'left', how: 'left', actorId: member, userIds: [member] };
    }
    return undefined;
  }
  const kinds = [
    ['invited', texts.invited],
    ['joined_via_link', texts.joinedViaLink],
    ['self_joined', texts.selfJoined],
  ] as const;
  for (const [how, templates] of kinds) {
    const slots = matchTemplate(templates, shape, ids);
    if (slots === undefined) continue;
    const users = slots.users ?? [];
    const actor = slots.actor?.[0] ?? null;
    if (users.length === 0 || (actor !== null && users.includes(actor))) return undefined;
    return { ...base, direction: 'joined', how, actorId: actor, userIds: users };
  }
  return undefined;
}

/** `params.CODE` as a string; Bitrix24 returns it as a string or a one-element array. */
function codeOf(params: unknown): string | undefined {
  if (typeof params !== 'object' || params === null) return undefined;
  const code = (params as { CODE?: unknown }).CODE;
  if (typeof code === 'string') return code;
  if (Array.isArray(code) && code.length === 1 && typeof code[0] === 'string') return code[0];
  return undefined;
}

function instantOf(date: string): string | undefined {
  // ATOM carries an offset; a date without one would be read in the runner's zone.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/.test(date)) {
    return undefined;
  }
  const ms = Date.parse(date);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

type Slots = Partial<Record<'actor' | 'user' | 'users', UserId[]>>;

/** The tag IDs per placeholder of the first template `shape` fits, in text order. */
function matchTemplate(
  templates: readonly string[],
  shape: string,
  ids: readonly UserId[],
): Slots | undefined {
  for (const template of templates) {
    const names: ('actor' | 'user' | 'users')[] = [];
    const pattern = template
      .split(/(\{actor\}|\{users\}|\{user\})/)
      .map((part) => {
        if (part === '{actor}' || part === '{user}') {
          names.push(part === '{actor}' ? 'actor' : 'user');
          return `(${SLOT})`;
        }
        if (part === '{users}') {
          names.push('users');
          return `(${SLOT}(?:(?:,\\s*|\\s+\\S+\\s+)${SLOT})*)`;
        }
        return escapeRegExp(part);
      })
      .join('');
    const found = new RegExp(`^${pattern}$`, 'u').exec(shape);
    if (found === null) continue;
    const slots: Slots = {};
    let next = 0;
    names.forEach((name, index) => {
      const count = (found[index + 1] ?? '').split(SLOT).length - 1;
      slots[name] = ids.slice(next, next + count);
      next += count;
    });
    if (next !== ids.length) continue;
    return slots;
  }
  return undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

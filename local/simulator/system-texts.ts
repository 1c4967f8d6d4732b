/**
 * The texts a portal posts when membership changes, one table per portal language
 * (docs/bitrix24.md, "System messages"). `{actor}`, `{user}` and `{users}` are BB-code user tags;
 * `{name}` is a plain name (the general chat's leave text). English follows the `im` module's
 * language file; Russian and German are this simulator's renderings.
 */
export type PortalLanguage = 'en' | 'ru' | 'de';

export const PORTAL_LANGUAGES: readonly PortalLanguage[] = ['en', 'ru', 'de'];

type Gendered = string | { readonly M: string; readonly F: string };

export interface SystemTextTable {
  readonly invited: Gendered;
  readonly joinedOne: Gendered;
  readonly joinedMany: string;
  readonly joinedViaLink: Gendered;
  readonly removed: Gendered;
  readonly left: Gendered;
  /** The general chat: a plain name, no user tag. */
  readonly generalLeft: Gendered;
  /** Also posted with `CODE` `CHAT_LEAVE` by the `im` module: not a membership change. */
  readonly avatarChanged: Gendered;
  /** A workgroup chat's own text: no `CODE`. */
  readonly workgroupJoined: string;
  /** Separator between the tags of `{users}`. */
  readonly listSeparator: string;
}

export const SYSTEM_TEXTS: Readonly<Record<PortalLanguage, SystemTextTable>> = {
  en: {
    invited: '{actor} invited {users} to chat.',
    joinedOne: '{users} has joined the chat.',
    joinedMany: '{users} have joined the chat.',
    joinedViaLink: '{users} was invited by {actor} and has now joined the chat.',
    removed: '{actor} removed {user} from the chat.',
    left: '{user} left the chat.',
    generalLeft: '{name} left the chat.',
    avatarChanged: '{user} changed the chat avatar.',
    workgroupJoined: '{users} joined the workgroup.',
    listSeparator: ', ',
  },
  ru: {
    invited: { M: '{actor} пригласил в чат {users}.', F: '{actor} пригласила в чат {users}.' },
    joinedOne: { M: '{users} присоединился к чату.', F: '{users} присоединилась к чату.' },
    joinedMany: '{users} присоединились к чату.',
    joinedViaLink: {
      M: '{users} присоединился к чату по ссылке от {actor}.',
      F: '{users} присоединилась к чату по ссылке от {actor}.',
    },
    removed: { M: '{actor} исключил {user} из чата.', F: '{actor} исключила {user} из чата.' },
    left: { M: '{user} покинул чат.', F: '{user} покинула чат.' },
    generalLeft: { M: '{name} покинул чат.', F: '{name} покинула чат.' },
    avatarChanged: { M: '{user} изменил аватар чата.', F: '{user} изменила аватар чата.' },
    workgroupJoined: '{users} вступили в группу.',
    listSeparator: ', ',
  },
  de: {
    invited: '{actor} hat {users} in den Chat eingeladen.',
    joinedOne: '{users} ist dem Chat beigetreten.',
    joinedMany: '{users} sind dem Chat beigetreten.',
    joinedViaLink: '{users} wurde von {actor} eingeladen und ist dem Chat beigetreten.',
    removed: '{actor} hat {user} aus dem Chat entfernt.',
    left: '{user} hat den Chat verlassen.',
    generalLeft: '{name} hat den Chat verlassen.',
    avatarChanged: '{user} hat den Chat-Avatar geändert.',
    workgroupJoined: '{users} sind der Gruppe beigetreten.',
    listSeparator: ', ',
  },
};

export interface NamedUser {
  readonly id: number;
  readonly name: string;
  readonly gender: 'M' | 'F';
}

/** `[USER=503]Name[/USER]`; `replace` adds the ` REPLACE` flag some portal texts carry. */
export function userTag(user: NamedUser, replace = false): string {
  return `[USER=${user.id}${replace ? ' REPLACE' : ''}]${user.name}[/USER]`;
}

/**
 * A rendered text. The gendered variant follows the actor, or the first user when there is none.
 */
export function renderSystemText(
  table: SystemTextTable,
  key: Exclude<keyof SystemTextTable, 'listSeparator'>,
  parts: {
    readonly actor?: NamedUser;
    readonly users?: readonly NamedUser[];
    readonly replace?: boolean;
  },
): string {
  const template = table[key];
  const subject = parts.actor ?? parts.users?.[0];
  const text = typeof template === 'string' ? template : template[subject?.gender ?? 'M'];
  const users = parts.users ?? [];
  const tags = users.map((u) => userTag(u, parts.replace)).join(table.listSeparator);
  return text
    .replace('{actor}', parts.actor ? userTag(parts.actor, parts.replace) : '')
    .replace('{users}', tags)
    .replace('{user}', users[0] ? userTag(users[0], parts.replace) : '')
    .replace('{name}', users[0]?.name ?? '');
}

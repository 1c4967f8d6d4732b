import { formatAtom } from './bitrix-time.js';
import type { MemberFilter, UserRecord } from './portal-state.js';

/** `UserTable::getExternalUserTypes` (docs/bitrix24.md §3): the users SKIP_EXTERNAL leaves out. */
export const EXTERNAL_USER_TYPES: ReadonlySet<string> = new Set([
  'bot',
  'email',
  '__controller',
  'replica',
  'imconnector',
  'sale',
  'saleanonymous',
  'shop',
  'call',
  'document_editor',
  'calendar_sharing',
]);

const COLORS = ['#58cc47', '#df532d', '#4ba984', '#1eb4aa', '#f76187', '#ab7761', '#8474c8'];

/** A fixed reference instant so renders are deterministic across runs. */
const LAST_ACTIVITY_BASE_MS = Date.UTC(2026, 2, 2, 14, 0, 0);

export function userColor(id: number): string {
  return COLORS[id % COLORS.length] ?? '#58cc47';
}

function userType(user: UserRecord): string {
  if (user.bot) return 'bot';
  if (user.externalAuthId === 'imconnector') return 'connector';
  if (user.extranet) return 'extranet';
  return 'user';
}

/** `last_activity_date` values, one per minute of a day before the base instant. */
const lastActivityDates: string[] = [];
function lastActivityDate(id: number): string {
  const minute = id % 1440;
  let date = lastActivityDates[minute];
  if (date === undefined) {
    date = formatAtom(LAST_ACTIVITY_BASE_MS - minute * 60_000);
    lastActivityDates[minute] = date;
  }
  return date;
}

/**
 * The user item of `im.dialog.users.list` (docs/bitrix24.md §3 "Result item fields"). Built as one
 * literal so every item has the same hidden class: a 200-item page serialises several times faster.
 */
export function renderUser(user: UserRecord): Record<string, unknown> {
  return {
    id: user.id,
    active: user.active,
    name: `${user.firstName} ${user.lastName}`.trim(),
    first_name: user.firstName,
    last_name: user.lastName,
    work_position: user.workPosition,
    color: userColor(user.id),
    avatar: '',
    avatar_hr: '',
    gender: user.gender,
    birthday: '',
    extranet: user.extranet,
    network: false,
    bot: user.bot,
    connector: user.externalAuthId === 'imconnector',
    external_auth_id: user.externalAuthId,
    status: 'online',
    idle: false,
    last_activity_date: lastActivityDate(user.id),
    mobile_last_date: false,
    desktop_last_date: false,
    absent: false,
    departments: user.extranet || user.bot ? [] : [1 + (user.id % 5)],
    phones: false,
    bot_data: user.bot
      ? {
          code: `bot_${user.id}`,
          app_id: '',
          type: 'B',
          is_hidden: false,
          is_support_openline: false,
        }
      : null,
    type: userType(user),
    website: '',
    email: user.bot
      ? ''
      : `${user.firstName}.${user.lastName}.${user.id}@example.com`.toLowerCase(),
  };
}

/** `im.user.list.get` items: the same fields, `avatar_hr` only when asked for (`AVATAR_HR=Y`). */
export function renderUserDetails(
  user: UserRecord,
  withAvatarHr: boolean,
): Record<string, unknown> {
  const item = renderUser(user);
  if (withAvatarHr) return item;
  const { avatar_hr: _omitted, ...rest } = item;
  return rest;
}

function listOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.map((v) => String(v).trim().toLowerCase());
  if (typeof value === 'string') return value.split(',').map((v) => v.trim().toLowerCase());
  return [];
}

/**
 * docs/bitrix24.md §3: `SKIP_EXTERNAL` is compared `=== 'Y'`; the mere presence of
 * `SKIP_EXTERNAL_EXCEPT_TYPES` also turns skipping on, keeping the listed external types.
 */
export function externalFilter(
  skipExternal: unknown,
  exceptTypes: unknown,
): MemberFilter | undefined {
  const exceptPresent = exceptTypes !== undefined && exceptTypes !== null;
  if (skipExternal !== 'Y' && !exceptPresent) return undefined;
  const kept = new Set(listOf(exceptTypes).filter((t) => t !== ''));
  return {
    key: `skip:${[...kept].sort().join(',')}`,
    keep: (user) => !EXTERNAL_USER_TYPES.has(user.externalAuthId) || kept.has(user.externalAuthId),
  };
}

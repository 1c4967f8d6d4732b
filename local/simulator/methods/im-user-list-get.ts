import { phpArrayJson } from '../php-json.js';
import { isSet, type ParamValue, upperCaseKeys } from '../php-params.js';
import { RestError } from '../rest-error.js';
import { renderUserDetails } from '../user-view.js';
import type { MethodAnswer, MethodContext } from './method-types.js';

const invalidFormat = () =>
  new RestError(400, 'INVALID_FORMAT', 'A wrong format for the ID field is passed');

function requestedIds(value: ParamValue | undefined, callerId: number): number[] {
  if (!isSet(value)) return [callerId];
  let list: unknown = value;
  if (typeof list === 'string') {
    // The source decodes a JS-object string (`"[4,5]"`) before checking for an array.
    try {
      list = JSON.parse(list);
    } catch {
      throw invalidFormat();
    }
  }
  if (list !== null && typeof list === 'object' && !Array.isArray(list)) list = Object.values(list);
  if (!Array.isArray(list)) throw invalidFormat();
  return list.map((id) => {
    const text = String(id).trim();
    if (!/^\d+$/.test(text)) throw invalidFormat();
    return Number(text);
  });
}

/**
 * `im.user.list.get` (docs `api-reference/chats/users/im-user-list-get.md`): ID → user or null,
 * e.g. `{"4":null,"5":{…}}`; dismissed users are returned with `active:false`. No `ID` = the
 * caller; `avatar_hr` only with `AVATAR_HR=Y`.
 */
export function imUserListGet({ state, callerId, params }: MethodContext): MethodAnswer {
  const p = upperCaseKeys(params);
  const ids = requestedIds(p.ID, callerId);
  const withAvatarHr = p.AVATAR_HR === 'Y';
  const users = new Map<string, unknown>();
  for (const id of ids) {
    const user = state.user(id);
    users.set(String(id), user ? renderUserDetails(user, withAvatarHr) : null);
  }
  // An int-keyed map would become a JSON list in PHP only for keys 0..n-1; user IDs start at 1.
  return { result: phpArrayJson(users) };
}

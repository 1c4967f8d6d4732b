import type { ChatId, ChatRead, KeysetProgress, UserId } from '../core/model.js';
import type { Bitrix24Client } from './client-types.js';
import { Bitrix24Error, isPortalFatal } from './errors.js';
import { failedRead } from './failed-read.js';
import { dialogUsersListSchema } from './schemas.js';

/** `im.dialog.users.list` caps LIMIT at 200 (docs/bitrix24.md §3). */
export const DIALOG_PAGE_SIZE = 200;

export interface ReadDialogMembersOptions {
  /** Safety stop: 200 000 members need 1 001 pages. Default 10 000 pages (2 M members). */
  readonly maxPages?: number | undefined;
}

export interface KeysetReadOptions {
  /** Where an earlier attempt stopped: the read goes on after `lastId`. */
  readonly resume?: KeysetProgress | undefined;
  /** Epoch ms after which no further page starts: the read comes back `partial`. */
  readonly stopAt?: number | undefined;
}

/**
 * Reads a chat's members with `im.dialog.users.list` in keyset mode (`LAST_ID`, `LIMIT` 200;
 * docs/bitrix24.md §3), for chats that refuse `im.chat.user.list` (the general chat).
 *
 * Never OFFSET: offsets shift when someone joins or leaves mid-read, a member slips between pages
 * and a false "left" follows. Keyset pages are `USER_ID > LAST_ID ORDER BY USER_ID`, so IDs must
 * rise strictly across the whole read; anything else is a broken read.
 *
 * The loop ends only on an EMPTY page. A short page is what a truncated answer looks like, so it
 * must be followed by an empty one; a short page followed by more members means the pages cannot
 * be trusted, and the read is `failed` (the extra request costs one call per fallback chat).
 *
 * Unlike `im.chat.user.list`, this method omits deactivated (dismissed) users
 * (docs/bitrix24.md §3): a member list from here and one from `im.chat.user.list` must not be
 * diffed against each other blindly.
 *
 * Throws auth/configuration errors; every other failure becomes a `failed` (or `no_access` for
 * `ACCESS_ERROR`) result.
 */
export async function readDialogMembers(
  client: Bitrix24Client,
  chatId: ChatId,
  options: ReadDialogMembersOptions & KeysetReadOptions = {},
): Promise<ChatRead> {
  const maxPages = options.maxPages ?? 10_000;
  const memberIds: UserId[] = [...(options.resume?.memberIds ?? [])];
  let lastId = options.resume?.lastId ?? 0;
  const startedAt = options.resume?.startedAt ?? new Date().toISOString();
  const partial = (): ChatRead => ({
    kind: 'partial',
    chatId,
    progress: { lastId, memberIds, startedAt },
  });
  let shortPageSeen = false;
  for (let page = 0; page < maxPages; page += 1) {
    // Out of time: stop between pages (after a short page only its confirming empty page is
    // left, so that one is still read).
    if (!shortPageSeen && options.stopAt !== undefined && Date.now() >= options.stopAt) {
      return partial();
    }
    let users: readonly { id: number }[];
    try {
      const response = await client.call(
        'im.dialog.users.list',
        { DIALOG_ID: `chat${chatId}`, LAST_ID: lastId, LIMIT: DIALOG_PAGE_SIZE },
        dialogUsersListSchema,
      );
      users = response.result;
    } catch (error) {
      if (isPortalFatal(error) || !(error instanceof Bitrix24Error)) throw error;
      if (error.code === 'DEADLINE_EXCEEDED' && !shortPageSeen) return partial();
      if (error.code === 'ACCESS_ERROR') {
        return { kind: 'no_access', chatId, code: error.code, message: error.message };
      }
      return failedRead(chatId, error);
    }
    if (users.length === 0) {
      // Started at its first page, in whichever invocation that was.
      return { kind: 'complete', chatId, memberIds, method: 'im.dialog.users.list', startedAt };
    }
    if (shortPageSeen) {
      // A truncated answer (a proxy, a timeout mid-body) need not repeat: retryable.
      return failed(
        chatId,
        'SHORT_PAGE',
        `page after a short page still had ${users.length} members`,
        true,
      );
    }
    for (const user of users) {
      if (user.id <= lastId) {
        return failed(
          chatId,
          'NON_MONOTONIC_PAGE',
          `user ${user.id} arrived after ${lastId}; keyset pages must rise strictly`,
          false,
        );
      }
      memberIds.push(user.id);
      lastId = user.id;
    }
    if (users.length > DIALOG_PAGE_SIZE) {
      return failed(
        chatId,
        'OVERSIZED_PAGE',
        `page had ${users.length} > ${DIALOG_PAGE_SIZE} members`,
        false,
      );
    }
    shortPageSeen = users.length < DIALOG_PAGE_SIZE;
  }
  return failed(chatId, 'TOO_MANY_PAGES', `no empty page within ${maxPages} pages`, false);
}

/** A read the pages themselves broke; `retryable` when the same pages need not come again. */
function failed(chatId: ChatId, code: string, detail: string, retryable: boolean): ChatRead {
  const message = `im.dialog.users.list read of chat ${chatId} is partial: ${detail}`;
  return failedRead(chatId, { code, message, retryable });
}

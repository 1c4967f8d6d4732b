import { dialogIdOf } from '../core/build-events.js';
import type { ChatId } from '../core/model.js';
import type { MessageReadRequest } from '../core/ports.js';
import type { ChatMessage } from '../core/system-messages.js';
import { MAX_BATCH_COMMANDS } from './batch.js';
import type { BatchCommand, Bitrix24Client } from './client-types.js';

/** `im.dialog.messages.get` returns at most 50 messages a page (docs/bitrix24.md §13). */
export const MESSAGES_PER_PAGE = 50;

/** Pages read back per chat at most: 200 messages since the previous read. */
export const DEFAULT_MAX_MESSAGE_PAGES = 4;

interface ChatProgress {
  readonly chatId: ChatId;
  readonly sinceMs: number;
  readonly messages: ChatMessage[];
  pages: number;
  lastId: number;
}

/**
 * The recent messages of the given chats, newest first: the first page of every chat in one
 * `batch`, then further pages (`LAST_ID`, older IDs) in rounds, also batched, only for chats
 * whose page was full and whose oldest message is still after `since`, up to `maxPages` per chat.
 * A chat whose read failed or whose answer does not parse maps to undefined; this never throws
 * (the membership change must not wait for its attribution).
 */
export async function readChatMessages(
  client: Bitrix24Client,
  requests: readonly MessageReadRequest[],
  maxPages: number = DEFAULT_MAX_MESSAGE_PAGES,
): Promise<Map<ChatId, readonly ChatMessage[] | undefined>> {
  const out = new Map<ChatId, readonly ChatMessage[] | undefined>();
  let round: ChatProgress[] = requests.map((r) => ({
    chatId: r.chatId,
    sinceMs: r.since === null ? Number.NEGATIVE_INFINITY : Date.parse(r.since),
    messages: [],
    pages: 0,
    lastId: 0,
  }));
  while (round.length > 0) {
    const next: ChatProgress[] = [];
    for (let start = 0; start < round.length; start += MAX_BATCH_COMMANDS) {
      const chunk = round.slice(start, start + MAX_BATCH_COMMANDS);
      const commands: BatchCommand[] = chunk.map((chat) => ({
        key: `m${chat.chatId}`,
        method: 'im.dialog.messages.get',
        params: {
          DIALOG_ID: dialogIdOf(chat.chatId),
          LIMIT: MESSAGES_PER_PAGE,
          ...(chat.lastId > 0 ? { LAST_ID: chat.lastId } : {}),
        },
      }));
      let results: Map<string, unknown> | undefined;
      try {
        const answered = await client.batch(commands);
        results = new Map(
          [...answered].map(([key, outcome]) => [key, outcome.ok ? outcome.result : undefined]),
        );
      } catch {
        results = undefined;
      }
      for (const chat of chunk) {
        const page = messagesOf(results?.get(`m${chat.chatId}`));
        if (page === undefined) {
          out.set(chat.chatId, undefined);
          continue;
        }
        chat.messages.push(...page);
        chat.pages += 1;
        const oldest = page.at(-1);
        const more =
          page.length >= MESSAGES_PER_PAGE &&
          oldest !== undefined &&
          Date.parse(oldest.date) > chat.sinceMs &&
          chat.pages < maxPages;
        if (more && oldest !== undefined) {
          chat.lastId = oldest.id;
          next.push(chat);
        } else {
          out.set(chat.chatId, chat.messages);
        }
      }
    }
    round = next;
  }
  return out;
}

/** The page's messages, newest first; undefined when the answer is not the documented shape. */
function messagesOf(result: unknown): ChatMessage[] | undefined {
  const list = (result as { messages?: unknown } | undefined)?.messages;
  if (!Array.isArray(list)) return undefined;
  const out: ChatMessage[] = [];
  for (const raw of list) {
    const m = raw as Record<string, unknown>;
    const id = Number(m.id);
    const authorId = Number(m.author_id);
    if (!Number.isSafeInteger(id) || !Number.isSafeInteger(authorId)) return undefined;
    if (typeof m.date !== 'string' || typeof m.text !== 'string') return undefined;
    out.push({ id, authorId, date: m.date, text: m.text, params: m.params });
  }
  return out.sort((a, b) => b.id - a.id);
}

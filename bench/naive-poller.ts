/**
 * The naive baseline: how a straightforward integration reads a chat's members. Per chat,
 * `im.dialog.users.list` pages of `LIMIT` 50 by `OFFSET` (docs/bitrix24.md §3), following `next`;
 * one HTTP request per page, no `batch`, plain fetch. (It is also unsafe for a diff: offsets shift
 * when someone joins or leaves mid-read. It is here only to count requests.)
 */

export const NAIVE_PAGE_SIZE = 50;

/** Pages the naive reader needs for a chat of `members` listed users: at least one request. */
export function naivePages(members: number, pageSize = NAIVE_PAGE_SIZE): number {
  return Math.max(1, Math.ceil(members / pageSize));
}

export interface NaiveResult {
  readonly chats: number;
  readonly requests: number;
  readonly members: number;
  /** Chats whose page count differed from {@link naivePages} (0 expected). */
  readonly unexpectedPages: number;
  /** The first few of those: chat, pages read, pages predicted. */
  readonly mismatches: readonly { chatId: number; pages: number; predicted: number }[];
}

interface Page {
  readonly result?: unknown;
  readonly next?: number;
  readonly error?: string;
}

export async function naivePoll(
  webhookUrl: string,
  chats: readonly { readonly id: number; readonly activeMembers: number }[],
  fetchImpl: typeof globalThis.fetch = globalThis.fetch,
): Promise<NaiveResult> {
  let requests = 0;
  let members = 0;
  let unexpectedPages = 0;
  const mismatches: { chatId: number; pages: number; predicted: number }[] = [];
  for (const chat of chats) {
    let offset = 0;
    let pages = 0;
    for (;;) {
      const response = await fetchImpl(`${webhookUrl}im.dialog.users.list`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          DIALOG_ID: `chat${chat.id}`,
          LIMIT: NAIVE_PAGE_SIZE,
          OFFSET: offset,
        }),
      });
      requests++;
      pages++;
      const page = (await response.json()) as Page;
      if (!response.ok || page.error !== undefined || !Array.isArray(page.result)) {
        throw new Error(`naive read of chat ${chat.id} failed: ${page.error ?? response.status}`);
      }
      members += page.result.length;
      if (page.next === undefined) break;
      offset = page.next;
    }
    const predicted = naivePages(chat.activeMembers);
    if (pages !== predicted) {
      unexpectedPages++;
      if (mismatches.length < 5) mismatches.push({ chatId: chat.id, pages, predicted });
    }
  }
  return { chats: chats.length, requests, members, unexpectedPages, mismatches };
}

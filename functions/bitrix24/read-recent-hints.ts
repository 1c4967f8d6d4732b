import { z } from 'zod';
import type { HintReader, HintsRead, RecentHint } from '../core/hints.js';
import type { Bitrix24Client } from './client-types.js';
import { Bitrix24MalformedResponseError } from './errors.js';

const METHOD = 'im.recent.get';

/** `im.recent.get` rows (docs `im-recent-get.md`); only the fields the hints need. */
const recentGetSchema = z.array(
  z.looseObject({
    type: z.string(),
    chat_id: z.number().int().nonnegative().optional(),
    date_update: z.string().optional(),
    chat: z
      .looseObject({
        type: z.string().optional(),
        user_counter: z.number().int().nonnegative().optional(),
      })
      .nullable()
      .optional(),
  }),
);

/**
 * The production {@link HintReader}: one `im.recent.get` call with `LAST_SYNC_DATE` (group chats
 * only: `SKIP_DIALOG`, `SKIP_OPENLINES`), unpaged (docs/bitrix24.md, "Recent list as change
 * hints"). The answer is held to what the docs and source promise, and anything else throws so
 * that the tick reads every chat instead of trusting it:
 *
 * - `time.date_start` must be a date: it becomes the next watermark (the portal's clock, not ours);
 * - every chat row needs a `chat_id` and a parsable `date_update`;
 * - no row may be older than `since`: the portal ignores a date it cannot parse and answers 30 days
 *   of rows instead, which would look like hints but mean the filter was not applied.
 */
export function createRecentHintReader(client: Bitrix24Client): HintReader {
  return {
    async readHints(since: number): Promise<HintsRead> {
      const { result, time } = await client.call(
        METHOD,
        { SKIP_DIALOG: 'Y', SKIP_OPENLINES: 'Y', LAST_SYNC_DATE: formatRfc3339(since) },
        recentGetSchema,
      );
      const portalTime = parseDate((time as { date_start?: unknown }).date_start);
      if (portalTime === undefined) throw malformed('time.date_start is missing or not a date');
      const hints: RecentHint[] = [];
      // DATE_UPDATE has whole seconds and is compared with >= (docs/bitrix24.md).
      const sinceSecond = Math.floor(since / 1000) * 1000;
      for (const row of result) {
        if (row.type !== 'chat' || row.chat?.type === 'lines') continue;
        const dateUpdate = parseDate(row.date_update);
        if (row.chat_id === undefined || row.chat_id <= 0 || dateUpdate === undefined) {
          throw malformed('a chat row without chat_id or date_update');
        }
        if (dateUpdate < sinceSecond) {
          throw malformed('a row older than LAST_SYNC_DATE: the date filter was not applied');
        }
        const userCounter = row.chat?.user_counter;
        hints.push({
          chatId: row.chat_id,
          dateUpdate,
          ...(userCounter === undefined ? {} : { userCounter }),
        });
      }
      return { hints, since, portalTime };
    },
  };
}

/** `Y-m-d\TH:i:sP` in UTC: the exact format the source parses (`DateTimeInterface::RFC3339`). */
export function formatRfc3339(ms: number): string {
  return `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}+00:00`;
}

function parseDate(value: unknown): number | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

function malformed(description: string): Bitrix24MalformedResponseError {
  return new Bitrix24MalformedResponseError({
    code: 'MALFORMED_RESPONSE',
    method: METHOD,
    description,
  });
}

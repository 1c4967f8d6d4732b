import type { ChatId } from './model.js';

/**
 * Change hints from the integration user's recent list (docs/bitrix24.md, "Recent list as
 * change hints"): a chat whose row moved may have changed. A hint is a candidate, never proof
 * that a chat without one is unchanged.
 */
export interface RecentHint {
  readonly chatId: ChatId;
  /** The row's `date_update`, epoch ms (whole seconds). */
  readonly dateUpdate: number;
  /** The row's `chat.user_counter` (active members), when present. */
  readonly userCounter?: number;
}

/** One hints read. */
export interface HintsRead {
  readonly hints: readonly RecentHint[];
  /** The `LAST_SYNC_DATE` asked for, epoch ms. */
  readonly since: number;
  /** The portal's own time of the call (`time.date_start`), epoch ms: the next watermark. */
  readonly portalTime: number;
}

/** Reads the rows changed since `since` (epoch ms, portal time). Implemented by `functions/bitrix24/`. */
export interface HintReader {
  /** Throws when the answer cannot be trusted to be complete (errors, malformed rows). */
  readHints(since: number): Promise<HintsRead>;
}

/** `LAST_SYNC_DATE` reaches back at most 7 days (docs/bitrix24.md). */
export const HINT_WINDOW_MS = 7 * 24 * 3_600_000;

/**
 * Hints are asked for from the watermark minus this margin: a row written just before the last
 * hints call but committed after it is not skipped. Re-seen rows are recognised (see
 * `HintState.recentRows`), so the margin costs no reads.
 */
export const HINT_SAFETY_MARGIN_MS = 60_000;

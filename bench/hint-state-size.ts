import { encodeStateItems } from '../functions/adapters/dynamodb-hint-store.js';
import { HINT_SAFETY_MARGIN_MS, type RecentHint } from '../functions/core/hints.js';
import type { ChatId } from '../functions/core/model.js';
import { type HintState, selectReads } from '../functions/core/select-reads.js';
import { createRandom } from '../local/simulator/seeded-random.js';

/** Group chats of the large portal whose hint state is measured (docs/scale.md). */
export const REALISTIC_HINT_STATE_CHATS = 10_000;

export interface HintStateSize {
  readonly chats: number;
  /** The head's body (compressed), bytes: what a saved tick writes. */
  readonly bytes: number;
  /** Write units of one PutItem of it (1 KB each, the attributes' few bytes aside). */
  readonly writeUnits: number;
  /** The chat-ID list's body, bytes: written only when the list changes. */
  readonly idsBytes: number;
}

/**
 * The hint state of a realistic portal, as the planner leaves it: `chats` group chats with
 * scattered IDs (a portal's chat IDs also number its private dialogs and other users' chats: gaps
 * of 1–200), planned by `selectReads` over two reconcile periods of 1-minute ticks on which 2 % of
 * the chats had activity at random times (so read times are the ticks' own, scattered), with
 * `user_counter` on every row. Its head is what every saved tick writes; the ID list is written
 * only when it changes.
 */
export function measureHintStateSize(chats: number, seed: number): HintStateSize {
  const random = createRandom(seed);
  const chatIds: ChatId[] = [];
  let id = 1_000;
  for (let i = 0; i < chats; i++) {
    id += 1 + Math.floor(random() * 200);
    chatIds.push(id);
  }
  const tickMs = 60_000;
  const reconcileMs = 60 * tickMs;
  let now = Date.UTC(2026, 11, 1, 9, 0, 0);
  let state: HintState | undefined;
  const rows = new Map<ChatId, RecentHint>();
  for (let tick = 0; tick < 2 * (reconcileMs / tickMs) + 1; tick++) {
    now += tickMs + Math.floor(random() * 1_500);
    for (const chatId of chatIds) {
      if (random() < 0.02) {
        const dateUpdate = Math.floor((now - random() * tickMs) / 1000) * 1000;
        rows.set(chatId, { chatId, dateUpdate, userCounter: 2 + Math.floor(random() * 400) });
      }
    }
    const since = (state ? state.watermark : now) - HINT_SAFETY_MARGIN_MS;
    const hints = [...rows.values()].filter((row) => row.dateUpdate >= since);
    state = selectReads({
      chatIds,
      state,
      settingsKey: 'a'.repeat(64),
      hints: { hints, since, portalTime: now },
      unfinished: new Map(),
      reconcileMs,
      tickMs,
    }).next;
  }
  if (!state) throw new Error('the planner stores a state once the hints worked');
  const items = encodeStateItems(state);
  const bytes = items.head('0'.repeat(64)).length;
  return { chats, bytes, writeUnits: Math.ceil(bytes / 1024), idsBytes: items.ids.length };
}

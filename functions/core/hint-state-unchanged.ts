import type { HintState } from './select-reads.js';

/**
 * Whether storing `next` can be skipped because `previous` plans every later tick the same way.
 * Only the watermark may differ: planning from the older one asks the recent list from further
 * back, and the rows it returns again are the ones `previous.recentRows` already recognises (a
 * tick that saw any other row read its chat, which changes `chats`). The older watermark may lag
 * by less than `maxAgeMs`, which keeps the hints call's window short and far inside the 7-day
 * limit. Pure.
 */
export function hintStateUnchanged(
  previous: HintState | undefined,
  next: HintState,
  maxAgeMs: number,
): boolean {
  if (!previous) return false;
  if (next.watermark < previous.watermark || next.watermark - previous.watermark >= maxAgeMs) {
    return false;
  }
  if (previous.settingsKey !== next.settingsKey) return false;
  if (previous.discoveredAt !== next.discoveredAt) return false;
  if (!sameList(previous.departed ?? [], next.departed ?? [])) return false;
  if (previous.chats.size !== next.chats.size) return false;
  for (const [chatId, chat] of next.chats) {
    const before = previous.chats.get(chatId);
    if (!before) return false;
    if (before.lastFullReadAt !== chat.lastFullReadAt) return false;
    if (before.activeCount !== chat.activeCount) return false;
  }
  for (const [chatId, at] of next.recentRows) {
    if (previous.recentRows.get(chatId) !== at) return false;
  }
  return true;
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

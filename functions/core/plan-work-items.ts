import { createHash } from 'node:crypto';
import {
  type ChatId,
  MAX_CHATS_PER_WORK_ITEM,
  type ReadReason,
  type ReadReasons,
} from './model.js';
import type { PlannedWorkItem } from './work-queue.js';

/**
 * Splits a portal's chats into work items of at most 50 chats: one `batch` request of
 * `im.chat.user.list` per item in steady state. Chats are de-duplicated and sorted so the same
 * config always yields the same items (and the same deduplication IDs) for a schedule tick.
 * With `reasons` (hinted reads) each item says why each of its chats is read; with `departed`,
 * which of its chats left the configured or discovered set.
 */
export function planWorkItems(
  portalId: string,
  chatIds: readonly ChatId[],
  scheduledAt: string,
  reasons?: ReadonlyMap<ChatId, ReadReason>,
  departed: ReadonlySet<ChatId> = new Set(),
): PlannedWorkItem[] {
  const chats = [...new Set(chatIds)].sort((a, b) => a - b);
  const planned: PlannedWorkItem[] = [];
  for (let start = 0; start < chats.length; start += MAX_CHATS_PER_WORK_ITEM) {
    const chunk = chats.slice(start, start + MAX_CHATS_PER_WORK_ITEM);
    const leaving = chunk.filter((id) => departed.has(id));
    planned.push({
      item: {
        portalId,
        chatIds: chunk,
        scheduledAt,
        ...(reasons ? { reasons: groupByReason(chunk, reasons) } : {}),
        ...(leaving.length > 0 ? { departed: leaving } : {}),
      },
      groupId: portalId,
      deduplicationId: createHash('sha256')
        .update(`${portalId}\n${scheduledAt}\n${chunk.join(',')}`)
        .digest('hex'),
    });
  }
  return planned;
}

function groupByReason(
  chatIds: readonly ChatId[],
  reasons: ReadonlyMap<ChatId, ReadReason>,
): ReadReasons {
  const grouped: Partial<Record<ReadReason, ChatId[]>> = {};
  for (const chatId of chatIds) {
    const reason = reasons.get(chatId);
    if (reason === undefined) continue;
    const list = grouped[reason] ?? [];
    list.push(chatId);
    grouped[reason] = list;
  }
  return grouped;
}

import { createHash } from 'node:crypto';
import { type ChatId, MAX_CHATS_PER_WORK_ITEM } from './model.js';
import type { PlannedWorkItem } from './work-queue.js';

/**
 * Splits a portal's chats into work items of at most 50 chats: one `batch` request of
 * `im.chat.user.list` per item in steady state. Chats are de-duplicated and sorted so the same
 * config always yields the same items (and the same deduplication IDs) for a schedule tick.
 */
export function planWorkItems(
  portalId: string,
  chatIds: readonly ChatId[],
  scheduledAt: string,
): PlannedWorkItem[] {
  const chats = [...new Set(chatIds)].sort((a, b) => a - b);
  const planned: PlannedWorkItem[] = [];
  for (let start = 0; start < chats.length; start += MAX_CHATS_PER_WORK_ITEM) {
    const chunk = chats.slice(start, start + MAX_CHATS_PER_WORK_ITEM);
    planned.push({
      item: { portalId, chatIds: chunk, scheduledAt },
      groupId: portalId,
      deduplicationId: createHash('sha256')
        .update(`${portalId}\n${scheduledAt}\n${chunk.join(',')}`)
        .digest('hex'),
    });
  }
  return planned;
}

import type { HintRecall, ReadOutcomes } from './hint-store.js';
import type { ChatId, DetectedBy, ReadReason, WorkItem } from './model.js';
import type { UnfinishedKind } from './select-reads.js';
import type { ChatSyncResult, SyncReport } from './sync-report.js';

/** Why the work item reads `chatId`; undefined in full mode (no reasons). */
export function reasonOf(item: WorkItem, chatId: ChatId): ReadReason | undefined {
  if (!item.reasons) return undefined;
  for (const [reason, chatIds] of Object.entries(item.reasons)) {
    if (chatIds?.includes(chatId)) return reason as ReadReason;
  }
  return undefined;
}

/**
 * `data.detectedBy` of a change found in `chatId` (hinted reads only): `baseline` for a first
 * read, `hint` when the hints named the chat, otherwise `reconcile` (a full read of the chat:
 * the rolling reconcile, a full tick, or a retry of unfinished business; it may be late).
 */
export function detectedByOf(
  item: WorkItem,
  chatId: ChatId,
  baseline: boolean,
): DetectedBy | undefined {
  if (!item.reasons) return undefined;
  if (baseline) return 'baseline';
  return reasonOf(item, chatId) === 'hint' ? 'hint' : 'reconcile';
}

/** Whether the chat's membership changed in this run (a new hold counts: leaves were seen). */
export function foundChange(chat: ChatSyncResult): boolean {
  if (chat.outcome === 'changed') return chat.joined + chat.left > 0;
  return chat.outcome === 'held' && chat.events > 0;
}

/**
 * What a hinted work item's sync says for the next ticks (pure):
 *
 * - unfinished business: chats that failed, are held or lost access (read again next tick);
 *   a chat read as `retry` that is still unfinished is not written again;
 * - finished: chats read as `retry` or `hint` (a named chat may have been unfinished) that are
 *   done, or any done chat when the item is a redelivery (its first attempt may have marked it);
 * - recall: each change found in a chat the hints named (`byHint`) or by a reconcile or learned
 *   read of a chat they did not name (`byReconcile`: a miss). Changes in new chats, retries and
 *   full ticks without hints say nothing about the hints. A change that happened after the
 *   tick's hints call and was found by its reconcile read counts as a miss too: recall is never
 *   overstated;
 * - missed: the chats of those misses, unless read page by page, for the learned reconcile
 *   (`select-reads.ts`).
 *
 * Full mode (no reasons) records nothing.
 */
export function readOutcomesOf(
  item: WorkItem,
  report: SyncReport,
  options: { readonly redelivered?: boolean } = {},
): ReadOutcomes | undefined {
  if (!item.reasons) return undefined;
  const unfinished = new Map<ChatId, UnfinishedKind>();
  const finished: ChatId[] = [];
  const missed: ChatId[] = [];
  let byHint = 0;
  let byReconcile = 0;
  for (const chat of report.chats) {
    const reason = reasonOf(item, chat.chatId);
    const kind = unfinishedKindOf(chat);
    if (kind !== undefined) {
      if (reason !== 'retry') unfinished.set(chat.chatId, kind);
    } else if (reason === 'retry' || reason === 'hint' || options.redelivered) {
      finished.push(chat.chatId);
    }
    if (foundChange(chat)) {
      if (reason === 'hint') byHint += 1;
      else if (reason === 'reconcile' || reason === 'learned') {
        byReconcile += 1;
        if (!chat.paged) missed.push(chat.chatId);
      }
    }
  }
  return { unfinished, finished, detected: { byHint, byReconcile }, missed };
}

function unfinishedKindOf(chat: ChatSyncResult): UnfinishedKind | undefined {
  switch (chat.outcome) {
    case 'failed':
      return 'failed';
    case 'held':
      return 'held';
    case 'access_lost':
      return 'access_lost';
    default:
      return undefined;
  }
}

/** Hint recall: the share of found changes the hints named; undefined before any change. */
export function recallOf(recall: HintRecall): number | undefined {
  const total = recall.byHint + recall.byReconcile;
  return total === 0 ? undefined : recall.byHint / total;
}

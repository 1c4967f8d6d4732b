import type { WorkItem } from './model.js';

/** A work item with the FIFO routing the planner decided for it. */
export interface PlannedWorkItem {
  readonly item: WorkItem;
  /** SQS FIFO MessageGroupId: the portal, so one portal is synced at a time (its rate limit is shared). */
  readonly groupId: string;
  /** Deterministic per schedule tick and chunk: a retried planner run enqueues nothing twice. */
  readonly deduplicationId: string;
}

/** Where the planner sends work. Implemented by `functions/adapters/sqs-work-queue.ts`. */
export interface WorkQueue {
  /** Resolves once every item is accepted; throws naming the items that were not. */
  enqueue(items: readonly PlannedWorkItem[]): Promise<void>;
}

import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { PlannedWorkItem, WorkQueue } from '../core/work-queue.js';
import { fullJitter } from '../timing/backoff.js';
import { sleep as defaultSleep } from '../timing/sleep.js';

/** SQS SendMessageBatch takes at most 10 entries. */
const MAX_BATCH_ENTRIES = 10;
const MAX_ATTEMPTS = 4;
/** Full jitter before resending the entries SQS failed: up to 200 ms, 400 ms, 800 ms. */
const RESEND_BACKOFF = { base: 200, max: 2_000 };

export interface SqsWorkQueueOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
}

export class WorkQueueError extends Error {
  override readonly name = 'WorkQueueError';
  constructor(
    message: string,
    readonly failedDeduplicationIds: readonly string[],
  ) {
    super(message);
  }
}

/**
 * The planner's FIFO work queue. MessageGroupId = portal (one portal synced at a time);
 * MessageDeduplicationId is deterministic per tick and chunk, so a retried planner run within
 * SQS's 5-minute deduplication window enqueues nothing twice.
 */
export function createSqsWorkQueue(options: SqsWorkQueueOptions): WorkQueue {
  const sleep = options.sleep ?? defaultSleep;
  const fifo = options.queueUrl.endsWith('.fifo');

  async function sendChunk(chunk: readonly PlannedWorkItem[]): Promise<void> {
    let pending = chunk.map((planned, index) => ({ id: `m${index}`, planned }));
    for (let attempt = 1; pending.length > 0; attempt++) {
      const response = await options.client.send(
        new SendMessageBatchCommand({
          QueueUrl: options.queueUrl,
          Entries: pending.map(({ id, planned }) => ({
            Id: id,
            MessageBody: JSON.stringify(planned.item),
            ...(fifo
              ? { MessageGroupId: planned.groupId, MessageDeduplicationId: planned.deduplicationId }
              : {}),
          })),
        }),
      );
      const failed = new Set((response.Failed ?? []).map((f) => f.Id));
      // Sender faults (malformed entries) will not succeed on a retry.
      const permanent = (response.Failed ?? []).some((f) => f.SenderFault);
      pending = pending.filter((p) => failed.has(p.id));
      if (pending.length === 0) return;
      if (permanent || attempt >= MAX_ATTEMPTS) {
        throw new WorkQueueError(
          `${pending.length} work item(s) were not accepted by the queue: ${(response.Failed ?? [])
            .map((f) => f.Code)
            .join(', ')}`,
          pending.map((p) => p.planned.deduplicationId),
        );
      }
      await sleep(fullJitter(attempt, RESEND_BACKOFF));
    }
  }

  return {
    async enqueue(items) {
      for (let start = 0; start < items.length; start += MAX_BATCH_ENTRIES) {
        await sendChunk(items.slice(start, start + MAX_BATCH_ENTRIES));
      }
    },
  };
}

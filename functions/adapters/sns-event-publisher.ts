import { createHash } from 'node:crypto';
import {
  type MessageAttributeValue,
  PublishBatchCommand,
  type PublishBatchRequestEntry,
  type SNSClient,
} from '@aws-sdk/client-sns';
import type { OutgoingEvent } from '../core/cloud-event.js';
import { PublishError } from '../core/errors.js';
import type { EventPublisher, PublishOptions } from '../core/ports.js';
import { fullJitter } from '../timing/backoff.js';
import { sleep } from '../timing/sleep.js';

/**
 * EventPublisher on SNS PublishBatch. One CloudEvent (JSON structured mode) per message; the
 * message attributes mirror `type`, `portal`, `chatId`, `userId`, `bot`, `extranet` so filter
 * policies need not parse bodies.
 *
 * SNS limits: ≤10 entries per PublishBatch, and 256 KiB (262,144 bytes) per message and for the
 * whole request, counting the body and every attribute's name, data type and value. Batch entry
 * Ids are ≤80 characters of [A-Za-z0-9_-] (event ids are not guaranteed to be, so entries are
 * numbered); FIFO MessageGroupId/MessageDeduplicationId are ≤128 printable ASCII characters
 * (longer or other ids are replaced by their sha256 hex, which is still deterministic).
 *
 * PublishBatch answers HTTP 200 with per-entry `Failed` results. Entries failed by the service
 * (`SenderFault: false`) and whole-call errors the SDK marks retryable are retried with
 * full-jitter backoff; sender faults are not. Whatever is still unacknowledged then is reported
 * in one {@link PublishError}; the caller must not save the snapshot.
 *
 * FIFO topics: batches go out one at a time in input order, so SNS keeps per-group order. A
 * retried entry is re-sent after later entries of its batch went through, so after a partial
 * failure a group's order can differ from input order; consumers order by `data.sequence`. Once
 * an entry stays unacknowledged, the group's entries in later batches are not sent at all (they
 * are named in the PublishError): the chat is not saved, and the next run re-publishes them after
 * the failed one.
 */
export interface SnsEventPublisherOptions {
  readonly client: SNSClient;
  readonly topicArn: string;
  /** FIFO topic: MessageGroupId = groupKey, MessageDeduplicationId = event id. @default false */
  readonly fifo?: boolean | undefined;
  /** Payload budget per message and per request. @default 262_144 */
  readonly maxRequestBytes?: number | undefined;
  /** PublishBatch calls in flight for a standard topic (a FIFO topic always uses 1). @default 4 */
  readonly concurrency?: number | undefined;
  readonly retry?: {
    /** Attempts per entry, the first included. @default 4 */
    readonly maxAttempts?: number;
    /** Longest wait before the first retry; doubles per retry (full jitter). @default 200 */
    readonly baseDelayMs?: number;
    /** @default 2_000 */
    readonly maxDelayMs?: number;
  };
}

export interface SnsPublisherStats {
  readonly publishBatchCalls: number;
  /** Entries sent, retries included. */
  readonly entriesSent: number;
  readonly eventsPublished: number;
  readonly entriesRetried: number;
  readonly eventsFailed: number;
  /** Payload bytes sent (as counted against the 256 KiB limit), retries included. */
  readonly payloadBytes: number;
}

export interface SnsEventPublisher extends EventPublisher {
  stats(): SnsPublisherStats;
}

const MAX_BATCH_ENTRIES = 10;
const SNS_MAX_PAYLOAD_BYTES = 262_144;
const FIFO_ID = /^[\x21-\x7e]{1,128}$/;

interface Entry {
  readonly eventId: string;
  readonly groupKey: string;
  readonly request: PublishBatchRequestEntry;
  readonly bytes: number;
}

export function createSnsEventPublisher(options: SnsEventPublisherOptions): SnsEventPublisher {
  const { client, topicArn } = options;
  const fifo = options.fifo ?? false;
  const maxRequestBytes = options.maxRequestBytes ?? SNS_MAX_PAYLOAD_BYTES;
  const concurrency = fifo ? 1 : Math.max(1, options.concurrency ?? 4);
  const maxAttempts = Math.max(1, options.retry?.maxAttempts ?? 4);
  const backoff = {
    base: options.retry?.baseDelayMs ?? 200,
    max: options.retry?.maxDelayMs ?? 2_000,
  };
  const counters = {
    publishBatchCalls: 0,
    entriesSent: 0,
    eventsPublished: 0,
    entriesRetried: 0,
    eventsFailed: 0,
    payloadBytes: 0,
  };

  /**
   * Sends one batch, retrying what may succeed later; returns what never got acknowledged. A
   * retry whose wait would pass `deadlineAt` is not made: its entries come back `late`.
   */
  async function sendBatch(
    batch: readonly Entry[],
    deadlineAt: number | undefined,
  ): Promise<{ failed: Entry[]; causes: unknown[]; late: boolean }> {
    let pending = [...batch];
    const failed: Entry[] = [];
    const causes: unknown[] = [];
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > 1) {
        const delay = fullJitter(attempt - 1, backoff);
        if (deadlineAt !== undefined && Date.now() + delay >= deadlineAt) {
          failed.push(...pending);
          causes.push(deadlineCause());
          return { failed, causes, late: true };
        }
        counters.entriesRetried += pending.length;
        await sleep(delay);
      }
      const last = attempt >= maxAttempts;
      counters.publishBatchCalls++;
      counters.entriesSent += pending.length;
      counters.payloadBytes += pending.reduce((sum, e) => sum + e.bytes, 0);
      let retry: Entry[] = [];
      try {
        const out = await client.send(
          new PublishBatchCommand({
            TopicArn: topicArn,
            PublishBatchRequestEntries: pending.map((e) => e.request),
          }),
        );
        const ok = new Set((out.Successful ?? []).map((s) => s.Id));
        const failures = new Map((out.Failed ?? []).map((f) => [f.Id, f]));
        for (const entry of pending) {
          if (ok.has(entry.request.Id)) {
            counters.eventsPublished++;
            continue;
          }
          const failure = failures.get(entry.request.Id);
          if (failure?.SenderFault === true || last) {
            failed.push(entry);
            causes.push(
              failure ? `${failure.Code ?? 'Failed'}: ${failure.Message ?? ''}` : 'no result',
            );
          } else {
            retry.push(entry);
          }
        }
      } catch (error) {
        if (last || !isRetryable(error)) {
          failed.push(...pending);
          causes.push(error);
        } else {
          retry = pending;
        }
      }
      pending = retry;
    }
    return { failed, causes, late: false };
  }

  async function publish(
    events: readonly OutgoingEvent[],
    options: PublishOptions = {},
  ): Promise<void> {
    const { deadlineAt } = options;
    let late = false;
    const entries = events.map((event, index) => toEntry(event, index, fifo));
    // An entry SNS would refuse is not sent; the rest are, and the error names only what failed.
    const oversized = entries.filter((e) => e.bytes > maxRequestBytes);
    const batches = toBatches(
      entries.filter((e) => e.bytes <= maxRequestBytes),
      maxRequestBytes,
    );
    const failed: Entry[] = [...oversized];
    const causes: unknown[] =
      oversized.length > 0
        ? [
            Object.assign(
              new Error(
                `${oversized.length} event(s) exceed the SNS limit of ${maxRequestBytes} bytes`,
              ),
              { name: 'EventTooLarge' },
            ),
          ]
        : [];
    // FIFO: once an event of a group is unacknowledged, its later events are not sent: they
    // would reach subscribers before the failed one is re-published (its chat is not saved).
    const blocked = new Set<string>();
    const blockedEntries: Entry[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(concurrency, batches.length) }, async () => {
        for (let batch = batches[next++]; batch !== undefined; batch = batches[next++]) {
          const toSend = fifo ? batch.filter((e) => !blocked.has(e.groupKey)) : batch;
          if (toSend.length < batch.length) {
            blockedEntries.push(...batch.filter((e) => blocked.has(e.groupKey)));
          }
          if (toSend.length === 0) continue;
          if (deadlineAt !== undefined && Date.now() >= deadlineAt) {
            // Not sent: the caller records its cursor and goes on in the next invocation.
            if (!late) causes.push(deadlineCause());
            late = true;
            failed.push(...toSend);
            for (const entry of toSend) blocked.add(entry.groupKey);
            continue;
          }
          const result = await sendBatch(toSend, deadlineAt);
          late ||= result.late;
          failed.push(...result.failed);
          causes.push(...result.causes);
          for (const entry of result.failed) blocked.add(entry.groupKey);
        }
      }),
    );
    if (blockedEntries.length > 0) {
      failed.push(...blockedEntries);
      causes.push(
        Object.assign(new Error('held back after an earlier event of its group failed'), {
          name: 'HeldBackForOrder',
        }),
      );
    }
    if (failed.length > 0) {
      counters.eventsFailed += failed.length;
      const codes = [...new Set(causes.map(describeCause))].slice(0, 5).join('; ');
      throw new PublishError(
        `${failed.length} of ${events.length} events were not acknowledged by SNS (${codes})`,
        failed.map((e) => e.eventId),
        { cause: causes[0], deadlineReached: late },
      );
    }
  }

  return { publish, stats: () => ({ ...counters }) };
}

function deadlineCause(): Error {
  return Object.assign(new Error('not sent: the deadline came first'), {
    name: 'DeadlineReached',
  });
}

function toEntry(outgoing: OutgoingEvent, index: number, fifo: boolean): Entry {
  const { event, attributes: a } = outgoing;
  const attributes: Record<string, MessageAttributeValue> = {
    type: { DataType: 'String', StringValue: a.type },
    portal: { DataType: 'String', StringValue: a.portal },
    chatId: { DataType: 'Number', StringValue: String(a.chatId) },
  };
  if (a.userId !== undefined)
    attributes.userId = { DataType: 'Number', StringValue: String(a.userId) };
  if (a.bot !== undefined) attributes.bot = { DataType: 'String', StringValue: String(a.bot) };
  if (a.extranet !== undefined) {
    attributes.extranet = { DataType: 'String', StringValue: String(a.extranet) };
  }
  const message = JSON.stringify(event);
  const request: PublishBatchRequestEntry = {
    Id: `e${index}`,
    Message: message,
    MessageAttributes: attributes,
    ...(fifo
      ? {
          MessageGroupId: fifoId(outgoing.groupKey),
          MessageDeduplicationId: fifoId(event.id),
        }
      : {}),
  };
  let bytes = Buffer.byteLength(message);
  for (const [name, value] of Object.entries(attributes)) {
    bytes +=
      Buffer.byteLength(name) +
      Buffer.byteLength(value.DataType ?? '') +
      Buffer.byteLength(value.StringValue ?? '');
  }
  return { eventId: event.id, groupKey: outgoing.groupKey, request, bytes };
}

/** Greedy, order-preserving: a batch closes at 10 entries or when the next entry would overflow. */
function toBatches(entries: readonly Entry[], maxBytes: number): Entry[][] {
  const batches: Entry[][] = [];
  let current: Entry[] = [];
  let size = 0;
  for (const entry of entries) {
    if (
      current.length === MAX_BATCH_ENTRIES ||
      (current.length > 0 && size + entry.bytes > maxBytes)
    ) {
      batches.push(current);
      current = [];
      size = 0;
    }
    current.push(entry);
    size += entry.bytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

function fifoId(value: string): string {
  return FIFO_ID.test(value) ? value : createHash('sha256').update(value).digest('hex');
}

function isRetryable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const e = error as Error & { $retryable?: unknown; $fault?: string };
  return (
    e.$retryable !== undefined ||
    e.$fault === 'server' ||
    /Throttl|TimeoutError|ECONNRESET|InternalError|ServiceUnavailable/.test(e.name)
  );
}

function describeCause(cause: unknown): string {
  return cause instanceof Error ? cause.name : String(cause);
}

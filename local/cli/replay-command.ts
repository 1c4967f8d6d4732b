import { GetTopicAttributesCommand, NotFoundException, SNSClient } from '@aws-sdk/client-sns';
import { SingleBar } from 'cli-progress';
import { createSnsEventPublisher } from '../../functions/adapters/sns-event-publisher.js';
import { attributesOf, type ChatEventData, groupKeyOf } from '../../functions/core/build-events.js';
import type { CloudEvent, OutgoingEvent } from '../../functions/core/cloud-event.js';
import { PublishError } from '../../functions/core/errors.js';
import { localAwsConfig } from '../runtime/local-aws-config.js';
import {
  type ArchiveFlags,
  chatIdOf,
  parsePastTime,
  readEventsFrom,
  sequenceOf,
} from './archive-source.js';
import { UsageError } from './resolve-run-config.js';

/** The `--topic-kind` choices; commander refuses anything else. */
export const TOPIC_KINDS = ['standard', 'fifo'] as const;
export type TopicKind = (typeof TOPIC_KINDS)[number];

export interface ReplayFlags extends ArchiveFlags {
  readonly snsTopicArn: string;
  readonly snsEndpoint?: string;
  readonly since?: string;
  readonly chat?: number;
  /** Events per second. */
  readonly rate: number;
  /** What the caller means to publish to; checked against the topic itself. */
  readonly topicKind?: TopicKind;
}

/** Entries per PublishBatch call (the SNS maximum). */
const CHUNK = 10;

/**
 * `membership-sync replay`: re-publishes archived events unchanged (same IDs, same bodies, the
 * message attributes the sync sets), each once, in `data.sequence` order per chat, at most
 * `--rate` per second. A subscriber deduplicating on `source` + `id` drops what it already has.
 */
export async function replayCommand(flags: ReplayFlags): Promise<number> {
  const since = flags.since === undefined ? undefined : parsePastTime('--since', flags.since);
  const expected = expectedKind(flags);
  const client = new SNSClient(flags.snsEndpoint ? localAwsConfig(flags.snsEndpoint) : {});
  try {
    const fifo = (await topicKindOf(client, flags.snsTopicArn)) === 'fifo';
    if (expected !== (fifo ? 'fifo' : 'standard')) {
      throw new UsageError(
        `--sns-topic-arn: ${flags.snsTopicArn} is a ${fifo ? 'FIFO' : 'standard'} topic, not ${expected}${flags.topicKind ? ' (--topic-kind)' : ''}; replay to a ${expected} topic or pass --topic-kind ${fifo ? 'fifo' : 'standard'}`,
      );
    }
    const contents = await readEventsFrom(flags, {
      keep: (e) =>
        (flags.chat === undefined || chatIdOf(e) === flags.chat) &&
        (since === undefined || Date.parse(e.time) >= since.getTime()),
      ...(since ? { since } : {}),
    });
    const { events, duplicates } = inReplayOrder(contents.events);
    const publisher = createSnsEventPublisher({ client, topicArn: flags.snsTopicArn, fifo });
    const progress = createReplayProgress(events.length);
    const started = Date.now();
    // A chat whose event failed sends nothing more: its later events would overtake the failed one.
    const stopped = new Set<string>();
    let published = 0;
    const failed: string[] = [];
    for (let i = 0; i < events.length; i += CHUNK) {
      const chunk = events
        .slice(i, i + CHUNK)
        .map(outgoingOf)
        .filter((o) => {
          if (!stopped.has(o.groupKey)) return true;
          failed.push(o.event.id);
          return false;
        });
      const wait = started + (i / flags.rate) * 1000 - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      try {
        await publisher.publish(chunk);
        published += chunk.length;
      } catch (error) {
        if (!(error instanceof PublishError)) throw error;
        const ids = new Set(error.failedEventIds);
        for (const o of chunk) if (ids.has(o.event.id)) stopped.add(o.groupKey);
        failed.push(...error.failedEventIds);
        published += chunk.length - ids.size;
      }
      progress.update(Math.min(i + CHUNK, events.length));
    }
    progress.stop();
    const chats = new Set(events.map((e) => `${e.source}#${chatIdOf(e)}`)).size;
    process.stderr.write(
      `replayed ${published} of ${events.length} event(s) of ${chats} chat(s) to ${flags.snsTopicArn} in ${((Date.now() - started) / 1000).toFixed(1)} s; ${duplicates} duplicate(s) in the archive skipped; ${failed.length} failed\n`,
    );
    for (const id of failed.slice(0, 20)) process.stderr.write(`  not published: ${id}\n`);
    if (contents.unreadable.length > 0) return 2;
    return failed.length > 0 ? 1 : 0;
  } finally {
    client.destroy();
  }
}

function expectedKind(flags: ReplayFlags): TopicKind {
  return flags.topicKind ?? (flags.snsTopicArn.endsWith('.fifo') ? 'fifo' : 'standard');
}

async function topicKindOf(client: SNSClient, topicArn: string): Promise<TopicKind> {
  try {
    const out = await client.send(new GetTopicAttributesCommand({ TopicArn: topicArn }));
    return out.Attributes?.FifoTopic === 'true' ? 'fifo' : 'standard';
  } catch (error) {
    if (error instanceof NotFoundException) {
      throw new UsageError(`--sns-topic-arn: no topic ${topicArn}`);
    }
    throw new UsageError(
      `--sns-topic-arn ${topicArn}: ${(error as Error).message || (error as Error).name}`,
    );
  }
}

/** Deduplicated on `source` + `id`; by time, then per chat by sequence. */
export function inReplayOrder(events: readonly CloudEvent[]): {
  events: CloudEvent[];
  duplicates: number;
} {
  const unique = new Map<string, CloudEvent>();
  for (const e of events) unique.set(`${e.source}\n${e.id}`, e);
  const ordered = [...unique.values()].sort(
    (a, b) =>
      a.time.localeCompare(b.time) ||
      a.source.localeCompare(b.source) ||
      chatIdOf(a) - chatIdOf(b) ||
      sequenceOf(a) - sequenceOf(b),
  );
  return { events: ordered, duplicates: events.length - unique.size };
}

/** The event as the sync published it: the same body, attributes and FIFO group. */
export function outgoingOf(event: CloudEvent): OutgoingEvent {
  const data = event.data as ChatEventData;
  return {
    event,
    attributes: attributesOf(event),
    groupKey: groupKeyOf(data.portalId, data.chatId),
  };
}

function createReplayProgress(total: number): { update(done: number): void; stop(): void } {
  const stream = process.stderr;
  if (stream.isTTY) {
    const bar = new SingleBar({
      stream,
      format: 'replaying {bar} {value}/{total} events | {eta_formatted} left',
      hideCursor: true,
      clearOnComplete: true,
    });
    bar.start(total, 0);
    return { update: (done) => bar.update(done), stop: () => bar.stop() };
  }
  let reported = 0;
  return {
    update(done) {
      if (done - reported >= 1_000 || (done === total && reported > 0)) {
        stream.write(`replayed ${done}/${total} events\n`);
        reported = done;
      }
    },
    stop() {},
  };
}

import { PublishBatchCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSnsEventPublisher } from '../../functions/adapters/sns-event-publisher.js';
import {
  type EventType,
  EventTypes,
  type OutgoingEvent,
} from '../../functions/core/cloud-event.js';
import { PublishError } from '../../functions/core/errors.js';
import { emulatorClientConfig } from '../support/aws.js';
import { type FauxqsEndpoint, startFauxqsServer } from '../support/fauxqs-server.js';

interface EventSpec {
  id?: string;
  type?: EventType;
  chatId?: number;
  userId?: number;
  bot?: boolean;
  extranet?: boolean;
  /** Extra characters in `data` to make the message large. */
  padding?: number;
}

function outgoing(spec: EventSpec = {}): OutgoingEvent {
  const chatId = spec.chatId ?? 7;
  const userId = spec.userId;
  const type = spec.type ?? EventTypes.joined;
  return {
    event: {
      specversion: '1.0',
      id: spec.id ?? `evt-${chatId}-${userId ?? 'chat'}-${type.split('.').at(-2)}`,
      source: 'https://example.bitrix24.com',
      type,
      subject: userId === undefined ? `chat/${chatId}` : `chat/${chatId}/user/${userId}`,
      time: '2026-11-21T10:00:00.000Z',
      datacontenttype: 'application/json',
      dataschema: 'https://example.com/schemas/x.json',
      data: { portal: 'main', chatId, userId, padding: 'x'.repeat(spec.padding ?? 0) },
    },
    attributes: {
      type,
      portal: 'main',
      chatId,
      ...(userId === undefined ? {} : { userId }),
      ...(spec.bot === undefined ? {} : { bot: spec.bot }),
      ...(spec.extranet === undefined ? {} : { extranet: spec.extranet }),
    },
    groupKey: `main#${chatId}`,
  };
}

const ids = (n: number, from = 1) => Array.from({ length: n }, (_, i) => from + i);

describe('SnsEventPublisher on fauxqs', () => {
  let faux: FauxqsEndpoint;
  beforeAll(async () => {
    faux = await startFauxqsServer();
  });
  afterAll(async () => {
    await faux?.stop();
  });

  it('delivers CloudEvent bodies with filterable attributes to raw and enveloped SQS subscribers', async () => {
    const topicArn = await faux.createTopic('std-delivery');
    const raw = await faux.subscribeQueue(topicArn, 'std-raw', { raw: true });
    const envelope = await faux.subscribeQueue(topicArn, 'std-envelope');
    const events = [
      outgoing({ userId: 1, bot: false, extranet: true }),
      outgoing({ userId: 2, type: EventTypes.left }),
      outgoing({ type: EventTypes.accessLost }),
    ];
    const publisher = createSnsEventPublisher({ client: faux.sns, topicArn });

    await publisher.publish(events);

    for (const queue of [raw, envelope]) {
      const delivered = await faux.drain(queue.queueUrl, { expected: 3 });
      const byId = new Map(delivered.map((d) => [JSON.parse(d.message).id as string, d]));
      expect(byId.size).toBe(3);
      for (const e of events)
        expect(JSON.parse(byId.get(e.event.id)?.message ?? '')).toEqual(e.event);
      expect(byId.get(events[0]?.event.id ?? '')?.attributes).toEqual({
        type: EventTypes.joined,
        portal: 'main',
        chatId: '7',
        userId: '1',
        bot: 'false',
        extranet: 'true',
      });
      expect(byId.get(events[2]?.event.id ?? '')?.attributes).toEqual({
        type: EventTypes.accessLost,
        portal: 'main',
        chatId: '7',
      });
    }
    expect(publisher.stats()).toMatchObject({ publishBatchCalls: 1, eventsPublished: 3 });
  });

  it('lets a FilterPolicy on type and bot drop non-matching messages', async () => {
    const topicArn = await faux.createTopic('std-filter');
    const bots = await faux.subscribeQueue(topicArn, 'bots-joined', {
      raw: true,
      filterPolicy: { type: [EventTypes.joined], bot: ['true'] },
    });
    await createSnsEventPublisher({ client: faux.sns, topicArn }).publish([
      outgoing({ userId: 1, bot: true }),
      outgoing({ userId: 2, bot: false }),
      outgoing({ userId: 3 }),
      outgoing({ userId: 4, bot: true, type: EventTypes.left }),
      outgoing({ userId: 5, bot: true }),
    ]);

    const delivered = await faux.drain(bots.queueUrl);

    expect(delivered.map((d) => JSON.parse(d.message).data.userId).sort()).toEqual([1, 5]);
  });

  it('keeps per-group order on a FIFO topic and drops duplicate event ids', async () => {
    const topicArn = await faux.createTopic('ordered', { fifo: true });
    const queue = await faux.subscribeQueue(topicArn, 'ordered', { raw: true });
    const publisher = createSnsEventPublisher({ client: faux.sns, topicArn, fifo: true });
    const interleaved = ids(12).map((userId) => outgoing({ chatId: userId % 2 ? 1 : 2, userId }));

    await publisher.publish(interleaved);
    await publisher.publish(interleaved.slice(0, 5)); // a re-run re-publishes identical ids

    const delivered = await faux.drain(queue.queueUrl, { expected: 12, idleMs: 500 });
    expect(delivered).toHaveLength(12);
    const order = (group: string) =>
      delivered.filter((d) => d.groupId === group).map((d) => JSON.parse(d.message).data.userId);
    expect(order('main#1')).toEqual([1, 3, 5, 7, 9, 11]);
    expect(order('main#2')).toEqual([2, 4, 6, 8, 10, 12]);
  });

  it('sends 25 events in 3 PublishBatch calls', async () => {
    const topicArn = await faux.createTopic('std-25');
    const queue = await faux.subscribeQueue(topicArn, 'std-25', { raw: true });
    const publisher = createSnsEventPublisher({ client: faux.sns, topicArn });

    await publisher.publish(ids(25).map((userId) => outgoing({ userId })));

    expect(publisher.stats()).toMatchObject({
      publishBatchCalls: 3,
      entriesSent: 25,
      eventsPublished: 25,
    });
    expect(await faux.drain(queue.queueUrl, { expected: 25 })).toHaveLength(25);
  });

  it('splits large events by the 256 KiB request budget', async () => {
    const topicArn = await faux.createTopic('std-large');
    const queue = await faux.subscribeQueue(topicArn, 'std-large', { raw: true });
    const publisher = createSnsEventPublisher({ client: faux.sns, topicArn });

    // 100,000-character events: two fit in 262,144 bytes, three do not.
    await publisher.publish(ids(5).map((userId) => outgoing({ userId, padding: 100_000 })));

    expect(publisher.stats().publishBatchCalls).toBe(3);
    expect(await faux.drain(queue.queueUrl, { expected: 5 })).toHaveLength(5);
  });

  it('publishes the others and names only the event over 256 KiB as unacknowledged', async () => {
    const topicArn = await faux.createTopic('std-oversized');
    const queue = await faux.subscribeQueue(topicArn, 'std-oversized', { raw: true });
    const publisher = createSnsEventPublisher({ client: faux.sns, topicArn });
    const events = [outgoing({ userId: 1 }), outgoing({ userId: 2, padding: 262_144 })];

    const error = await publisher.publish(events).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PublishError);
    expect((error as PublishError).failedEventIds).toEqual([events[1]?.event.id]);
    expect((error as PublishError).message).toContain('EventTooLarge');
    const delivered = await faux.drain(queue.queueUrl, { expected: 1 });
    expect(delivered.map((d) => JSON.parse(d.message).id)).toEqual([events[0]?.event.id]);
  });

  it('maps event ids that SNS would reject as batch entry or dedup ids', async () => {
    const topicArn = await faux.createTopic('odd-ids', { fifo: true });
    const queue = await faux.subscribeQueue(topicArn, 'odd-ids', { raw: true });
    const longId = `urn:membership:${'ab:'.repeat(60)}`; // 195 chars, colons
    const events = [outgoing({ id: longId, userId: 1 }), outgoing({ id: `${longId}x`, userId: 2 })];

    await createSnsEventPublisher({ client: faux.sns, topicArn, fifo: true }).publish(events);

    const delivered = await faux.drain(queue.queueUrl, { expected: 2 });
    expect(delivered.map((d) => JSON.parse(d.message).id)).toEqual([longId, `${longId}x`]);
  });
});

describe('SnsEventPublisher per-entry failures', () => {
  // Created in beforeAll: mockClient patches SNSClient.prototype, which the fauxqs suite needs intact.
  const mockSns = () => mockClient(SNSClient);
  let sns: ReturnType<typeof mockSns>;
  beforeAll(() => {
    sns = mockSns();
  });
  const client = new SNSClient(emulatorClientConfig('http://127.0.0.1:9'));
  const topicArn = 'arn:aws:sns:us-east-1:000000000000:t';
  const retry = { baseDelayMs: 1, maxDelayMs: 5 };
  afterEach(() => {
    sns.reset();
  });
  afterAll(() => {
    sns.restore();
  });

  it('retries an entry the service failed, then succeeds', async () => {
    sns
      .on(PublishBatchCommand)
      .resolvesOnce({
        Successful: [
          { Id: 'e0', MessageId: 'm0' },
          { Id: 'e2', MessageId: 'm2' },
        ],
        Failed: [{ Id: 'e1', Code: 'InternalError', SenderFault: false }],
      })
      .resolvesOnce({ Successful: [{ Id: 'e1', MessageId: 'm1' }] });
    const publisher = createSnsEventPublisher({ client, topicArn, retry });

    await publisher.publish(ids(3).map((userId) => outgoing({ userId })));

    expect(sns.commandCalls(PublishBatchCommand)).toHaveLength(2);
    expect(
      sns.commandCalls(PublishBatchCommand)[1]?.args[0].input.PublishBatchRequestEntries,
    ).toEqual([
      expect.objectContaining({ Id: 'e1', Message: expect.stringContaining('"userId":2') }),
    ]);
    expect(publisher.stats()).toMatchObject({
      publishBatchCalls: 2,
      eventsPublished: 3,
      entriesRetried: 1,
    });
  });

  it('throws PublishError naming the events that kept failing', async () => {
    sns.on(PublishBatchCommand).callsFake(failEntry('e3', 'KMSThrottling', false));
    const events = ids(12).map((userId) => outgoing({ userId }));
    const publisher = createSnsEventPublisher({
      client,
      topicArn,
      retry: { ...retry, maxAttempts: 3 },
    });

    const error = await publisher.publish(events).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PublishError);
    expect((error as PublishError).failedEventIds).toEqual([events[3]?.event.id]);
    expect((error as PublishError).message).toContain('KMSThrottling');
    // 2 batches, then 2 retries of the one failed entry.
    expect(publisher.stats()).toMatchObject({
      publishBatchCalls: 4,
      eventsPublished: 11,
      eventsFailed: 1,
    });
  });

  it('does not retry sender faults', async () => {
    sns.on(PublishBatchCommand).resolves({
      Successful: [],
      Failed: [{ Id: 'e0', Code: 'InvalidParameter', SenderFault: true }],
    });
    const events = [outgoing({ userId: 1 })];
    const publisher = createSnsEventPublisher({ client, topicArn, retry });

    await expect(publisher.publish(events)).rejects.toMatchObject({
      failedEventIds: [events[0]?.event.id],
    });
    expect(sns.commandCalls(PublishBatchCommand)).toHaveLength(1);
  });

  it("on a FIFO topic, holds back a chat's later events once one of its events failed", async () => {
    sns.on(PublishBatchCommand).callsFake(failEntry('e3', 'InvalidParameter', true));
    // Chat 7: 12 events (batch 1 holds 10 of them); chat 8: one event in batch 2.
    const events = [
      ...ids(12).map((userId) => outgoing({ chatId: 7, userId })),
      outgoing({ chatId: 8, userId: 1 }),
    ];
    const publisher = createSnsEventPublisher({ client, topicArn, fifo: true, retry });

    const error = (await publisher.publish(events).catch((e: unknown) => e)) as PublishError;

    // Sending chat 7's events 11 and 12 now would deliver them before event 4 is re-published.
    expect(error).toBeInstanceOf(PublishError);
    expect(error.failedEventIds).toEqual([3, 10, 11].map((i) => events[i]?.event.id));
    const sent = sns
      .commandCalls(PublishBatchCommand)
      .flatMap((c) => c.args[0].input.PublishBatchRequestEntries?.map((e) => e.Id) ?? []);
    expect(sent).toEqual([...ids(10, 0).map((i) => `e${i}`), 'e12']);
  });

  it('retries a throttled call as a whole', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), {
      name: 'ThrottledException',
      $fault: 'client',
    });
    sns
      .on(PublishBatchCommand)
      .rejectsOnce(throttled)
      .resolvesOnce({ Successful: [{ Id: 'e0', MessageId: 'm0' }] });
    const publisher = createSnsEventPublisher({ client, topicArn, retry });

    await publisher.publish([outgoing({ userId: 1 })]);

    expect(publisher.stats()).toMatchObject({ publishBatchCalls: 2, eventsPublished: 1 });
  });

  describe('under a deadline', () => {
    it('starts no retry wait that would pass the deadline, and says the deadline stopped it', async () => {
      const throttled = Object.assign(new Error('Rate exceeded'), {
        name: 'ThrottledException',
        $fault: 'client',
      });
      sns.on(PublishBatchCommand).rejects(throttled);
      // Retry waits of up to 60 s, 20 attempts: without the deadline this takes minutes.
      const publisher = createSnsEventPublisher({
        client,
        topicArn,
        retry: { baseDelayMs: 30_000, maxDelayMs: 60_000, maxAttempts: 20 },
      });
      const events = ids(3).map((userId) => outgoing({ userId }));
      const started = Date.now();

      const error = (await publisher
        .publish(events, { deadlineAt: Date.now() + 200 })
        .catch((e: unknown) => e)) as PublishError;

      expect(error).toBeInstanceOf(PublishError);
      expect(error.deadlineReached).toBe(true);
      expect(error.failedEventIds).toEqual(events.map((e) => e.event.id));
      expect(Date.now() - started).toBeLessThan(5_000);
    });

    it('sends no batch once the deadline has passed', async () => {
      sns.on(PublishBatchCommand).callsFake(failEntry('none', 'none', false));
      const publisher = createSnsEventPublisher({ client, topicArn });
      const events = ids(12).map((userId) => outgoing({ userId }));

      const error = (await publisher
        .publish(events, { deadlineAt: Date.now() - 1 })
        .catch((e: unknown) => e)) as PublishError;

      expect(error.deadlineReached).toBe(true);
      expect(error.failedEventIds).toHaveLength(12);
      expect(sns.commandCalls(PublishBatchCommand)).toHaveLength(0);
    });

    it('is an ordinary failure, not a deadline, when the retries run out first', async () => {
      sns.on(PublishBatchCommand).callsFake(failEntry('e0', 'InternalError', false));
      const publisher = createSnsEventPublisher({
        client,
        topicArn,
        retry: { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 2 },
      });

      const error = (await publisher
        .publish([outgoing({ userId: 1 })], { deadlineAt: Date.now() + 60_000 })
        .catch((e: unknown) => e)) as PublishError;

      expect(error.deadlineReached).toBe(false);
    });
  });
});

/** A PublishBatch answer in which entry `id` fails with `code` and every other entry succeeds. */
function failEntry(id: string, code: string, senderFault: boolean) {
  return (input: { PublishBatchRequestEntries: { Id: string }[] }) => ({
    Successful: input.PublishBatchRequestEntries.filter((e) => e.Id !== id).map((e) => ({
      Id: e.Id,
      MessageId: `m-${e.Id}`,
    })),
    Failed: input.PublishBatchRequestEntries.filter((e) => e.Id === id).map((e) => ({
      Id: e.Id,
      Code: code,
      SenderFault: senderFault,
    })),
  });
}

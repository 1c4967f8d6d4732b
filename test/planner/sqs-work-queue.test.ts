import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqsWorkQueue } from '../../functions/adapters/sqs-work-queue.js';
import { planWorkItems } from '../../functions/core/plan-work-items.js';
import { type EmbeddedSnsSqs, startEmbeddedSnsSqs } from '../../local/runtime/embedded-sns-sqs.js';
import { emulatorClientConfig } from '../support/aws.js';

let server: EmbeddedSnsSqs;
let sqs: SQSClient;

beforeAll(async () => {
  server = await startEmbeddedSnsSqs();
  sqs = new SQSClient(emulatorClientConfig(server.endpoint));
});

afterAll(async () => {
  sqs.destroy();
  await server.stop();
});

/** Receives like a worker does: FIFO keeps one message per group in flight until it is deleted. */
async function receiveAll(queueUrl: string): Promise<{ body: unknown; group?: string }[]> {
  const received: { body: unknown; group?: string }[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ['MessageGroupId'],
        VisibilityTimeout: 60,
      }),
    );
    if (Messages.length === 0) return received;
    for (const m of Messages) {
      received.push({ body: JSON.parse(m.Body ?? 'null'), group: m.Attributes?.MessageGroupId });
      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }),
      );
    }
  }
}

async function fifoQueue(name: string): Promise<string> {
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'false' },
    }),
  );
  if (!QueueUrl) throw new Error('CreateQueue returned no URL');
  return QueueUrl;
}

describe('createSqsWorkQueue', () => {
  it('sends work items to a FIFO queue grouped by portal, in batches of at most 10', async () => {
    const queueUrl = await fifoQueue('work-a.fifo');
    const chats = Array.from({ length: 50 * 12 + 3 }, (_, i) => i + 1);
    const planned = planWorkItems('main', chats, '2026-11-21T10:00:00.000Z');
    await createSqsWorkQueue({ client: sqs, queueUrl }).enqueue(planned);

    const received = await receiveAll(queueUrl);
    expect(received.every((r) => r.group === 'main')).toBe(true);
    expect(received.map((r) => (r.body as { chatIds: number[] }).chatIds.length)).toEqual([
      ...Array(12).fill(50),
      3,
    ]);
  });

  it('enqueues nothing twice when a planner run is retried for the same tick', async () => {
    const queueUrl = await fifoQueue('work-b.fifo');
    const queue = createSqsWorkQueue({ client: sqs, queueUrl });
    const planned = planWorkItems('main', [1, 2, 3], '2026-11-21T10:00:00.000Z');
    await queue.enqueue(planned);
    await queue.enqueue(planned);
    expect(await receiveAll(queueUrl)).toHaveLength(1);
  });
});

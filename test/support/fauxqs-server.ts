import {
  CreateTopicCommand,
  SetSubscriptionAttributesCommand,
  SNSClient,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { startEmbeddedSnsSqs } from '../../local/runtime/embedded-sns-sqs.js';
import { emulatorClientConfig } from './aws.js';

/** A message as a subscriber sees it, whether raw delivery or the SNS envelope was used. */
export interface Delivered {
  /** The published SNS message (here: the CloudEvent JSON). */
  readonly message: string;
  /** Message attributes as strings (`chatId: '7'`). */
  readonly attributes: Readonly<Record<string, string>>;
  /** FIFO queues only. */
  readonly groupId?: string;
}

export interface SubscribedQueue {
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly subscriptionArn: string;
}

export interface FauxqsEndpoint {
  readonly endpoint: string;
  readonly sns: SNSClient;
  readonly sqs: SQSClient;
  /** Creates a topic (`fifo` appends `.fifo`) and returns its ARN. */
  createTopic(name: string, options?: { fifo?: boolean }): Promise<string>;
  /**
   * Creates a queue (FIFO when the topic is) subscribed to the topic, optionally with raw
   * delivery and a FilterPolicy on message attributes.
   */
  subscribeQueue(
    topicArn: string,
    name: string,
    options?: { raw?: boolean; filterPolicy?: Record<string, unknown> },
  ): Promise<SubscribedQueue>;
  /**
   * Receives and deletes messages until `expected` arrived or the queue stayed empty for
   * `idleMs`. FIFO queues hand out one batch per group at a time, hence delete-as-you-go.
   */
  drain(queueUrl: string, options?: { expected?: number; idleMs?: number }): Promise<Delivered[]>;
  stop(): Promise<void>;
}

/** Starts fauxqs 1.9.2 (SNS + SQS, in-process) on a free port of 127.0.0.1. */
export async function startFauxqsServer(): Promise<FauxqsEndpoint> {
  const server = await startEmbeddedSnsSqs();
  const endpoint = server.endpoint;
  const sns = new SNSClient(emulatorClientConfig(endpoint));
  const sqs = new SQSClient(emulatorClientConfig(endpoint));

  return {
    endpoint,
    sns,
    sqs,
    async createTopic(name, options = {}) {
      const out = await sns.send(
        new CreateTopicCommand({
          Name: options.fifo ? `${name}.fifo` : name,
          ...(options.fifo ? { Attributes: { FifoTopic: 'true' } } : {}),
        }),
      );
      if (!out.TopicArn) throw new Error('CreateTopic returned no ARN');
      return out.TopicArn;
    },
    async subscribeQueue(topicArn, name, options = {}) {
      const fifo = topicArn.endsWith('.fifo');
      const { QueueUrl: queueUrl } = await sqs.send(
        new CreateQueueCommand({
          QueueName: fifo ? `${name}.fifo` : name,
          ...(fifo ? { Attributes: { FifoQueue: 'true' } } : {}),
        }),
      );
      if (!queueUrl) throw new Error('CreateQueue returned no URL');
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
      );
      const queueArn = Attributes?.QueueArn;
      if (!queueArn) throw new Error('queue has no ARN');
      const { SubscriptionArn: subscriptionArn } = await sns.send(
        new SubscribeCommand({
          TopicArn: topicArn,
          Protocol: 'sqs',
          Endpoint: queueArn,
          ReturnSubscriptionArn: true,
        }),
      );
      if (!subscriptionArn) throw new Error('Subscribe returned no ARN');
      const set = (AttributeName: string, AttributeValue: string) =>
        sns.send(
          new SetSubscriptionAttributesCommand({
            SubscriptionArn: subscriptionArn,
            AttributeName,
            AttributeValue,
          }),
        );
      if (options.raw) await set('RawMessageDelivery', 'true');
      if (options.filterPolicy) await set('FilterPolicy', JSON.stringify(options.filterPolicy));
      return { queueUrl, queueArn, subscriptionArn };
    },
    async drain(queueUrl, options = {}) {
      const expected = options.expected ?? Number.POSITIVE_INFINITY;
      const idleMs = options.idleMs ?? 300;
      const delivered: Delivered[] = [];
      let idleSince = Date.now();
      while (delivered.length < expected && Date.now() - idleSince < idleMs) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 10,
            MessageAttributeNames: ['All'],
            MessageSystemAttributeNames: ['MessageGroupId'],
            WaitTimeSeconds: 0,
          }),
        );
        if (Messages.length === 0) {
          await new Promise((r) => setTimeout(r, 20));
          continue;
        }
        idleSince = Date.now();
        delivered.push(...Messages.map(toDelivered));
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
          }),
        );
      }
      return delivered;
    },
    async stop() {
      sns.destroy();
      sqs.destroy();
      await server.stop();
    },
  };
}

function toDelivered(m: Message): Delivered {
  const groupId = m.Attributes?.MessageGroupId;
  const body = m.Body ?? '';
  const parsed = tryJson(body);
  // The SNS envelope (RawMessageDelivery off) wraps the message and its attributes.
  if (isEnvelope(parsed)) {
    const attributes: Record<string, string> = {};
    for (const [k, v] of Object.entries(parsed.MessageAttributes ?? {})) attributes[k] = v.Value;
    return { message: parsed.Message, attributes, ...(groupId ? { groupId } : {}) };
  }
  const attributes: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.MessageAttributes ?? {})) {
    if (v.StringValue !== undefined) attributes[k] = v.StringValue;
  }
  return { message: body, attributes, ...(groupId ? { groupId } : {}) };
}

interface Envelope {
  Type: 'Notification';
  Message: string;
  MessageAttributes?: Record<string, { Type: string; Value: string }>;
}

function isEnvelope(value: unknown): value is Envelope {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { Type?: unknown }).Type === 'Notification' &&
    typeof (value as { Message?: unknown }).Message === 'string'
  );
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

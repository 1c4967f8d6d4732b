import { setTimeout as delay } from 'node:timers/promises';
import { styleText } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDynamoDbHintStore } from '../../functions/adapters/dynamodb-hint-store.js';
import { createDynamoDbSnapshotStore } from '../../functions/adapters/dynamodb-snapshot-store.js';
import { snapshotCreateTableInput } from '../../functions/adapters/snapshot-table.js';
import { createSnsEventPublisher } from '../../functions/adapters/sns-event-publisher.js';
import { createSqsWorkQueue } from '../../functions/adapters/sqs-work-queue.js';
import { silentLogger } from '../../functions/app/observability.js';
import { createPlannerApp } from '../../functions/app/planner-app.js';
import { parseWorkItem } from '../../functions/app/work-item-schema.js';
import { createPortalConnector, createWorkerApp } from '../../functions/app/worker-app.js';
import { parseConfig } from '../../functions/config/config-schema.js';
import { type CloudEvent, EventTypes } from '../../functions/core/cloud-event.js';
import type { PortalPlanOutcome } from '../../functions/core/plan-run.js';
import { releaseHeldChange } from '../../functions/core/release-held-change.js';
import { createStaticCredentialStore } from '../adapters/static-credential-store.js';
import { ensureTable, startEmbeddedDynamoDb } from '../runtime/embedded-dynamodb.js';
import { startEmbeddedSnsSqs } from '../runtime/embedded-sns-sqs.js';
import { createHttpsFetch } from '../runtime/https-fetch.js';
import { churn, createRandom, startSimulator } from '../simulator/start-simulator.js';
import type { RunningSimulator } from '../simulator/types.js';

const TABLE = 'membership-sync-demo';
const ENGINEERING = 3;
const BOARD = 4;

/**
 * `npm start`: the whole product on a laptop. A simulated portal, embedded DynamoDB (dynalite)
 * and embedded SNS + SQS (fauxqs); each tick runs the real planner → FIFO work queue → worker →
 * SNS path, while a script changes membership between ticks; a subscriber queue prints every
 * delivered event. Everything binds to 127.0.0.1 and stops on Ctrl-C.
 */
export async function demoCommand(flags: { every: number; ticks?: number }): Promise<number> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const sim = await startSimulator({ seed: 'demo', tls: true });
  const dynamo = await startEmbeddedDynamoDb(undefined);
  const fauxqs = await startEmbeddedSnsSqs();
  const aws = {
    endpoint: fauxqs.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const dynamoClient = new DynamoDBClient({ ...aws, endpoint: dynamo.endpoint });
  const sns = new SNSClient(aws);
  const sqs = new SQSClient(aws);
  try {
    await ensureTable(dynamoClient, snapshotCreateTableInput(TABLE));
    const { TopicArn: topicArn = '' } = await sns.send(
      new CreateTopicCommand({ Name: 'membership-changes' }),
    );
    const { QueueUrl: workQueueUrl = '' } = await sqs.send(
      new CreateQueueCommand({
        QueueName: 'work-items.fifo',
        Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'false' },
      }),
    );
    const { QueueUrl: subscriberQueueUrl = '' } = await sqs.send(
      new CreateQueueCommand({ QueueName: 'demo-subscriber' }),
    );
    const { Attributes: subscriberAttributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: subscriberQueueUrl, AttributeNames: ['QueueArn'] }),
    );
    await sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'sqs',
        Endpoint: subscriberAttributes.QueueArn,
        Attributes: { RawMessageDelivery: 'true' },
      }),
    );

    const config = parseConfig({
      portals: [
        {
          id: 'demo',
          url: sim.baseUrl,
          secret: { name: 'demo' },
          chats: { discover: true, exclude: [] },
        },
      ],
    });
    const connector = createPortalConnector({
      credentialsFor: () =>
        createStaticCredentialStore({ kind: 'webhook', webhookUrl: sim.webhookUrl }),
      fetch: createHttpsFetch(sim.caCert ?? ''),
    });
    const documentClient = DynamoDBDocumentClient.from(dynamoClient, {
      marshallOptions: { removeUndefinedValues: true },
    });
    const store = createDynamoDbSnapshotStore({ client: documentClient, tableName: TABLE });
    const hintStore = createDynamoDbHintStore({ client: documentClient, tableName: TABLE });
    const plan = createPlannerApp({
      config,
      connector,
      queue: createSqsWorkQueue({ client: sqs, queueUrl: workQueueUrl }),
      storedChats: store,
      hintStore,
      tickMs: flags.every * 1000,
    });
    const sync = createWorkerApp({
      config,
      connector,
      store,
      hintStore,
      publisher: createSnsEventPublisher({ client: sns, topicArn }),
      logger: silentLogger,
    });

    const titles = new Map(sim.admin.chats().map((c) => [c.id, c.title]));
    const print = createEventPrinter(sim, titles);
    say(`Bitrix24 portal simulator at ${sim.baseUrl}; embedded DynamoDB and SNS/SQS on 127.0.0.1.`);
    say(
      `A schedule tick every ${flags.every} s runs planner → SQS FIFO → worker → SNS; Ctrl-C stops.\n`,
    );

    const random = createRandom(2026);
    for (
      let tick = 1;
      !stop.signal.aborted && (flags.ticks === undefined || tick <= flags.ticks);
      tick++
    ) {
      const report = await plan(new Date().toISOString());
      for (const p of report.portals.filter((x) => x.error))
        say(`planner: ${p.portalId}: ${p.error}`);
      let requests = report.portals.reduce((n, p) => n + (p.bitrix24Requests ?? 0), 0);
      // The worker: the FIFO queue hands out one portal's work items in order.
      for (;;) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: workQueueUrl, MaxNumberOfMessages: 10 }),
        );
        if (Messages.length === 0) break;
        for (const message of Messages) {
          const result = await sync(parseWorkItem(message.Body ?? ''));
          requests += result.bitrix24Requests;
          for (const chat of result.chats.filter((c) => c.error)) {
            say(dim(`  chat ${chat.chatId}: ${chat.outcome} (${chat.error?.code})`));
          }
          if (!result.retryable) {
            await sqs.send(
              new DeleteMessageCommand({
                QueueUrl: workQueueUrl,
                ReceiptHandle: message.ReceiptHandle,
              }),
            );
          }
        }
      }
      for (const p of report.portals.filter((x) => !x.error)) say(dim(tickLine(tick, p, requests)));
      // What a subscriber of the topic receives.
      for (;;) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: subscriberQueueUrl, MaxNumberOfMessages: 10 }),
        );
        if (Messages.length === 0) break;
        for (const message of Messages) {
          print(JSON.parse(message.Body ?? '{}') as CloudEvent);
          await sqs.send(
            new DeleteMessageCommand({
              QueueUrl: subscriberQueueUrl,
              ReceiptHandle: message.ReceiptHandle,
            }),
          );
        }
      }
      // System messages carry whole seconds and only those after the previous read's second
      // count (docs/events.md, data.attribution): a change in that same second gets null.
      await delay(1_100);
      await changeMembership(sim, tick, random, store);
      await delay(flags.every * 1000, undefined, { signal: stop.signal }).catch(() => undefined);
    }
    say('\nstopped.');
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    sns.destroy();
    sqs.destroy();
    dynamoClient.destroy();
    await fauxqs.stop();
    await dynamo.stop();
    await sim.close();
  }
}

/** The scripted story between ticks: ordinary churn, flagged users, a mass removal and its release. */
async function changeMembership(
  sim: RunningSimulator,
  tick: number,
  random: () => number,
  store: ReturnType<typeof createDynamoDbSnapshotStore>,
): Promise<void> {
  churn(sim.admin, { share: 0.5, random });
  if (tick === 2) {
    say(dim('(demo: adding the bot and the extranet contractor to "Board")'));
    sim.admin.addMembers(BOARD, [20, 21], { actorId: 1 });
  }
  if (tick === 3) {
    const engineers = (sim.admin.chat(ENGINEERING)?.memberIds ?? []).filter(
      (id) => id !== 1 && id !== 6,
    );
    say(
      dim(
        `(demo: removing ${engineers.length} of the ${engineers.length + 2} members of "Engineering")`,
      ),
    );
    sim.admin.removeMembers(ENGINEERING, engineers);
  }
  if (tick === 4) {
    const snapshot = (await store.loadMany('demo', [ENGINEERING])).get(ENGINEERING);
    if (snapshot?.held) {
      say(
        dim(
          '(demo: an operator checked the held change and released it: membership-sync release --chat 3)',
        ),
      );
      await store.save(releaseHeldChange(snapshot), { version: snapshot.version });
    }
  }
}

/**
 * `tick 3: read 2 of 7 chats (2 named by the recent list), 2 Bitrix24 requests`: a hinted tick
 * re-reads only the chats the hints name (plus due reconciles and unfinished business).
 */
function tickLine(tick: number, portal: PortalPlanOutcome, requests: number): string {
  const reasons = Object.entries(portal.hinted?.byReason ?? {})
    .map(([reason, n]) => `${n} ${REASON_WORDS[reason] ?? reason}`)
    .join(', ');
  const full = portal.hinted?.fullCause ? `, a full read (${portal.hinted.fullCause})` : '';
  return `tick ${tick}: read ${portal.reads} of ${portal.chats} chats${full}${reasons && !full ? ` (${reasons})` : ''}, ${requests} Bitrix24 request${requests === 1 ? '' : 's'}`;
}

const REASON_WORDS: Readonly<Record<string, string>> = {
  hint: 'named by the recent list',
  new: 'new',
  retry: 'unfinished',
  reconcile: 'due for reconcile',
  full: 'full',
};

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

const color = process.stdout.isTTY;
const dim = (text: string) => (color ? styleText('dim', text) : text);
const paint = (style: Parameters<typeof styleText>[0], text: string) =>
  color ? styleText(style, text) : text;

function createEventPrinter(sim: RunningSimulator, titles: Map<number, string>) {
  return (event: CloudEvent) => {
    const data = event.data as Record<string, unknown>;
    const chatId = Number(data.chatId);
    const chat =
      `chat ${chatId} "${titles.get(chatId) ?? sim.admin.chat(chatId)?.title ?? '?'}"`.padEnd(30);
    const time = event.time.slice(11, 19);
    const user = () => {
      const details = data.user as Record<string, unknown> | null;
      const flags = [
        details?.bot ? 'bot' : undefined,
        details?.extranet ? 'extranet' : undefined,
        details?.active === false ? 'deactivated' : undefined,
      ].filter(Boolean);
      return `user ${data.userId} ${details?.name ?? ''}${flags.length ? ` [${flags.join(', ')}]` : ''}`;
    };
    // Who and when, from the chat's own system message (docs/events.md, data.attribution).
    const who = () => {
      const a = data.attribution as
        | { actorId: number | null; at: string; how: string }
        | null
        | undefined;
      if (!a) return dim(' (no system message: who and when unknown)');
      const by = a.actorId === null ? '' : ` by user ${a.actorId}`;
      const how = a.how.replaceAll('_', ' ');
      return dim(
        ` — ${a.how === 'left' ? 'left by themself' : `${how}${by}`} at ${a.at.slice(11, 19)}`,
      );
    };
    switch (event.type) {
      case EventTypes.baseline:
        say(`${time}  ${paint('cyan', 'baseline    ')} ${chat} ${data.memberCount} members`);
        break;
      case EventTypes.joined:
        say(`${time}  ${paint('green', '+ joined    ')} ${chat} ${user()}${who()}`);
        break;
      case EventTypes.left:
        say(
          `${time}  ${paint('red', '- left      ')} ${chat} ${user()} (${data.reason}${data.heldSince ? ', released' : ''})${who()}`,
        );
        break;
      case EventTypes.accessLost:
        say(`${time}  ${paint('yellow', 'access lost ')} ${chat} ${data.code}`);
        break;
      case EventTypes.retired:
        say(
          `${time}  ${paint('yellow', 'retired     ')} ${chat} no longer configured or discovered`,
        );
        break;
      case EventTypes.massChangeHeld:
        say(
          `${time}  ${paint('magenta', 'HELD        ')} ${chat} ${data.leftCount} of ${data.previousCount} members would leave; snapshot kept until released`,
        );
        break;
      default:
        say(`${time}  ${event.type} ${chat}`);
    }
  };
}

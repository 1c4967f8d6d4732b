import { Console } from 'node:console';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, inject } from 'vitest';
import { createDynamoDbSnapshotStore } from '../../../functions/adapters/dynamodb-snapshot-store.js';
import {
  createLambdaPlanner,
  type LambdaPlannerOverrides,
  type ScheduledInvocation,
} from '../../../functions/app/lambda-planner.js';
import {
  createLambdaWorker,
  type LambdaWorkerOverrides,
} from '../../../functions/app/lambda-worker.js';
import { SERVICE_NAME } from '../../../functions/app/metric-names.js';
import { createMetrics, type HandlerLogger } from '../../../functions/app/observability.js';
import type { PlannerReport } from '../../../functions/app/planner-app.js';
import type { ConfigInput } from '../../../functions/config/config-schema.js';
import type { CloudEvent } from '../../../functions/core/cloud-event.js';
import type { ChatId, Snapshot, WorkItem } from '../../../functions/core/model.js';
import { createHttpsFetch } from '../../../local/runtime/https-fetch.js';
import { startSimulator } from '../../../local/simulator/start-simulator.js';
import type { RunningSimulator, SimulatorOptions } from '../../../local/simulator/types.js';
import { connectDynamo, type DynamoEndpoint } from '../../support/dynalite-server.js';
import { validateEvent } from '../../support/event-schemas.js';
import {
  type FakeSecretsManager,
  startFakeSecretsManager,
} from '../../support/fake-secrets-manager.js';
import { type FauxqsEndpoint, startFauxqsServer } from '../../support/fauxqs-server.js';
import { type AwsEdge, createAwsEdge } from './aws-edge.js';

/** Fast Bitrix24 retries: a fault that outlasts them fails the read in milliseconds. */
export const FAST_BITRIX24 = {
  timeoutMs: 2_000,
  retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 10 },
} as const;

/** Every log line and error of a component, as text, for secret scans. */
export interface CapturedLogger extends HandlerLogger {
  readonly lines: string[];
}

/** Appended keys are written into each line as Powertools would; the Lambda context is not. */
export function captureLogger(): CapturedLogger {
  const lines: string[] = [];
  let keys: Record<string, unknown> = {};
  const at = (level: string) => (message: string, extra?: Record<string, unknown>) => {
    const fields = { ...keys, ...extra };
    lines.push(
      `${level} ${message} ${Object.keys(fields).length === 0 ? '' : JSON.stringify(fields)}`,
    );
  };
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    addContext() {},
    appendKeys(more) {
      keys = { ...keys, ...more };
    },
    resetKeys() {
      keys = {};
    },
  };
}

/** The context the Lambda runtime hands the worker, with `remainingMs` of the invocation left. */
export function lambdaContext(remainingMs: number, awsRequestId: string = randomUUID()): Context {
  const functionName = 'MembershipSync-Worker';
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2026/11/21/[$LATEST]0123456789abcdef0123456789abcdef',
    getRemainingTimeInMillis: () => remainingMs,
    done() {},
    fail() {},
    succeed() {},
  };
}

/**
 * The worker's real Powertools metrics, with the EMF lines it would print to stdout captured
 * instead (for the secret scans, and to keep test output readable).
 */
export function captureMetrics(): { metrics: Metrics; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const metrics = createMetrics(SERVICE_NAME);
  Object.assign(metrics, { console: new Console({ stdout: sink, stderr: sink }) });
  return { metrics, lines };
}

export type SecretSpec =
  | { readonly kind: 'webhook'; readonly webhookUrl?: string }
  | { readonly kind: 'oauth'; readonly userId?: number }
  /** Stored as is (invalid shapes, the placeholder). */
  | { readonly kind: 'raw'; readonly value: string | object }
  /** The config names a secret that does not exist (yet). */
  | { readonly kind: 'missing' };

export interface PortalSpec {
  readonly id: string;
  /** Default: the world's simulator. */
  readonly sim?: RunningSimulator;
  readonly chats: ConfigInput['portals'][number]['chats'];
  readonly secret?: SecretSpec;
  readonly breaker?: { maxRemovedShare?: number; minRemoved?: number };
  /** Default: hinted reads (the config's default). */
  readonly reads?: ConfigInput['portals'][number]['reads'];
}

export interface DeployOptions {
  readonly portals: readonly PortalSpec[];
  /** Extra subscriptions on the topic, by name, with an SNS filter policy. */
  readonly filtered?: Readonly<Record<string, Record<string, unknown>>>;
}

/** A published CloudEvent as a subscriber received it, already validated against its schema. */
export interface ReceivedEvent {
  readonly event: CloudEvent<Record<string, unknown>>;
  readonly attributes: Readonly<Record<string, string>>;
  readonly raw: string;
}

export interface Deployment {
  readonly env: Record<string, string>;
  readonly tableName: string;
  readonly topicArn: string;
  readonly workQueueUrl: string;
  readonly workQueueArn: string;
  /** Values stored in Secrets Manager for the portals (for leak scans). */
  readonly secretValues: string[];
  /** Each portal's secret ID in the config: its ARN, or the name of a missing secret. */
  readonly secretArns: Record<string, string>;
  /** A worker Lambda container (cold start). */
  worker(overrides?: LambdaWorkerOverrides): ReturnType<typeof createLambdaWorker>;
  planner(
    overrides?: LambdaPlannerOverrides,
  ): (event: ScheduledInvocation | undefined) => Promise<PlannerReport>;
  /**
   * Drains the subscriber queue (everything published since the last call), validating every
   * event against its JSON Schema.
   */
  events(options?: { idleMs?: number; expected?: number }): Promise<ReceivedEvent[]>;
  /** Drains a filtered subscription created with `filtered`. */
  filteredEvents(name: string): Promise<ReceivedEvent[]>;
  /** Receives and deletes everything in the FIFO work queue, as consecutive worker polls would. */
  workMessages(): Promise<Message[]>;
  /** The stored snapshot, read back from DynamoDB Local through the real adapter. */
  snapshot(portalId: string, chatId: ChatId): Promise<Snapshot | undefined>;
}

export interface World {
  readonly sim: RunningSimulator;
  readonly aws: FauxqsEndpoint;
  readonly secrets: FakeSecretsManager;
  readonly dynamo: DynamoEndpoint;
  readonly edge: AwsEdge;
  /** Trusts the world's simulator and every simulator started with `startExtraSimulator`. */
  fetch(): typeof globalThis.fetch;
  startExtraSimulator(options?: SimulatorOptions): Promise<RunningSimulator>;
  deploy(options: DeployOptions): Promise<Deployment>;
  close(): Promise<void>;
}

/**
 * One simulated portal (HTTPS, its own CA) and the emulators: DynamoDB Local (the global setup's),
 * fauxqs (SNS + SQS) and the fake Secrets Manager. `deploy` makes a fresh "stack" on them: table,
 * topic with a subscribed queue, FIFO work queue, secrets and the bundled config file.
 */
/**
 * The test file's world: started before its tests, closed after them. Call it at the top of a
 * file; the function it returns gives the running world inside hooks and tests.
 */
export function useWorld(options?: SimulatorOptions): () => World {
  let world: World | undefined;
  beforeAll(async () => {
    world = await startWorld(options);
  });
  afterAll(async () => {
    await world?.close();
  });
  return () => {
    if (!world) throw new Error('the world starts in beforeAll');
    return world;
  };
}

export async function startWorld(options: SimulatorOptions = {}): Promise<World> {
  const sims: RunningSimulator[] = [];
  const sim = await startSimulator({ seed: 'demo', rateLimit: false, ...options });
  sims.push(sim);
  const [aws, secrets] = await Promise.all([startFauxqsServer(), startFakeSecretsManager()]);
  const dynamo = connectDynamo(inject('dynamoDbLocalEndpoint'));
  const edge = createAwsEdge({
    fauxqs: aws.endpoint,
    dynamodb: dynamo.endpoint,
    secretsManager: secrets.endpoint,
  });
  const dir = mkdtempSync(join(tmpdir(), 'e2e-'));
  let deployments = 0;

  // One CA per simulator (each makes its own self-signed certificate for 127.0.0.1): route by origin.
  const fetch = (): typeof globalThis.fetch => {
    const byOrigin = new Map(
      sims.map((s) => [s.baseUrl, s.caCert ? createHttpsFetch(s.caCert) : globalThis.fetch]),
    );
    return (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      const chosen = byOrigin.get(new URL(url).origin) ?? globalThis.fetch;
      return chosen(input, init);
    };
  };

  async function createWorkQueue(name: string): Promise<{ url: string; arn: string }> {
    const { QueueUrl } = await aws.sqs.send(
      new CreateQueueCommand({
        QueueName: `${name}.fifo`,
        Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'false' },
      }),
    );
    if (!QueueUrl) throw new Error('no queue URL');
    const { Attributes } = await aws.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    return { url: QueueUrl, arn: Attributes?.QueueArn ?? '' };
  }

  async function deploy(deployOptions: DeployOptions): Promise<Deployment> {
    const n = deployments++;
    const name = `e2e-${process.pid}-${n}`;
    const [tableName, topicArn, workQueue] = await Promise.all([
      dynamo.createSnapshotTable('e2e'),
      aws.createTopic(`${name}-events`),
      createWorkQueue(`${name}-work`),
    ]);
    const subscriber = await aws.subscribeQueue(topicArn, `${name}-subscriber`);
    const filtered = new Map<string, string>();
    for (const [filterName, policy] of Object.entries(deployOptions.filtered ?? {})) {
      const sub = await aws.subscribeQueue(topicArn, `${name}-${filterName}`, {
        filterPolicy: policy,
      });
      filtered.set(filterName, sub.queueUrl);
    }

    const secretValues: string[] = [];
    const secretArns: Record<string, string> = {};
    const portals: ConfigInput['portals'] = [];
    for (const portal of deployOptions.portals) {
      const portalSim = portal.sim ?? sim;
      const spec = portal.secret ?? { kind: 'webhook' };
      // A missing secret is named, not an ARN: only a secret named by name may not exist yet
      // (an explicit ARN that names no secret is a configuration error).
      let secretRef: { arn: string } | { name: string } = { name: `${name}-${portal.id}` };
      if (spec.kind !== 'missing') {
        const value = secretValue(portalSim, spec);
        secretValues.push(...secretStrings(value));
        secretRef = { arn: secrets.createSecret(`${name}-${portal.id}`, value) };
      }
      secretArns[portal.id] = 'arn' in secretRef ? secretRef.arn : secretRef.name;
      portals.push({
        id: portal.id,
        url: portalSim.baseUrl,
        secret: secretRef,
        chats: portal.chats,
        // The simulator's bucket is off; the client's must not slow the tests either.
        rateLimit: { burst: 100_000, drainPerSecond: 100_000 },
        ...(portal.breaker ? { breaker: portal.breaker } : {}),
        ...(portal.reads ? { reads: portal.reads } : {}),
      });
    }
    const configPath = join(dir, `${name}.json`);
    writeFileSync(configPath, JSON.stringify({ portals } satisfies ConfigInput));
    const env: Record<string, string> = {
      CONFIG_PATH: configPath,
      TABLE_NAME: tableName,
      TOPIC_ARN: topicArn,
      WORK_QUEUE_URL: workQueue.url,
    };

    const read = async (queueUrl: string, idleMs: number, expected?: number) => {
      const delivered = await aws.drain(queueUrl, {
        idleMs,
        ...(expected === undefined ? {} : { expected }),
      });
      return delivered.map((d): ReceivedEvent => {
        const event = JSON.parse(d.message) as ReceivedEvent['event'];
        validateEvent(event);
        return { event, attributes: d.attributes, raw: d.message };
      });
    };

    return {
      env,
      tableName,
      topicArn,
      workQueueUrl: workQueue.url,
      workQueueArn: workQueue.arn,
      secretValues,
      secretArns,
      async workMessages() {
        const received: Message[] = [];
        for (let idle = 0; idle < 3; ) {
          const { Messages = [] } = await aws.sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: workQueue.url,
              MaxNumberOfMessages: 10,
              MessageSystemAttributeNames: ['All'],
              WaitTimeSeconds: 0,
            }),
          );
          if (Messages.length === 0) {
            idle += 1;
            await new Promise((r) => setTimeout(r, 20));
            continue;
          }
          received.push(...Messages);
          await aws.sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: workQueue.url,
              Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
            }),
          );
        }
        return received;
      },
      worker: (overrides = {}) =>
        createLambdaWorker(env, {
          awsClientConfig: edge.clientConfig,
          fetch: fetch(),
          bitrix24: FAST_BITRIX24,
          logger: captureLogger(),
          metrics: captureMetrics().metrics,
          ...overrides,
        }),
      planner: (overrides = {}) =>
        createLambdaPlanner(env, {
          awsClientConfig: edge.clientConfig,
          fetch: fetch(),
          bitrix24: FAST_BITRIX24,
          logger: captureLogger(),
          metrics: captureMetrics().metrics,
          ...overrides,
        }),
      events: ({ idleMs = 600, expected } = {}) => read(subscriber.queueUrl, idleMs, expected),
      filteredEvents: (filterName) => {
        const url = filtered.get(filterName);
        if (!url) throw new Error(`no filtered subscription ${filterName}`);
        return read(url, 600);
      },
      async snapshot(portalId, chatId) {
        const store = createDynamoDbSnapshotStore({ client: dynamo.documentClient, tableName });
        return (await store.loadMany(portalId, [chatId])).get(chatId);
      },
    };
  }

  return {
    sim,
    aws,
    secrets,
    dynamo,
    edge,
    fetch,
    async startExtraSimulator(extra = {}) {
      const started = await startSimulator({ seed: 'demo', rateLimit: false, ...extra });
      sims.push(started);
      return started;
    },
    deploy,
    async close() {
      await Promise.all(sims.map((s) => s.close()));
      await Promise.all([aws.stop(), secrets.stop(), dynamo.stop()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function secretValue(sim: RunningSimulator, spec: SecretSpec): string | object {
  switch (spec.kind) {
    case 'webhook':
      return { type: 'webhook', webhookUrl: spec.webhookUrl ?? sim.webhookUrl };
    case 'oauth': {
      const tokens = sim.oauth.issueTokens(spec.userId ?? 1);
      return {
        type: 'oauth',
        clientId: sim.oauth.clientId,
        clientSecret: sim.oauth.clientSecret,
        accessToken: tokens.accessToken,
        refreshToken: tokens.refreshToken,
        clientEndpoint: `${sim.baseUrl}/rest/`,
        tokenEndpoint: sim.oauth.tokenEndpoint,
      };
    }
    case 'raw':
      return spec.value;
    default:
      throw new Error(`no value for secret kind ${spec.kind}`);
  }
}

/** The secret parts of a stored credential: webhook codes, tokens, client secrets. */
export function secretStrings(value: string | object): string[] {
  const json = typeof value === 'string' ? tryJson(value) : value;
  if (typeof json !== 'object' || json === null) return [];
  const record = json as Record<string, unknown>;
  const found: string[] = [];
  if (typeof record.webhookUrl === 'string') {
    const code = /\/rest\/\d+\/([^/?#]+)/.exec(record.webhookUrl)?.[1];
    if (code) found.push(code);
  }
  for (const key of ['clientSecret', 'accessToken', 'refreshToken'] as const) {
    const v = record[key];
    if (typeof v === 'string' && v.length > 0) found.push(v);
  }
  return found;
}

/** The webhook code of an incoming-webhook URL. */
export function webhookCode(webhookUrl: string): string {
  const code = /\/rest\/\d+\/([^/?#]+)/.exec(webhookUrl)?.[1];
  if (!code) throw new Error('not a webhook URL');
  return code;
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

let messageCounter = 0;

/** What the SQS event source mapping hands the worker for a FIFO message. */
export function sqsRecord(
  item: WorkItem | string,
  options: { queueArn: string; groupId?: string; messageId?: string; receiveCount?: number },
): SQSRecord {
  const body = typeof item === 'string' ? item : JSON.stringify(item);
  const groupId = options.groupId ?? (typeof item === 'string' ? 'unknown' : item.portalId);
  const now = Date.now();
  messageCounter += 1;
  return {
    messageId: options.messageId ?? randomUUID(),
    receiptHandle: `AQEB${createHash('sha256').update(`${now}-${messageCounter}`).digest('base64')}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: String(now - 1_000),
      SenderId: 'AROAEXAMPLE:membership-sync-planner',
      ApproximateFirstReceiveTimestamp: String(now),
      SequenceNumber: String(18_800_000_000_000_000_000 + messageCounter),
      MessageGroupId: groupId,
      MessageDeduplicationId: createHash('sha256').update(body).digest('hex'),
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: options.queueArn,
    awsRegion: 'us-east-1',
  };
}

/** Turns messages received from the FIFO work queue into the Lambda event, as the mapping does. */
export function sqsEventFromMessages(messages: readonly Message[], queueArn: string): SQSEvent {
  return {
    Records: messages.map((m) => ({
      ...sqsRecord(m.Body ?? '', {
        queueArn,
        groupId: m.Attributes?.MessageGroupId ?? '',
        messageId: m.MessageId ?? randomUUID(),
      }),
      receiptHandle: m.ReceiptHandle ?? '',
    })),
  };
}

export function sqsEvent(records: readonly SQSRecord[]): SQSEvent {
  return { Records: [...records] };
}

/** `item` for `portalId` planned at a fixed tick. */
export function workItem(portalId: string, chatIds: readonly ChatId[], tick = 1): WorkItem {
  return {
    portalId,
    chatIds,
    scheduledAt: new Date(Date.UTC(2026, 10, 21, 10, 0) + tick * 900_000).toISOString(),
  };
}

/** Member events of a chat as `joined:<user>`/`left:<user>` strings, sorted. */
export function memberChanges(events: readonly ReceivedEvent[], chatId: ChatId): string[] {
  return events
    .filter((e) => e.event.data.chatId === chatId)
    .flatMap((e) => {
      if (e.event.type.endsWith('.member.joined.v1')) return [`joined:${e.event.data.userId}`];
      if (e.event.type.endsWith('.member.left.v1')) return [`left:${e.event.data.userId}`];
      return [];
    })
    .sort();
}

export function typesOf(events: readonly ReceivedEvent[], chatId?: ChatId): string[] {
  return events
    .filter((e) => chatId === undefined || e.event.data.chatId === chatId)
    .map((e) => e.event.type.replace('com.bitrix24.membership-sync.', ''));
}

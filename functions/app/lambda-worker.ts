import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createDynamoDbBucketStore } from '../adapters/dynamodb-bucket-store.js';
import { createDynamoDbHintStore } from '../adapters/dynamodb-hint-store.js';
import { createDynamoDbSnapshotStore } from '../adapters/dynamodb-snapshot-store.js';
import { createSnsEventPublisher } from '../adapters/sns-event-publisher.js';
import { CredentialsAwaitingError } from '../bitrix24/credentials.js';
import type { WorkItem } from '../core/model.js';
import { readOutcomesOf } from '../core/read-outcomes.js';
import type { SyncReport } from '../core/sync-report.js';
import { workerEnvironmentSchema } from '../handlers/environment.js';
import { backoffCeiling } from '../timing/backoff.js';
import { loadConfigFile } from './load-config-file.js';
import { AWAITING_CREDENTIALS_METRIC, SERVICE_NAME, WORKER_METRICS } from './metric-names.js';
import {
  type AppLogger,
  addPortalDimensions,
  createLogger,
  createMetrics,
} from './observability.js';
import { createSecretsPortalConnector } from './secrets-portal-connector.js';
import { parseWorkItem } from './work-item-schema.js';
import { createWorkerApp, type PortalClientSettings } from './worker-app.js';

export interface LambdaWorkerOverrides {
  /** AWS client config (tests point the clients at emulators). */
  readonly awsClientConfig?: Record<string, unknown>;
  readonly fetch?: typeof globalThis.fetch;
  /** Bitrix24 request timeout and retries (tests shorten them; defaults: 60 s, 5 attempts). */
  readonly bitrix24?: PortalClientSettings;
  readonly logger?: AppLogger;
  readonly metrics?: Metrics;
  /** Seconds before a failed item is received again, by receive count (tests shorten it). */
  readonly retryBackoff?: (receiveCount: number) => number;
}

/**
 * A 429 `OPERATION_TIME_LIMIT` reset can be up to 10 minutes away; the worker runs for at most
 * 5. Waiting past 2 minutes would only end in a timeout, so the chats fail and the item comes
 * back after its retry backoff instead.
 */
const WORKER_CLIENT_SETTINGS: PortalClientSettings = { retry: { maxOperationWaitMs: 120_000 } };

/**
 * Time kept back from the invocation's remaining time: every Bitrix24 wait and request ends
 * this long before Lambda would stop the function, leaving it for saving and replying to SQS.
 */
export const DEADLINE_MARGIN_MS = 20_000;

/** The part of the Lambda context the worker reads. Tests may leave it out: no deadline then. */
export type WorkerContext = Pick<Context, 'getRemainingTimeInMillis'>;

/**
 * The worker's cold start: environment and config validated, clients and adapters made once.
 * Returns the SQS batch handler with partial batch responses.
 */
export function createLambdaWorker(
  env: NodeJS.ProcessEnv,
  overrides: LambdaWorkerOverrides = {},
): (event: SQSEvent, context?: WorkerContext) => Promise<SQSBatchResponse> {
  const environment = workerEnvironmentSchema.parse(env);
  const config = loadConfigFile(environment.CONFIG_PATH);
  const logger = overrides.logger ?? createLogger(SERVICE_NAME);
  const metrics = overrides.metrics ?? createMetrics(SERVICE_NAME);
  const aws = overrides.awsClientConfig ?? {};
  const sqs = new SQSClient(aws);
  const backoff = overrides.retryBackoff ?? retryBackoffSeconds;
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(aws), {
    marshallOptions: { removeUndefinedValues: true },
  });
  // One container serves many invocations, each with its own deadline; the clients ask for it.
  let deadline: number | undefined;
  const deadlineAt = () => deadline;
  const connector = createSecretsPortalConnector({
    config,
    client: new SecretsManagerClient(aws),
    leaseTable: { client: dynamo, tableName: environment.TABLE_NAME },
    logger,
    ...(overrides.fetch ? { fetch: overrides.fetch } : {}),
    bitrix24: overrides.bitrix24 ?? WORKER_CLIENT_SETTINGS,
    deadlineAt,
  });
  const run = createWorkerApp({
    config,
    connector,
    deadlineAt,
    store: createDynamoDbSnapshotStore({ client: dynamo, tableName: environment.TABLE_NAME }),
    hintStore: createDynamoDbHintStore({ client: dynamo, tableName: environment.TABLE_NAME }),
    bucketStore: createDynamoDbBucketStore({ client: dynamo, tableName: environment.TABLE_NAME }),
    publisher: createSnsEventPublisher({
      client: new SNSClient(aws),
      topicArn: environment.TOPIC_ARN,
      fifo: config.topic.kind === 'fifo',
    }),
    logger,
  });

  const returnToQueue = async (record: SQSRecord, visibilityTimeout: number) => {
    try {
      await sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: environment.WORK_QUEUE_URL,
          ReceiptHandle: record.receiptHandle,
          VisibilityTimeout: visibilityTimeout,
        }),
      );
    } catch (error) {
      // The queue's visibility timeout still applies: slower, never lossy.
      logger.warn('could not shorten the visibility timeout of a failed work item', {
        messageId: record.messageId,
        error: error instanceof Error ? error.name : String(error),
      });
    }
  };

  const continueLater = async (record: SQSRecord) => {
    const group = record.attributes.MessageGroupId;
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: environment.WORK_QUEUE_URL,
        MessageBody: record.body,
        ...(group === undefined
          ? {}
          : { MessageGroupId: group, MessageDeduplicationId: `${record.messageId}.continued` }),
      }),
    );
  };

  return async (event, context) => {
    deadline =
      context === undefined
        ? undefined
        : Date.now() + context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS;
    const failed: SQSRecord[] = [];
    const blocked: SQSRecord[] = [];
    // FIFO: once a message of a group fails, later messages of that group must not be processed
    // ahead of it, or a portal's work items would complete out of order.
    const blockedGroups = new Set<string>();
    for (const record of event.Records) {
      const group = record.attributes.MessageGroupId ?? '';
      // Past the deadline nothing more can be read: later records go back to the queue unread.
      if (blockedGroups.has(group) || (deadline !== undefined && Date.now() >= deadline)) {
        blocked.push(record);
        continue;
      }
      const started = Date.now();
      try {
        const item = parseWorkItem(record.body);
        const limitedBefore = connector.rateLimitedCount(item.portalId);
        const report = await run(item, {
          redelivered: Number(record.attributes.ApproximateReceiveCount) > 1,
        }).catch((error: unknown) => {
          if (!(error instanceof CredentialsAwaitingError)) throw error;
          // Done, not failed: the next tick plans the portal again and finds out.
          recordAwaiting(metrics, logger, item.portalId, item.chatIds.length, error);
          return undefined;
        });
        if (!report) continue;
        const rateLimited = connector.rateLimitedCount(item.portalId) - limitedBefore;
        recordMetrics(metrics, item, report, Date.now() - started, rateLimited);
        logReport(logger, report, rateLimited);
        if (madeProgressBeforeDeadline(report)) {
          // Progress is recorded: a fresh message goes on from it, so a change too big for one
          // invocation never spends the item's receives (and never reaches the DLQ for it).
          await continueLater(record);
        } else if (report.retryable) {
          throw new Error('work item had retryable chat failures');
        }
      } catch (error) {
        logger.error('work item failed; returned to the queue', {
          messageId: record.messageId,
          receiveCount: Number(record.attributes.ApproximateReceiveCount),
          error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        });
        failed.push(record);
        if (group) blockedGroups.add(group);
      }
    }
    // A failed FIFO message stays invisible for the queue's whole visibility timeout (6 × the
    // function timeout) and holds its portal's group all that time. Retry it after a short,
    // growing backoff instead, and release the messages that were only waiting behind it.
    await Promise.all([
      ...failed.map((r) => returnToQueue(r, backoff(Number(r.attributes.ApproximateReceiveCount)))),
      ...blocked.map((r) => returnToQueue(r, 0)),
    ]);
    return {
      batchItemFailures: [...failed, ...blocked].map((r) => ({ itemIdentifier: r.messageId })),
    };
  };
}

/**
 * Whether the item stopped only because the invocation ran out of time, after making progress:
 * every retryable failure is `deadline_exceeded`, and something was published or recorded (a
 * change, a publish cursor, a keyset read's progress).
 */
export function madeProgressBeforeDeadline(report: SyncReport): boolean {
  const retryable = report.chats.filter((c) => c.error?.retryable === true);
  return (
    retryable.length > 0 &&
    retryable.every((c) => c.error?.code === 'deadline_exceeded') &&
    report.chats.some((c) => c.events > 0 || c.saved)
  );
}

/**
 * 30 s, 60 s, 120 s, … per receive, at most 15 min: five attempts span about 15 minutes. The
 * receive that failed numbers the retry its visibility timeout delays (the first is 1). Not
 * jittered: a portal's items wait in one FIFO group, so there is no crowd of retries to spread.
 */
export function retryBackoffSeconds(receiveCount: number): number {
  const retry = Number.isInteger(receiveCount) && receiveCount > 0 ? receiveCount : 1;
  return backoffCeiling(retry, { base: 30, max: 900 });
}

function recordAwaiting(
  metrics: Metrics,
  logger: AppLogger,
  portalId: string,
  chats: number,
  awaiting: CredentialsAwaitingError,
): void {
  logger.info('portal awaiting credentials; work item skipped', {
    portalId,
    secretId: awaiting.secretId,
    reason: awaiting.reason,
    chats,
  });
  addPortalDimensions(metrics, portalId);
  metrics.addMetric(AWAITING_CREDENTIALS_METRIC, MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
}

function recordMetrics(
  metrics: Metrics,
  item: WorkItem,
  report: SyncReport,
  durationMs: number,
  rateLimited: number,
): void {
  const synced = report.chats.filter((c) => c.outcome !== 'failed' && c.outcome !== 'conflict');
  addPortalDimensions(metrics, report.portalId);
  metrics.addMetric(WORKER_METRICS.chatsSynced, MetricUnit.Count, synced.length);
  metrics.addMetric(WORKER_METRICS.membersRead, MetricUnit.Count, report.totals.membersRead);
  metrics.addMetric(WORKER_METRICS.membersJoined, MetricUnit.Count, report.totals.joins);
  metrics.addMetric(WORKER_METRICS.membersLeft, MetricUnit.Count, report.totals.leaves);
  metrics.addMetric(WORKER_METRICS.changesHeld, MetricUnit.Count, report.totals.held);
  metrics.addMetric(WORKER_METRICS.chatsFailed, MetricUnit.Count, report.totals.failed);
  metrics.addMetric(WORKER_METRICS.bitrix24Requests, MetricUnit.Count, report.bitrix24Requests);
  metrics.addMetric(WORKER_METRICS.rateLimited, MetricUnit.Count, rateLimited);
  metrics.addMetric(WORKER_METRICS.chatSyncDuration, MetricUnit.Milliseconds, durationMs);
  const detected = readOutcomesOf(item, report)?.detected;
  if (detected) {
    // Hinted reads: changes found in named chats plus those the hints missed (docs/bitrix24.md).
    const found = detected.byHint + detected.byReconcile;
    metrics.addMetric(WORKER_METRICS.changesDetected, MetricUnit.Count, found);
    metrics.addMetric(WORKER_METRICS.hintMisses, MetricUnit.Count, detected.byReconcile);
  }
  // One EMF blob per work item: each carries its own portal dimension.
  metrics.publishStoredMetrics();
}

function logReport(logger: AppLogger, report: SyncReport, rateLimited: number): void {
  const problems = report.chats.filter((c) => c.error);
  logger.info('work item synced', {
    portalId: report.portalId,
    scheduledAt: report.scheduledAt,
    totals: report.totals,
    bitrix24Requests: report.bitrix24Requests,
    rateLimited,
    problems: problems.map((c) => ({ chatId: c.chatId, outcome: c.outcome, ...c.error })),
  });
}

import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createDynamoDbBucketStore } from '../adapters/dynamodb-bucket-store.js';
import { createDynamoDbHintStore } from '../adapters/dynamodb-hint-store.js';
import { createDynamoDbSnapshotStore } from '../adapters/dynamodb-snapshot-store.js';
import { createSnsEventPublisher } from '../adapters/sns-event-publisher.js';
import { CredentialsAwaitingError } from '../bitrix24/credentials.js';
import type { WorkItem } from '../core/model.js';
import { readOutcomesOf } from '../core/read-outcomes.js';
import type { SyncReport } from '../core/sync-report.js';
import { backoffCeiling } from '../timing/backoff.js';
import { workerEnvironmentSchema } from './environment.js';
import { loadConfigFile } from './load-config-file.js';
import { SERVICE_NAME, WORKER_METRICS } from './metric-names.js';
import {
  type AppLogger,
  addPortalDimensions,
  countAwaitingCredentials,
  createLogger,
  createMetrics,
  type HandlerLogger,
} from './observability.js';
import { createSecretsPortalConnector } from './secrets-portal-connector.js';
import { createTableClient } from './table-client.js';
import { createTracer, inSubsegment, traceBitrix24Fetch } from './tracing.js';
import { parseWorkItem } from './work-item-schema.js';
import { createWorkerApp, type PortalClientSettings } from './worker-app.js';

export interface LambdaWorkerOverrides {
  /** AWS client config (tests point the clients at emulators). */
  readonly awsClientConfig?: Record<string, unknown> | undefined;
  readonly fetch?: typeof globalThis.fetch | undefined;
  /** Bitrix24 request timeout and retries (tests shorten them; defaults: 60 s, 5 attempts). */
  readonly bitrix24?: PortalClientSettings | undefined;
  readonly logger?: HandlerLogger | undefined;
  readonly metrics?: Metrics | undefined;
  /** Seconds before a failed item is received again, by receive count (tests shorten it). */
  readonly retryBackoff?: ((receiveCount: number) => number) | undefined;
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

/**
 * The worker's cold start: environment and config validated, clients and adapters made once.
 * Returns the SQS batch handler with partial batch responses. Tests may leave the Lambda context
 * out: no deadline then.
 */
export function createLambdaWorker(
  env: NodeJS.ProcessEnv,
  overrides: LambdaWorkerOverrides = {},
): (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse> {
  const environment = workerEnvironmentSchema.parse(env);
  const config = loadConfigFile(environment.CONFIG_PATH);
  const logger = overrides.logger ?? createLogger(SERVICE_NAME);
  const metrics = overrides.metrics ?? createMetrics(SERVICE_NAME);
  const tracer = createTracer(SERVICE_NAME);
  const aws = overrides.awsClientConfig ?? {};
  const sqs = tracer.captureAWSv3Client(new SQSClient(aws));
  const backoff = overrides.retryBackoff ?? retryBackoffSeconds;
  const dynamo = createTableClient(tracer, aws);
  // One container serves many invocations, each with its own deadline; the clients ask for it.
  let deadline: number | undefined;
  const deadlineAt = () => deadline;
  const connector = createSecretsPortalConnector({
    config,
    client: tracer.captureAWSv3Client(new SecretsManagerClient(aws)),
    leaseTable: { client: dynamo, tableName: environment.TABLE_NAME },
    logger,
    fetch: traceBitrix24Fetch(tracer, overrides.fetch ?? globalThis.fetch),
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
      client: tracer.captureAWSv3Client(new SNSClient(aws)),
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

  /** Syncs one work item; throws to have it retried (a growing backoff, below). */
  const syncRecord = async (record: SQSRecord) => {
    const started = Date.now();
    const item = parseWorkItem(record.body);
    logger.appendKeys({ portalId: item.portalId });
    tracer.putAnnotation('portal', item.portalId);
    const limitedBefore = connector.rateLimitedCount(item.portalId);
    const report = await run(item, {
      redelivered: Number(record.attributes.ApproximateReceiveCount) > 1,
    }).catch((error: unknown) => {
      if (!(error instanceof CredentialsAwaitingError)) throw error;
      // Done, not failed: the next tick plans the portal again and finds out.
      recordAwaiting(metrics, logger, item.portalId, item.chatIds.length, error);
      return undefined;
    });
    if (!report) return;
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
  };

  // FIFO: once a message of a group fails, the processor fails the later messages of that group
  // in the batch unread (`skipGroupOnError`), or a portal's work items would complete out of
  // order; other groups go on. The event source hands over one message at a time today
  // (infra/membership-sync-stack.ts), so this matters only if its batch size grows.
  const processor = new SqsFifoPartialProcessorAsync();

  return (event, context) =>
    inSubsegment(tracer, '## worker', async () => {
      tracer.annotateColdStart();
      tracer.addServiceNameAnnotation();
      if (context) logger.addContext(context);
      deadline =
        context === undefined
          ? undefined
          : Date.now() + context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS;
      const tried = new Set<string>();
      const processRecord = async (record: SQSRecord) => {
        // Past the deadline nothing more can be read: the record goes back to the queue unread.
        if (deadline !== undefined && Date.now() >= deadline) {
          throw new Error('not started: the invocation is past its deadline');
        }
        tried.add(record.messageId);
        logger.appendKeys({ messageId: record.messageId });
        try {
          await inSubsegment(tracer, 'work item', () => syncRecord(record));
        } catch (error) {
          logger.error('work item failed; returned to the queue', {
            receiveCount: Number(record.attributes.ApproximateReceiveCount),
            error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
          });
          throw error;
        } finally {
          logger.resetKeys();
        }
      };
      const response = await processPartialResponse(event, processRecord, processor, {
        skipGroupOnError: true,
        // All failed: still a partial response, after the visibility changes below.
        throwOnFullBatchFailure: false,
      });
      // A failed FIFO message stays invisible for the queue's whole visibility timeout (6 × the
      // function timeout) and holds its portal's group all that time. Retry it after a short,
      // growing backoff instead, and release the messages that were only waiting behind it.
      const records = new Map(event.Records.map((r) => [r.messageId, r]));
      await Promise.all(
        response.batchItemFailures.map(({ itemIdentifier }) => {
          const record = records.get(itemIdentifier);
          if (!record) return undefined;
          const receives = Number(record.attributes.ApproximateReceiveCount);
          return returnToQueue(record, tried.has(itemIdentifier) ? backoff(receives) : 0);
        }),
      );
      return response;
    });
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
  countAwaitingCredentials(metrics, portalId);
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

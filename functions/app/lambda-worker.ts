import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createDynamoDbSnapshotStore } from '../adapters/dynamodb-snapshot-store.js';
import { createSecretsManagerCredentialStore } from '../adapters/secrets-manager-credentials.js';
import { createSnsEventPublisher } from '../adapters/sns-event-publisher.js';
import type { SyncReport } from '../core/sync-work-item.js';
import { workerEnvironmentSchema } from '../handlers/environment.js';
import { loadConfigFile } from './load-config-file.js';
import { SERVICE_NAME, WORKER_METRICS } from './metric-names.js';
import { type AppLogger, createLogger, createMetrics } from './observability.js';
import { parseWorkItem } from './work-item-schema.js';
import { createPortalConnector, createWorkerApp, type PortalClientSettings } from './worker-app.js';

export interface LambdaWorkerOverrides {
  /** AWS client config (tests point the clients at emulators). */
  readonly awsClientConfig?: Record<string, unknown>;
  readonly fetch?: typeof globalThis.fetch;
  /** Bitrix24 request timeout and retries (tests shorten them; defaults: 60 s, 5 attempts). */
  readonly bitrix24?: PortalClientSettings;
  readonly logger?: AppLogger;
  readonly metrics?: Metrics;
}

/**
 * The worker's cold start: environment and config validated, clients and adapters made once.
 * Returns the SQS batch handler with partial batch responses.
 */
export function createLambdaWorker(
  env: NodeJS.ProcessEnv,
  overrides: LambdaWorkerOverrides = {},
): (event: SQSEvent) => Promise<SQSBatchResponse> {
  const environment = workerEnvironmentSchema.parse(env);
  const config = loadConfigFile(environment.CONFIG_PATH);
  const logger = overrides.logger ?? createLogger(SERVICE_NAME);
  const metrics = overrides.metrics ?? createMetrics(SERVICE_NAME);
  const aws = overrides.awsClientConfig ?? {};
  const secrets = new SecretsManagerClient(aws);
  const run = createWorkerApp({
    config,
    connector: createPortalConnector({
      credentialsFor: (portalId) => {
        const secretId = environment.SECRET_ARNS[portalId];
        if (!secretId) throw new Error(`SECRET_ARNS has no secret for portal "${portalId}"`);
        return createSecretsManagerCredentialStore({ client: secrets, secretId });
      },
      logger,
      ...(overrides.fetch ? { fetch: overrides.fetch } : {}),
      ...(overrides.bitrix24 ? { client: overrides.bitrix24 } : {}),
    }),
    store: createDynamoDbSnapshotStore({
      client: DynamoDBDocumentClient.from(new DynamoDBClient(aws), {
        marshallOptions: { removeUndefinedValues: true },
      }),
      tableName: environment.TABLE_NAME,
    }),
    publisher: createSnsEventPublisher({
      client: new SNSClient(aws),
      topicArn: environment.TOPIC_ARN,
      fifo: config.topic.kind === 'fifo',
    }),
    logger,
  });

  return async (event) => {
    const batchItemFailures: { itemIdentifier: string }[] = [];
    // FIFO: once a message of a group fails, later messages of that group must not be processed
    // ahead of it, or a portal's work items would complete out of order.
    const blockedGroups = new Set<string>();
    for (const record of event.Records) {
      const group = record.attributes.MessageGroupId ?? '';
      if (blockedGroups.has(group)) {
        batchItemFailures.push({ itemIdentifier: record.messageId });
        continue;
      }
      const started = Date.now();
      try {
        const report = await run(parseWorkItem(record.body));
        recordMetrics(metrics, report, Date.now() - started);
        logReport(logger, report);
        if (report.retryable) throw new Error('work item had retryable chat failures');
      } catch (error) {
        logger.error('work item failed; returned to the queue', {
          messageId: record.messageId,
          error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        });
        batchItemFailures.push({ itemIdentifier: record.messageId });
        if (group) blockedGroups.add(group);
      }
    }
    return { batchItemFailures };
  };
}

function recordMetrics(metrics: Metrics, report: SyncReport, durationMs: number): void {
  const synced = report.chats.filter((c) => c.outcome !== 'failed' && c.outcome !== 'conflict');
  metrics.addDimension('portal', report.portalId);
  metrics.addMetric(WORKER_METRICS.chatsSynced, MetricUnit.Count, synced.length);
  metrics.addMetric(WORKER_METRICS.membersRead, MetricUnit.Count, report.totals.membersRead);
  metrics.addMetric(WORKER_METRICS.membersJoined, MetricUnit.Count, report.totals.joins);
  metrics.addMetric(WORKER_METRICS.membersLeft, MetricUnit.Count, report.totals.leaves);
  metrics.addMetric(WORKER_METRICS.changesHeld, MetricUnit.Count, report.totals.held);
  metrics.addMetric(WORKER_METRICS.chatsFailed, MetricUnit.Count, report.totals.failed);
  metrics.addMetric(WORKER_METRICS.bitrix24Requests, MetricUnit.Count, report.bitrix24Requests);
  metrics.addMetric(WORKER_METRICS.chatSyncDuration, MetricUnit.Milliseconds, durationMs);
  // One EMF blob per work item: each carries its own portal dimension.
  metrics.publishStoredMetrics();
}

function logReport(logger: AppLogger, report: SyncReport): void {
  const problems = report.chats.filter((c) => c.error);
  logger.info('work item synced', {
    portalId: report.portalId,
    scheduledAt: report.scheduledAt,
    totals: report.totals,
    bitrix24Requests: report.bitrix24Requests,
    problems: problems.map((c) => ({ chatId: c.chatId, outcome: c.outcome, ...c.error })),
  });
}

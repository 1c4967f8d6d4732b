import type { Metrics } from '@aws-lambda-powertools/metrics';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { createDynamoDbBucketStore } from '../adapters/dynamodb-bucket-store.js';
import { createDynamoDbHintStore } from '../adapters/dynamodb-hint-store.js';
import { createDynamoDbSnapshotStore } from '../adapters/dynamodb-snapshot-store.js';
import { createSqsWorkQueue } from '../adapters/sqs-work-queue.js';
import { plannerEnvironmentSchema } from './environment.js';
import { loadConfigFile } from './load-config-file.js';
import { SERVICE_NAME } from './metric-names.js';
import {
  countAwaitingCredentials,
  createLogger,
  createMetrics,
  type HandlerLogger,
} from './observability.js';
import { createPlannerApp, type PlannerReport } from './planner-app.js';
import { createSecretsPortalConnector } from './secrets-portal-connector.js';
import { createTableClient } from './table-client.js';
import { createTracer, inSubsegment, traceBitrix24Fetch } from './tracing.js';
import type { PortalClientSettings } from './worker-app.js';

/** What EventBridge Scheduler's Lambda target sends when no custom input is configured. */
export interface ScheduledInvocation {
  /** Scheduler's `<aws.scheduler.scheduled-time>` when the stack passes it as input. */
  readonly scheduledTime?: string;
  readonly time?: string;
}

export interface LambdaPlannerOverrides {
  readonly awsClientConfig?: Record<string, unknown> | undefined;
  readonly fetch?: typeof globalThis.fetch | undefined;
  /** Bitrix24 request timeout and retries (tests shorten them; defaults: 60 s, 5 attempts). */
  readonly bitrix24?: PortalClientSettings | undefined;
  readonly logger?: HandlerLogger | undefined;
  readonly metrics?: Metrics | undefined;
  readonly now?: (() => Date) | undefined;
}

/** The planner runs for at most a minute; a longer 429 wait fails the tick, which Lambda retries. */
const PLANNER_CLIENT_SETTINGS: PortalClientSettings = { retry: { maxOperationWaitMs: 20_000 } };

export class PlanIncompleteError extends Error {
  override readonly name = 'PlanIncompleteError';
}

/**
 * The planner's cold start. Each invocation plans one schedule tick; a portal that could not be
 * planned fails the invocation so Lambda's asynchronous retries re-run the same tick (work items
 * already enqueued carry the same deduplication IDs and are not enqueued twice).
 */
export function createLambdaPlanner(
  env: NodeJS.ProcessEnv,
  overrides: LambdaPlannerOverrides = {},
): (event: ScheduledInvocation | undefined, context?: Context) => Promise<PlannerReport> {
  const environment = plannerEnvironmentSchema.parse(env);
  const config = loadConfigFile(environment.CONFIG_PATH);
  const logger = overrides.logger ?? createLogger(SERVICE_NAME);
  const metrics = overrides.metrics ?? createMetrics(SERVICE_NAME);
  const tracer = createTracer(SERVICE_NAME);
  const aws = overrides.awsClientConfig ?? {};
  const dynamo = createTableClient(tracer, aws);
  const tableName = environment.TABLE_NAME;
  const plan = createPlannerApp({
    config,
    connector: createSecretsPortalConnector({
      config,
      client: tracer.captureAWSv3Client(new SecretsManagerClient(aws)),
      // Discovery calls Bitrix24 before any worker runs, so the planner refreshes (and stores)
      // expired tokens too, under the same lease as the workers.
      leaseTable: { client: dynamo, tableName },
      logger,
      fetch: traceBitrix24Fetch(tracer, overrides.fetch ?? globalThis.fetch),
      bitrix24: overrides.bitrix24 ?? PLANNER_CLIENT_SETTINGS,
    }),
    queue: createSqsWorkQueue({
      client: tracer.captureAWSv3Client(new SQSClient(aws)),
      queueUrl: environment.WORK_QUEUE_URL,
    }),
    // Read only: which stored chats left the configured or discovered set.
    storedChats: createDynamoDbSnapshotStore({ client: dynamo, tableName }),
    // Hinted reads: each portal's hint state and its rate budget shared with the workers.
    hintStore: createDynamoDbHintStore({ client: dynamo, tableName }),
    bucketStore: createDynamoDbBucketStore({ client: dynamo, tableName }),
    logger,
  });
  const now = overrides.now ?? (() => new Date());

  return (event, context) =>
    inSubsegment(tracer, '## planner', async () => {
      tracer.annotateColdStart();
      tracer.addServiceNameAnnotation();
      if (context) logger.addContext(context);
      const scheduledAt = tickOf(event?.scheduledTime ?? event?.time, now());
      const report = await plan(scheduledAt);
      logger.info('schedule tick planned', { ...report });
      for (const awaiting of report.awaitingCredentials) {
        logger.info('portal awaiting credentials; discovery skipped', { ...awaiting });
        countAwaitingCredentials(metrics, awaiting.portalId);
      }
      if (report.failed > 0) {
        throw new PlanIncompleteError(
          `${report.failed} portal(s) not planned: ${report.portals
            .filter((p) => p.error)
            .map((p) => `${p.portalId} (${p.error})`)
            .join('; ')}`,
        );
      }
      return report;
    });
}

/** The tick's time, normalised to ISO; a missing or unparsable one falls back to now. */
function tickOf(value: string | undefined, now: Date): string {
  const parsed = value ? new Date(value) : undefined;
  return parsed && !Number.isNaN(parsed.getTime()) ? parsed.toISOString() : now.toISOString();
}

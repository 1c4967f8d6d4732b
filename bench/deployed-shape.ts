import { SNSClient } from '@aws-sdk/client-sns';
import { createDynamoDbBucketStore } from '../functions/adapters/dynamodb-bucket-store.js';
import { createDynamoDbHintStore } from '../functions/adapters/dynamodb-hint-store.js';
import { createDynamoDbSnapshotStore } from '../functions/adapters/dynamodb-snapshot-store.js';
import { createSnsEventPublisher } from '../functions/adapters/sns-event-publisher.js';
import { createPlannerApp } from '../functions/app/planner-app.js';
import { createPortalConnector, createWorkerApp } from '../functions/app/worker-app.js';
import { parseConfig } from '../functions/config/config-schema.js';
import type { OutgoingEvent } from '../functions/core/cloud-event.js';
import type { ChatId, ReadReason, WorkItem } from '../functions/core/model.js';
import type { FullReadCause } from '../functions/core/select-reads.js';
import { createStaticCredentialStore } from '../local/adapters/static-credential-store.js';
import { createDynamoMeter, type DynamoTallies, weighTallies } from './dynamodb-meter.js';
import { type Emulators, type Endpoints, OPEN_RATE_LIMIT, PORTAL_ID } from './harness.js';

export interface DeployedTick {
  /** Bitrix24 requests the tick needed: the planner's (hints) and the workers'. */
  readonly requests: number;
  readonly byMethod: Readonly<Record<string, number>>;
  readonly workItems: number;
  readonly chatsRead: number;
  readonly byReason: Partial<Record<ReadReason, number>>;
  readonly fullCause: FullReadCause | null;
  /** The snapshot and hint stores' own call counters (the planner's and the workers'). */
  readonly dynamoReads: number;
  readonly dynamoWrites: number;
  /** Every DynamoDB call of the planner and the workers, by the store that made it. */
  readonly dynamo: DynamoTallies;
  readonly wallMs: number;
}

export interface DeployedShapeOptions {
  readonly reads:
    | { readonly mode: 'full' }
    | {
        readonly mode: 'hinted';
        readonly reconcileMinutes: number;
        readonly learnedReconcile?: boolean;
      };
  readonly tickMinutes: number;
  /** Called with each batch of events the workers published. */
  readonly onPublished?: (events: readonly OutgoingEvent[]) => void;
}

export interface DeployedShape {
  /** Advances the portal's clock by `advanceMs`, then plans one tick and runs its work items. */
  tick(advanceMs: number): Promise<DeployedTick>;
  close(): void;
}

const awsConfig = (endpoint: string) => ({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});

/**
 * The Lambdas' composition on the benchmark portal (functions/app/lambda-planner.ts,
 * lambda-worker.ts): the planner with the hint and bucket stores, the worker with the snapshot,
 * hint and bucket stores, all on table `tableName`, each store's DynamoDB calls metered. Work
 * items run one at a time, as the portal's FIFO group runs them. Not the Lambdas' Secrets
 * Manager credentials: a webhook, which never takes the OAuth refresh lease.
 */
export function createDeployedShape(
  emulators: Emulators,
  endpoints: Endpoints,
  chatIds: readonly ChatId[],
  tableName: string,
  options: DeployedShapeOptions,
): DeployedShape {
  const meter = createDynamoMeter(awsConfig(endpoints.dynamoEndpoint));
  const store = createDynamoDbSnapshotStore({
    client: meter.documentClient('snapshots'),
    tableName,
  });
  const hintStore = createDynamoDbHintStore({ client: meter.documentClient('hints'), tableName });
  const bucketStore = createDynamoDbBucketStore({
    client: meter.documentClient('bucket'),
    tableName,
  });
  const sns = new SNSClient(awsConfig(endpoints.snsEndpoint));
  const sent = createSnsEventPublisher({ client: sns, topicArn: endpoints.topicArn });
  const publisher = {
    async publish(events: readonly OutgoingEvent[]) {
      await sent.publish(events);
      options.onPublished?.(events);
    },
  };
  const config = parseConfig(
    {
      portals: [
        {
          id: PORTAL_ID,
          url: endpoints.baseUrl,
          secret: { name: 'bench-webhook' },
          rateLimit: OPEN_RATE_LIMIT,
          chats: [...chatIds],
        },
      ],
      schedule: {
        expression: `rate(${options.tickMinutes} ${options.tickMinutes === 1 ? 'minute' : 'minutes'})`,
      },
      reads: options.reads,
    },
    'bench',
  );
  const credentials = createStaticCredentialStore({
    kind: 'webhook',
    webhookUrl: endpoints.webhookUrl,
  });
  const connector = createPortalConnector({ credentialsFor: () => credentials });
  let queue: WorkItem[] = [];
  const plan = createPlannerApp({
    config,
    connector,
    queue: {
      enqueue: async (items) => {
        queue.push(...items.map((p) => p.item));
      },
    },
    storedChats: store,
    hintStore,
    bucketStore,
  });
  const sync = createWorkerApp({ config, connector, store, hintStore, bucketStore, publisher });

  return {
    async tick(advanceMs) {
      if (advanceMs > 0) await emulators.call({ cmd: 'advanceClock', ms: advanceMs });
      await emulators.call({ cmd: 'reset' });
      const hint0 = hintStore.stats();
      const store0 = store.stats();
      const dynamo0 = meter.read();
      const started = performance.now();
      queue = [];
      const report = await plan(new Date().toISOString());
      const portal = report.portals[0];
      if (!portal || portal.error) throw new Error(`planning failed: ${portal?.error}`);
      const items = queue;
      for (const item of items) await sync(item);
      const wallMs = Math.round(performance.now() - started);
      const sim = await emulators.stats();
      const hint1 = hintStore.stats();
      const store1 = store.stats();
      return {
        requests: sim.requests,
        byMethod: sim.byMethod,
        workItems: items.length,
        chatsRead: portal.reads,
        byReason: portal.hinted?.byReason ?? {},
        fullCause: portal.hinted?.fullCause ?? null,
        dynamoReads: hint1.readCalls - hint0.readCalls + store1.readCalls - store0.readCalls,
        dynamoWrites: hint1.writeCalls - hint0.writeCalls + store1.writeCalls - store0.writeCalls,
        dynamo: weighTallies([
          [meter.read(), 1],
          [dynamo0, -1],
        ]),
        wallMs,
      };
    },
    close() {
      meter.close();
      sns.destroy();
    },
  };
}

import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  createDynamoDbSnapshotStore,
  type DynamoDbSnapshotStore,
} from '../functions/adapters/dynamodb-snapshot-store.js';
import { snapshotCreateTableInput } from '../functions/adapters/snapshot-table.js';
import {
  createSnsEventPublisher,
  type SnsEventPublisher,
} from '../functions/adapters/sns-event-publisher.js';
import { createPortalConnector, createWorkerApp } from '../functions/app/worker-app.js';
import { parseConfig } from '../functions/config/config-schema.js';
import type { ChatId, WorkItem } from '../functions/core/model.js';
import type { SyncReport } from '../functions/core/sync-report.js';
import { createStaticCredentialStore } from '../local/adapters/static-credential-store.js';
import { ensureTable } from '../local/runtime/embedded-dynamodb.js';
import type { SimulatorStats } from '../local/simulator/types.js';
import type {
  EmulatorOptions,
  EmulatorReply,
  EmulatorRequest,
  EmulatorsReady,
} from './emulators.js';
import type { SharedPortal } from './shared-bucket-scenarios.js';

export const PORTAL_ID = 'bench';

/** Bitrix24's standard plan: the numbers the portal-time column is computed for. */
export const PORTAL_RATE = { burst: 50, drainPerSecond: 2 } as const;

/** Seconds of portal time N requests need under a leaky bucket of burst B, drain R per second. */
export function portalSeconds(requests: number, rate = PORTAL_RATE): number {
  return Math.max(0, (requests - rate.burst) / rate.drainPerSecond);
}

type EmulatorCommand = EmulatorRequest extends infer R
  ? R extends unknown
    ? Omit<R, 'id'>
    : never
  : never;

export interface Emulators {
  readonly ready: EmulatorsReady;
  call<T>(request: EmulatorCommand): Promise<T>;
  stats(): Promise<SimulatorStats>;
  close(): Promise<void>;
}

/** Forks `bench/emulators.ts` (under tsx) and waits for its endpoints. */
export async function startEmulators(options: EmulatorOptions): Promise<Emulators> {
  const child: ChildProcess = fork(
    fileURLToPath(new URL('./emulators.ts', import.meta.url)),
    [JSON.stringify(options)],
    { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let nextId = 1;
  const ready = await new Promise<EmulatorsReady>((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`emulators exited early (code ${code})`));
    child.once('exit', onExit);
    child.on('message', (message: EmulatorsReady | EmulatorReply) => {
      if ('type' in message) {
        child.off('exit', onExit);
        resolve(message);
        return;
      }
      const waiter = pending.get(message.id);
      if (!waiter) return;
      pending.delete(message.id);
      if (message.ok) waiter.resolve(message.value);
      else waiter.reject(new Error(message.error ?? 'emulator command failed'));
    });
  });
  const call = <T>(request: EmulatorCommand): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ ...request, id });
    });
  return {
    ready,
    call,
    stats: () => call<SimulatorStats>({ cmd: 'stats' }),
    async close() {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await call({ cmd: 'close' }).catch(() => undefined);
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3_000))]);
      if (child.exitCode === null) child.kill();
    },
  };
}

/** The emulator child's simulator as the shared-bucket scenarios drive it. */
export function emulatorPortal(emulators: Emulators): SharedPortal {
  return {
    setRateLimit: (limit) => emulators.call({ cmd: 'rateLimit', limit }),
    setCompetingLoad: (perSecond) => emulators.call({ cmd: 'load', perSecond }),
    stats: () => emulators.stats(),
    resetStats: () => emulators.call({ cmd: 'reset' }),
  };
}

export interface Endpoints {
  readonly webhookUrl: string;
  readonly baseUrl: string;
  readonly dynamoEndpoint: string;
  readonly snsEndpoint: string;
  readonly topicArn: string;
}

export interface Worker {
  readonly sync: (item: WorkItem) => Promise<SyncReport>;
  readonly store: DynamoDbSnapshotStore;
  readonly publisher: SnsEventPublisher;
  /** 503 QUERY_LIMIT_EXCEEDED answers this worker's Bitrix24 client has had. */
  rateLimitedCount(): number;
  close(): void;
}

/** A client-side bucket opened wide: portal time is computed, not slept. */
export const OPEN_RATE_LIMIT = { burst: 1_000_000_000, drainPerSecond: 1_000_000 } as const;

const awsConfig = (endpoint: string) => ({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});

/**
 * The production composition (`createWorkerApp` + DynamoDB store + SNS publisher), pointed at
 * the emulators, with a Bitrix24 client of its own whose bucket is `rateLimit` (default: open).
 */
export async function createBenchWorker(
  endpoints: Endpoints,
  chatIds: readonly ChatId[],
  tableName: string,
  rateLimit: { readonly burst: number; readonly drainPerSecond: number } = OPEN_RATE_LIMIT,
): Promise<Worker> {
  const dynamo = new DynamoDBClient(awsConfig(endpoints.dynamoEndpoint));
  await ensureTable(dynamo, snapshotCreateTableInput(tableName));
  const store = createDynamoDbSnapshotStore({
    client: DynamoDBDocumentClient.from(dynamo, {
      marshallOptions: { removeUndefinedValues: true },
    }),
    tableName,
  });
  const sns = new SNSClient(awsConfig(endpoints.snsEndpoint));
  const publisher = createSnsEventPublisher({ client: sns, topicArn: endpoints.topicArn });
  const config = parseConfig(
    {
      portals: [
        {
          id: PORTAL_ID,
          url: endpoints.baseUrl,
          secret: { name: 'bench-webhook' },
          rateLimit,
          chats: [...chatIds],
        },
      ],
    },
    'bench',
  );
  const credentials = createStaticCredentialStore({
    kind: 'webhook',
    webhookUrl: endpoints.webhookUrl,
  });
  const connector = createPortalConnector({ credentialsFor: () => credentials });
  const sync = createWorkerApp({ config, connector, store, publisher });
  return {
    sync,
    store,
    publisher,
    rateLimitedCount: () => connector.rateLimitedCount(PORTAL_ID),
    close() {
      dynamo.destroy();
      sns.destroy();
    },
  };
}

/** RSS high-water mark of this process while `run` goes, sampled every `everyMs`. */
export async function withPeakRss<T>(
  run: () => Promise<T>,
  everyMs = 5,
): Promise<{ value: T; peakRssBytes: number }> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    const rss = process.memoryUsage.rss();
    if (rss > peak) peak = rss;
  }, everyMs);
  try {
    const value = await run();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { value, peakRssBytes: peak };
  } finally {
    clearInterval(timer);
  }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export const round = (value: number, digits = 1): number => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};

import { createWriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  createDynamoDbHintStore,
  type DynamoDbHintStore,
} from '../../functions/adapters/dynamodb-hint-store.js';
import {
  createDynamoDbSnapshotStore,
  type DynamoDbSnapshotStore,
} from '../../functions/adapters/dynamodb-snapshot-store.js';
import { snapshotCreateTableInput } from '../../functions/adapters/snapshot-table.js';
import { createSnsEventPublisher } from '../../functions/adapters/sns-event-publisher.js';
import type { EventPublisher } from '../../functions/core/ports.js';
import { createJsonLinesPublisher } from '../adapters/json-lines-publisher.js';
import { ensureTable, startEmbeddedDynamoDb } from './embedded-dynamodb.js';
import { createHttpsFetch } from './https-fetch.js';
import { localAwsConfig } from './local-aws-config.js';

export const DEFAULT_STATE_DIR = '.membership-sync';
export const LOCAL_TABLE_NAME = 'membership-sync-snapshots';

export type EventsTarget =
  | { readonly kind: 'stdout' }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'sns'; readonly topicArn: string; readonly endpoint?: string };

export interface LocalEnvironmentOptions {
  /** Embedded DynamoDB persisted here, unless `dynamodbEndpoint` is given. */
  readonly stateDir: string;
  readonly dynamodbEndpoint?: string;
  /**
   * An existing snapshot table (the deployed stack's `TableName`), never created: at
   * `dynamodbEndpoint` if given, else in AWS (credentials and region from the usual chain).
   */
  readonly table?: string;
  readonly events?: EventsTarget;
  /** PEM file of an extra CA to trust for the portal (e.g. the simulator's self-signed cert). */
  readonly caFile?: string;
}

export interface LocalEnvironment {
  readonly store: DynamoDbSnapshotStore;
  /** Hinted reads' per-portal state, in the same table. */
  readonly hintStore: DynamoDbHintStore;
  readonly publisher: EventPublisher;
  readonly fetch: typeof globalThis.fetch | undefined;
  close(): Promise<void>;
}

/**
 * A flag's value the local environment cannot work with (an unreachable `--dynamodb-endpoint`,
 * an unreadable `--ca-file`). The message starts with the flag; the CLI prints it as one line.
 */
export class LocalSetupError extends Error {
  override readonly name = 'LocalSetupError';
  constructor(flag: string, cause: unknown) {
    super(`${flag}: ${describeError(cause)}`, { cause });
  }
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return error.message || (typeof code === 'string' ? code : error.name);
}

/** Snapshot store, event sink and portal transport for a local run. */
export async function openLocalEnvironment(
  options: LocalEnvironmentOptions,
): Promise<LocalEnvironment> {
  const ca = options.caFile
    ? await readFile(options.caFile, 'utf8').catch((error: unknown) => {
        throw new LocalSetupError(`--ca-file ${options.caFile}`, error);
      })
    : undefined;
  const embedded =
    options.dynamodbEndpoint !== undefined || options.table !== undefined
      ? undefined
      : await startEmbeddedDynamoDb(join(options.stateDir, 'dynamodb'));
  const endpoint = options.dynamodbEndpoint ?? embedded?.endpoint;
  // Without an endpoint: the deployed table in AWS, with the caller's own credentials.
  const dynamo = new DynamoDBClient(endpoint === undefined ? {} : localAwsConfig(endpoint));
  const tableName = options.table ?? LOCAL_TABLE_NAME;
  try {
    if (options.table === undefined) {
      await ensureTable(dynamo, snapshotCreateTableInput(tableName));
    } else {
      await dynamo.send(new DescribeTableCommand({ TableName: tableName }));
    }
  } catch (error) {
    dynamo.destroy();
    await embedded?.stop();
    if (options.table !== undefined && error instanceof ResourceNotFoundException) {
      throw new LocalSetupError(`--table ${options.table}`, error);
    }
    if (options.dynamodbEndpoint !== undefined) {
      throw new LocalSetupError(`--dynamodb-endpoint ${options.dynamodbEndpoint}`, error);
    }
    if (options.table !== undefined) throw new LocalSetupError(`--table ${options.table}`, error);
    throw error;
  }
  const documentClient = DynamoDBDocumentClient.from(dynamo, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const store = createDynamoDbSnapshotStore({ client: documentClient, tableName });
  const hintStore = createDynamoDbHintStore({ client: documentClient, tableName });

  const closers: (() => Promise<void> | void)[] = [() => dynamo.destroy()];
  if (embedded) closers.push(() => embedded.stop());
  const publisher = await openPublisher(options.events ?? { kind: 'stdout' }, closers);
  const fetch = ca === undefined ? undefined : createHttpsFetch(ca);
  return {
    store,
    hintStore,
    publisher,
    fetch,
    async close() {
      for (const close of closers.reverse()) await close();
    },
  };
}

async function openPublisher(
  target: EventsTarget,
  closers: (() => Promise<void> | void)[],
): Promise<EventPublisher> {
  switch (target.kind) {
    case 'stdout':
      return createJsonLinesPublisher(process.stdout);
    case 'file': {
      await mkdir(dirname(target.path), { recursive: true });
      const out = createWriteStream(target.path, { flags: 'a' });
      closers.push(() => new Promise<void>((resolve) => out.end(resolve)));
      return createJsonLinesPublisher(out);
    }
    case 'sns': {
      // Real AWS by default (credentials and region from the usual chain), or an emulator.
      const client = new SNSClient(target.endpoint ? localAwsConfig(target.endpoint) : {});
      closers.push(() => client.destroy());
      return createSnsEventPublisher({
        client,
        topicArn: target.topicArn,
        fifo: target.topicArn.endsWith('.fifo'),
      });
    }
  }
}

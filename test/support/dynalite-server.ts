import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { snapshotCreateTableInput } from '../../functions/adapters/snapshot-table.js';
import { emulatorClientConfig } from './aws.js';

export interface DynamoEndpoint {
  readonly endpoint: string;
  /** Low-level client (CreateTable, raw items). */
  readonly client: DynamoDBClient;
  /** What the adapters take. */
  readonly documentClient: DynamoDBDocumentClient;
  /** Creates the snapshot table (`snapshot-table.ts` schema) under a unique name and returns it. */
  createSnapshotTable(prefix?: string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts dynalite in-process on a free port. In memory unless `path` is given (a folder for a
 * persistent LevelDB store, as the local runner uses). Lacks TransactWrite, TTL and
 * ReturnValuesOnConditionCheckFailure (its actions, https://github.com/architect/dynalite, have no
 * TransactWriteItems or UpdateTimeToLive).
 */
export async function startDynalite(options: { path?: string } = {}): Promise<DynamoEndpoint> {
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.path ? { path: options.path } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const wrapped = connectDynamo(endpoint);
  return {
    ...wrapped,
    async stop() {
      wrapped.client.destroy();
      await new Promise<void>((resolve, reject) =>
        server.close((e) => (e ? reject(e) : resolve())),
      );
    },
  };
}

/** Clients for an already running endpoint (e.g. DynamoDB Local from `inject('dynamoDbLocalEndpoint')`). */
export function connectDynamo(endpoint: string): DynamoEndpoint {
  const client = new DynamoDBClient(emulatorClientConfig(endpoint));
  const documentClient = DynamoDBDocumentClient.from(client);
  let tables = 0;
  return {
    endpoint,
    client,
    documentClient,
    async createSnapshotTable(prefix = 'snapshots') {
      const name = `${prefix}-${process.pid}-${Date.now().toString(36)}-${tables++}`;
      await client.send(new CreateTableCommand(snapshotCreateTableInput(name)));
      for (let i = 0; i < 100; i++) {
        const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
        const indexes = Table?.GlobalSecondaryIndexes ?? [];
        if (Table?.TableStatus === 'ACTIVE' && indexes.every((x) => x.IndexStatus === 'ACTIVE')) {
          return name;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`table ${name} did not become ACTIVE`);
    },
    /** Closes the clients only; the endpoint's owner stops the server. */
    async stop() {
      client.destroy();
    },
  };
}

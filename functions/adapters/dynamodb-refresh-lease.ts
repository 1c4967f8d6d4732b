import { randomUUID } from 'node:crypto';
import { DeleteCommand, type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { HeldLease, RefreshLease } from '../bitrix24/credentials.js';
import { isConditionalCheckFailed } from './conditional-check.js';
import { refreshLeaseKey } from './snapshot-table.js';

export interface DynamoDbRefreshLeaseOptions {
  readonly client: DynamoDBDocumentClient;
  /** The snapshot table: the lease is one small item in it (see `snapshot-table.ts`). */
  readonly tableName: string;
  readonly portalId: string;
  /** Wall clock in ms. Holders on different machines compare their clocks (NTP-synced on Lambda). */
  readonly now?: (() => number) | undefined;
}

/**
 * The OAuth refresh lease of one portal as a DynamoDB item taken with a conditional put: the put
 * succeeds only when no item exists or its `leaseUntil` has passed, so of two concurrent takers
 * exactly one wins. Release deletes the item only if `holder` is still this acquisition's id: a
 * holder that outlived its lease cannot free its successor's. `expiresAt` lets TTL clean up items
 * whose holder never released them; correctness never depends on TTL (it deletes late).
 * The item holds no secret.
 */
export function createDynamoDbRefreshLease(options: DynamoDbRefreshLeaseOptions): RefreshLease {
  const { client, tableName } = options;
  const now = options.now ?? Date.now;
  const key = refreshLeaseKey(options.portalId);

  return {
    async tryAcquire(ttlMs) {
      const holder = randomUUID();
      const at = now();
      try {
        await client.send(
          new PutCommand({
            TableName: tableName,
            Item: {
              ...key,
              holder,
              leaseUntil: at + ttlMs,
              expiresAt: Math.ceil((at + ttlMs) / 1000),
            },
            ConditionExpression: 'attribute_not_exists(pk) OR leaseUntil <= :now',
            ExpressionAttributeValues: { ':now': at },
          }),
        );
      } catch (error) {
        if (isConditionalCheckFailed(error)) return undefined;
        throw error;
      }
      const held: HeldLease = {
        async release() {
          try {
            await client.send(
              new DeleteCommand({
                TableName: tableName,
                Key: key,
                ConditionExpression: 'holder = :holder',
                ExpressionAttributeValues: { ':holder': holder },
              }),
            );
          } catch (error) {
            if (!isConditionalCheckFailed(error)) throw error;
          }
        },
      };
      return held;
    },
  };
}

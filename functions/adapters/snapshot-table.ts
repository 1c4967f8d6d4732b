import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * Key schema of the snapshot table, shared by the adapter, the tests and the CDK stack (which
 * mirrors it). One partition per (portal, chat):
 *
 * - head item:  `pk = <portalId>#<chatId>`, `sk = head`; also carries `portalId` (S) and
 *   `chatId` (N), the keys of the sparse `byPortal` index (only heads have them).
 * - shard items: `pk = <portalId>#<chatId>#shards` (heads written before that partition existed
 *   name none, and their shards share the head's `pk`), `sk = shard#<version written>#<body hash
 *   prefix>#<n>`; immutable. A partition of their own lets IAM allow the retiring TTL mark on
 *   shards only, never on a head.
 *
 * - OAuth refresh lease (`dynamodb-refresh-lease.ts`): `pk = <portalId>#oauth`, `sk = refresh-lease`;
 *   never in `byPortal` (no `portalId`/`chatId`), so snapshot listings do not see it.
 *
 * `byPortal` projects KEYS_ONLY: `list()` reads heads back with BatchGetItem, so a head update
 * (which never changes `portalId`/`chatId`) costs no index write.
 * `expiresAt` (epoch seconds) is set only on retired shards and leases; enable TTL on it.
 */
export const snapshotTableDefinition = {
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  portalIndex: {
    indexName: 'byPortal',
    partitionKey: { name: 'portalId', type: 'S' },
    sortKey: { name: 'chatId', type: 'N' },
    projection: 'KEYS_ONLY',
  },
  timeToLiveAttribute: 'expiresAt',
  billingMode: 'PAY_PER_REQUEST',
} as const;

/** Partition keys of snapshot shards end with this (IAM conditions match on it). */
export const SHARD_PARTITION_SUFFIX = '#shards';

/** Partition keys of the OAuth refresh leases end with this (IAM conditions match on it). */
export const REFRESH_LEASE_PARTITION_SUFFIX = '#oauth';

/**
 * Each portal's hinted-reads state (`dynamodb-hint-store.ts`) and shared rate budget
 * (`dynamodb-bucket-store.ts`) live in the partition `<portalId>#portal`.
 */
export const PORTAL_STATE_PARTITION_SUFFIX = '#portal';

export function portalStatePartitionKey(portalId: string): string {
  return `${portalId}${PORTAL_STATE_PARTITION_SUFFIX}`;
}

export function refreshLeaseKey(portalId: string): { readonly pk: string; readonly sk: string } {
  return { pk: `${portalId}${REFRESH_LEASE_PARTITION_SUFFIX}`, sk: 'refresh-lease' };
}

/** CreateTable input for tests and the local runner (TTL is a separate UpdateTimeToLive call). */
export function snapshotCreateTableInput(tableName: string): CreateTableCommandInput {
  const d = snapshotTableDefinition;
  return {
    TableName: tableName,
    BillingMode: d.billingMode,
    KeySchema: [
      { AttributeName: d.partitionKey.name, KeyType: 'HASH' },
      { AttributeName: d.sortKey.name, KeyType: 'RANGE' },
    ],
    AttributeDefinitions: [
      { AttributeName: d.partitionKey.name, AttributeType: d.partitionKey.type },
      { AttributeName: d.sortKey.name, AttributeType: d.sortKey.type },
      {
        AttributeName: d.portalIndex.partitionKey.name,
        AttributeType: d.portalIndex.partitionKey.type,
      },
      { AttributeName: d.portalIndex.sortKey.name, AttributeType: d.portalIndex.sortKey.type },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: d.portalIndex.indexName,
        KeySchema: [
          { AttributeName: d.portalIndex.partitionKey.name, KeyType: 'HASH' },
          { AttributeName: d.portalIndex.sortKey.name, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: d.portalIndex.projection },
      },
    ],
  };
}

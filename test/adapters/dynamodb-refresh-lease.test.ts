import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDynamoDbRefreshLease } from '../../functions/adapters/dynamodb-refresh-lease.js';
import { createDynamoDbSnapshotStore } from '../../functions/adapters/dynamodb-snapshot-store.js';
import { connectDynamo, type DynamoEndpoint } from '../support/dynalite-server.js';

describe('DynamoDbRefreshLease on DynamoDB Local', () => {
  let dynamo: DynamoEndpoint;
  let tableName: string;
  let clock = 1_000_000;
  const leaseFor = (portalId: string) =>
    createDynamoDbRefreshLease({
      client: dynamo.documentClient,
      tableName,
      portalId,
      now: () => clock,
    });

  beforeAll(async () => {
    dynamo = connectDynamo(inject('dynamoDbLocalEndpoint'));
    tableName = await dynamo.createSnapshotTable('leases');
  });
  afterAll(() => dynamo.stop());

  it('gives the lease to exactly one of two concurrent takers', async () => {
    const taken = await Promise.all([
      leaseFor('race').tryAcquire(10_000),
      leaseFor('race').tryAcquire(10_000),
    ]);
    expect(taken.filter(Boolean)).toHaveLength(1);
  });

  it('refuses the lease while it is live and hands it over once it has expired', async () => {
    const first = await leaseFor('expiry').tryAcquire(1_000);
    expect(first).toBeDefined();
    clock += 999;
    expect(await leaseFor('expiry').tryAcquire(1_000)).toBeUndefined();
    clock += 1;
    expect(await leaseFor('expiry').tryAcquire(1_000)).toBeDefined();
  });

  it('is free again once its holder releases it', async () => {
    const held = await leaseFor('release').tryAcquire(60_000);
    await held?.release();
    expect(await leaseFor('release').tryAcquire(60_000)).toBeDefined();
  });

  it('lets a late holder release only its own lease, not its successor’s', async () => {
    const late = await leaseFor('late').tryAcquire(1_000);
    clock += 1_000;
    const successor = await leaseFor('late').tryAcquire(60_000);
    expect(successor).toBeDefined();
    await late?.release();
    expect(await leaseFor('late').tryAcquire(60_000)).toBeUndefined();
  });

  it('keeps the leases of different portals apart', async () => {
    expect(await leaseFor('portal-a').tryAcquire(60_000)).toBeDefined();
    expect(await leaseFor('portal-b').tryAcquire(60_000)).toBeDefined();
  });

  it('stores no secret and marks the item for TTL clean-up, outside the portal’s snapshots', async () => {
    await leaseFor('acme').tryAcquire(60_000);
    const { Item } = await dynamo.documentClient.send(
      new GetCommand({ TableName: tableName, Key: { pk: 'acme#oauth', sk: 'refresh-lease' } }),
    );
    expect(Object.keys(Item ?? {}).sort()).toEqual([
      'expiresAt',
      'holder',
      'leaseUntil',
      'pk',
      'sk',
    ]);
    expect(Item?.expiresAt).toBeGreaterThanOrEqual(Math.ceil((clock + 60_000) / 1000));
    const store = createDynamoDbSnapshotStore({ client: dynamo.documentClient, tableName });
    const listed = [];
    for await (const snapshot of store.list('acme')) listed.push(snapshot);
    expect(listed).toEqual([]);
  });
});

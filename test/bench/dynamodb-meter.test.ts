import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoMeter } from '../../bench/dynamodb-meter.js';
import { createDynamoDbBucketStore } from '../../functions/adapters/dynamodb-bucket-store.js';
import { createDynamoDbHintStore } from '../../functions/adapters/dynamodb-hint-store.js';
import { emulatorClientConfig } from '../support/aws.js';
import { type DynamoEndpoint, startDynalite } from '../support/dynalite-server.js';

describe("the bench's DynamoDB meter", () => {
  let dynamo: DynamoEndpoint;
  beforeAll(async () => {
    dynamo = await startDynalite();
  });
  afterAll(async () => {
    await dynamo?.stop();
  });

  const bucketLevel = { level: 3, at: 1_700_000_000_000 };

  it('counts each store’s calls by kind, with the request units DynamoDB returns', async () => {
    const tableName = await dynamo.createSnapshotTable('meter');
    const meter = createDynamoMeter(emulatorClientConfig(dynamo.endpoint));
    try {
      const bucket = createDynamoDbBucketStore({
        client: meter.documentClient('bucket'),
        tableName,
      });
      const hints = createDynamoDbHintStore({ client: meter.documentClient('hints'), tableName });
      const taken = await bucket.take('p');
      await bucket.handBack('p', bucketLevel, taken);
      await hints.load('p');

      const counts = meter.read();
      expect(counts.bucket).toMatchObject({
        reads: 1,
        writes: 1,
        readUnits: 1,
        writeUnits: 1,
        byOperation: { GetItem: 1, PutItem: 1 },
      });
      expect(counts.hints).toMatchObject({ reads: 1, writes: 0, byOperation: { Query: 1 } });
      expect(counts.hints.readUnits).toBeGreaterThan(0);
      expect(counts.snapshots).toMatchObject({ reads: 0, writes: 0, readUnits: 0, writeUnits: 0 });
      expect(counts.total).toMatchObject({
        reads: 2,
        writes: 1,
        readUnits: 1 + counts.hints.readUnits,
        writeUnits: 1,
      });
    } finally {
      meter.close();
    }
  });

  it('counts a lost conditional write as a call', async () => {
    const tableName = await dynamo.createSnapshotTable('meter');
    const meter = createDynamoMeter(emulatorClientConfig(dynamo.endpoint));
    try {
      const bucket = createDynamoDbBucketStore({
        client: meter.documentClient('bucket'),
        tableName,
      });
      const first = await bucket.take('p');
      const second = await bucket.take('p');
      await bucket.handBack('p', bucketLevel, first);
      // Taken before the first hand-back: its put fails, it reads again and puts again.
      await bucket.handBack('p', bucketLevel, second);

      expect(meter.read().bucket).toMatchObject({
        reads: 3,
        writes: 3,
        writeUnits: 2, // the lost put's unit comes with no response
        byOperation: { GetItem: 3, PutItem: 3 },
      });
    } finally {
      meter.close();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbBucketStore } from '../../functions/adapters/dynamodb-bucket-store.js';
import { createDynamoDbSnapshotStore } from '../../functions/adapters/dynamodb-snapshot-store.js';
import { createPortalConnector, createWorkerApp } from '../../functions/app/worker-app.js';
import { createLeakyBucket } from '../../functions/bitrix24/leaky-bucket.js';
import {
  type BucketStateStore,
  mergeLevels,
  takeUpBucket,
} from '../../functions/bitrix24/shared-bucket.js';
import { parseConfig } from '../../functions/config/config-schema.js';
import { createStaticCredentialStore } from '../../local/adapters/static-credential-store.js';
import { startSimulator } from '../../local/simulator/start-simulator.js';
import type { RunningSimulator } from '../../local/simulator/types.js';
import { type DynamoEndpoint, startDynalite } from '../support/dynalite-server.js';
import { RecordingPublisher } from '../support/fakes.js';

/**
 * The portal's bucket (50 burst, 2 per second) with the simulator's clock running 10× faster
 * (so 20 per real second), and clients paced to match: the shape of the real limit in a tenth
 * of the time. Each work item reads the general chat of 4,000 members: one batch plus 21 keyset
 * pages, so three fresh containers at full burst would pass 50.
 */
const TIME_SCALE = 10;
const LIMIT = { burst: 50, drainPerSecond: 2 };

describe('one rate budget per portal across worker containers', () => {
  let dynamo: DynamoEndpoint;
  let sim: RunningSimulator;
  beforeAll(async () => {
    dynamo = await startDynalite();
  });
  afterAll(async () => {
    await dynamo?.stop();
  });

  async function alternate(shared: boolean): Promise<number> {
    sim = await startSimulator({
      seed: { chats: 0, membersPerChat: 2_000, generalChatMembers: 4_000 },
      tls: false,
      timeScale: TIME_SCALE,
      rateLimit: LIMIT,
    });
    try {
      const tableName = await dynamo.createSnapshotTable('bucket');
      const config = parseConfig({
        portals: [
          {
            id: 'p',
            url: sim.baseUrl,
            secret: { name: 'local' },
            chats: [1],
            rateLimit: { burst: LIMIT.burst, drainPerSecond: LIMIT.drainPerSecond * TIME_SCALE },
            reads: { mode: 'full' },
          },
        ],
      });
      const bucketStore = createDynamoDbBucketStore({ client: dynamo.documentClient, tableName });
      const store = createDynamoDbSnapshotStore({ client: dynamo.documentClient, tableName });
      // Four containers: each its own connector, client and bucket model.
      const workers = Array.from({ length: 4 }, () =>
        createWorkerApp({
          config,
          connector: createPortalConnector({
            credentialsFor: () =>
              createStaticCredentialStore({ kind: 'webhook', webhookUrl: sim.webhookUrl }),
          }),
          store,
          publisher: new RecordingPublisher(),
          ...(shared ? { bucketStore } : {}),
        }),
      );
      for (let i = 0; i < 8; i++) {
        const worker = workers[i % workers.length];
        const report = await worker?.({
          portalId: 'p',
          chatIds: [1],
          scheduledAt: new Date().toISOString(),
        });
        expect(report?.chats[0]?.outcome).toMatch(/^(baseline|unchanged)$/);
      }
      expect(sim.stats().requests).toBeGreaterThan(8 * 21);
      return sim.stats().rateLimited;
    } finally {
      await sim.close();
    }
  }

  it('gets no 503 when items of one portal alternate over 4 workers sharing the bucket', async () => {
    expect(await alternate(true)).toBe(0);
  });

  it('gets 503s without it: each fresh container bursts into the full bucket', async () => {
    expect(await alternate(false)).toBeGreaterThan(0);
  });
});

describe('bucket hand-over', () => {
  it('takes over the fuller counter, the handed one leaked since it was handed', () => {
    let wall = 1_000_000;
    let mono = 0;
    const bucket = createLeakyBucket({
      burst: 50,
      drainPerSecond: 2,
      now: () => mono,
      wallNow: () => wall,
    });
    bucket.reserve();
    wall += 5_000;
    bucket.takeOver({ level: 40, at: wall - 5_000 });
    expect(bucket.level()).toBe(30);
    bucket.takeOver({ level: 3, at: wall });
    expect(bucket.level()).toBe(30);
    mono += 1_000;
    expect(bucket.handOver()).toEqual({ level: 28, at: wall });
  });

  it('skips handing back a counter below one request when asked to (the planner), never otherwise', async () => {
    let mono = 0;
    const handedBack: number[] = [];
    const store: BucketStateStore = {
      take: async () => ({}),
      handBack: async (_portal, level) => {
        handedBack.push(level.level);
      },
    };
    const run = async (requests: number, skipBelowOneRequest: boolean) => {
      const bucket = createLeakyBucket({ burst: 50, drainPerSecond: 2, now: () => mono });
      const handBack = await takeUpBucket(store, 'p', bucket, undefined, { skipBelowOneRequest });
      for (let i = 0; i < requests; i++) bucket.reserve();
      mono += 100;
      await handBack();
    };
    await run(1, true);
    expect(handedBack).toEqual([]);
    await run(2, true);
    expect(handedBack).toEqual([1.8]);
    await run(1, false);
    expect(handedBack).toEqual([1.8, 0.8]);
  });

  it('merges two hand-backs of the same take-up: both processes’ requests count', () => {
    const base = { level: 10, at: 0 };
    expect(mergeLevels({ level: 25, at: 5 }, { level: 30, at: 4 }, base)).toEqual({
      level: 45,
      at: 5,
    });
    expect(mergeLevels({ level: 25, at: 5 }, { level: 30, at: 4 }, undefined).level).toBe(55);
  });
});

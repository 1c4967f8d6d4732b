import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectDynamo, type DynamoEndpoint } from '../support/dynalite-server.js';
import { type FauxqsEndpoint, startFauxqsServer } from '../support/fauxqs-server.js';
import { type ModelEnvironment, runSchedules } from './run-schedules.js';

/**
 * `MODEL_SCHEDULES` overrides the count (`npm run soak` runs thousands); `MODEL_FIRST_SEED`
 * with `MODEL_SCHEDULES=1 MODEL_DEBUG=1` replays one schedule sync by sync.
 */
const SCHEDULES = Number(process.env.MODEL_SCHEDULES ?? 500);
const FIRST_SEED = Number(process.env.MODEL_FIRST_SEED ?? 1);
/** Schedules run side by side (each has its own simulator, portal, topic and queue). */
const CONCURRENCY = Number(process.env.MODEL_CONCURRENCY ?? 6);

describe('crash-schedule model of the outbox', () => {
  let dynamo: DynamoEndpoint;
  let fauxqs: FauxqsEndpoint;
  let env: ModelEnvironment;

  beforeAll(async () => {
    dynamo = await connectDynamo(inject('dynamoDbLocalEndpoint'));
    fauxqs = await startFauxqsServer();
    env = {
      dynamoEndpoint: inject('dynamoDbLocalEndpoint'),
      tableName: await dynamo.createSnapshotTable(),
      fauxqs,
    };
  });
  afterAll(async () => {
    await fauxqs?.stop();
    await dynamo?.stop();
  });

  it(
    `loses no change, invents no leave and reuses no sequence in ${SCHEDULES} seeded schedules with a fault at a random step boundary`,
    async () => {
      const summary = await runSchedules(env, {
        first: FIRST_SEED,
        count: SCHEDULES,
        concurrency: CONCURRENCY,
        // Long soaks report as they go (stderr is not held back like console output).
        onProgress: (done, divergent) => {
          if (done % 1_000 === 0)
            process.stderr.write(`schedules: ${done}, divergences: ${divergent}\n`);
        },
      });
      console.info(summary.report);

      // A failing schedule replays with MODEL_FIRST_SEED=<seed> MODEL_SCHEDULES=1.
      expect(summary.failures, summary.report).toEqual([]);
      // Every kind of step boundary was hit by some fault.
      expect([...summary.boundaries.keys()].sort()).toEqual(
        expect.arrayContaining([
          'bitrix24:request',
          'ddb:BatchGet',
          'ddb:commit',
          'ddb:record',
          'ddb:cursor',
          'ddb:shard-write',
          'sns:PublishBatch',
        ]),
      );
    },
    Math.max(1_800_000, SCHEDULES * 1_000),
  );
});

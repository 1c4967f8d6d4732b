import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BucketLimit,
  besideCompetitor,
  MAX_RATE_LIMITED_SHARE,
  prepare,
  rateLimitedShare,
  type ScenarioOptions,
  type ScenarioRun,
  type SyncJob,
  twoSyncs,
} from '../../bench/shared-bucket-scenarios.js';
import { createPortalConnector, createWorkerApp } from '../../functions/app/worker-app.js';
import { parseConfig } from '../../functions/config/config-schema.js';
import type { ChatId } from '../../functions/core/model.js';
import { createStaticCredentialStore } from '../../local/adapters/static-credential-store.js';
import { startSimulator } from '../../local/simulator/start-simulator.js';
import type { RunningSimulator } from '../../local/simulator/types.js';
import { InMemorySnapshotStore, RecordingPublisher } from '../support/fakes.js';

/**
 * Our sync on a portal whose rate limit it shares, through the worker composition, the real
 * client and the simulator over HTTP: every chat syncs and at most 5 % of our requests are
 * answered 503. The snapshots and events stay in memory: they play no part in sharing the rate
 * limit, and a 3,000-chat baseline in DynamoDB Local would take most of a minute (`npm run
 * shared-bucket` and `npm run bench` run the same scenarios with the AWS emulators, in real
 * time). Here the portal's clock runs 5× faster, its bucket and our client's model alike.
 */

const TIME_SCALE = 5;
const PORTAL_LIMIT: BucketLimit = { burst: 50, drainPerSecond: 2 };
const REAL_LIMIT: BucketLimit = { burst: 50, drainPerSecond: 2 * TIME_SCALE };

const PORTAL_ID = 'shared';

let sim: RunningSimulator;
let chatIds: ChatId[];
let options: ScenarioOptions;

beforeAll(async () => {
  sim = await startSimulator({
    seed: { chats: 3_000, membersPerChat: 5, seed: 7 },
    tls: false,
    rateLimit: false,
    timeScale: TIME_SCALE,
  });
  chatIds = sim.admin
    .chats()
    .map((c) => c.id)
    .sort((a, b) => a - b);
  // Read-only steady-state runs: every job may share one store.
  const store = new InMemorySnapshotStore();
  const newJob = async (limit: BucketLimit): Promise<SyncJob> => {
    const config = parseConfig({
      portals: [
        {
          id: PORTAL_ID,
          url: sim.baseUrl,
          secret: { name: 'shared' },
          rateLimit: limit,
          chats: chatIds,
        },
      ],
    });
    const credentials = createStaticCredentialStore({
      kind: 'webhook',
      webhookUrl: sim.webhookUrl,
    });
    const connector = createPortalConnector({ credentialsFor: () => credentials });
    return {
      sync: createWorkerApp({ config, connector, store, publisher: new RecordingPublisher() }),
      rateLimitedCount: () => connector.rateLimitedCount(PORTAL_ID),
      close: () => {},
    };
  };
  options = {
    portal: {
      setRateLimit: async (limit) => sim.setRateLimit(limit),
      setCompetingLoad: async (perSecond) => sim.setCompetingLoad(perSecond),
      stats: async () => sim.stats(),
      resetStats: async () => sim.resetStats(),
    },
    newJob,
    portalId: PORTAL_ID,
    limit: REAL_LIMIT,
    portalLimit: PORTAL_LIMIT,
  };
  await prepare(options.portal, options.newJob, PORTAL_ID, chatIds);
});

afterAll(async () => {
  await sim?.close();
});

function expectShared(run: ScenarioRun): void {
  for (const sync of run.syncs) {
    expect(sync.unsynced).toBe(0);
    expect(rateLimitedShare(sync)).toBeLessThanOrEqual(MAX_RATE_LIMITED_SHARE);
  }
}

describe('sharing the portal rate limit', () => {
  it('syncs every chat beside another integration sending 1 request per second, with few 503s', async () => {
    const run = await besideCompetitor({ ...options, chatIds, competitor: 1 });
    expectShared(run);
    // More requests than the burst: the sync really had to share the drain.
    expect(run.syncs[0]?.requests).toBeGreaterThan(PORTAL_LIMIT.burst);
    expect(run.competingRequests).toBeGreaterThan(0);
  });

  it('syncs every chat in both of two syncs started at the same moment, with few 503s', async () => {
    const run = await twoSyncs({ ...options, chatIds: chatIds.slice(0, 2_000) });
    expectShared(run);
    expect(run.syncs).toHaveLength(2);
    // Together they sent more than the burst: they had to share it.
    expect(run.syncs.reduce((n, s) => n + s.requests, 0)).toBeGreaterThan(PORTAL_LIMIT.burst);
  });

  it('alone, paces under the limit without a single 503', async () => {
    const run = await besideCompetitor({ ...options, chatIds, competitor: 0 });
    expect(run.syncs[0]).toMatchObject({ unsynced: 0, rateLimited: 0 });
    // One batch per 50 chats, and the general chat's keyset read (a page and the empty one).
    expect(run.syncs[0]?.requests).toBe(Math.ceil(chatIds.length / 50) + 2);
  });
});

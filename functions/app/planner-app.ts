import { createHash } from 'node:crypto';
import { discoverGroupChats } from '../bitrix24/discover-chats.js';
import { createRecentHintReader } from '../bitrix24/read-recent-hints.js';
import { type BucketStateStore, takeUpBucket } from '../bitrix24/shared-bucket.js';
import {
  type Config,
  type PortalConfig,
  plannerCallsBitrix24,
  portalSecretId,
  readsOf,
  scheduleIntervalMs,
} from '../config/config-schema.js';
import type { StoredChats } from '../core/departed-chats.js';
import type { HintStateStore, StoredHints } from '../core/hint-store.js';
import { type PlanReport, type PortalPlan, planRun } from '../core/plan-run.js';
import type { WorkQueue } from '../core/work-queue.js';
import type { AppLogger } from './observability.js';
import type { PortalConnector } from './worker-app.js';

export interface PlannerAppDeps {
  readonly config: Config;
  readonly connector: PortalConnector;
  readonly queue: WorkQueue;
  /** The snapshots, to find chats that left the configured or discovered set. */
  readonly storedChats: StoredChats;
  /** Needed when some portal reads hinted (the default). */
  readonly hintStore?: HintStateStore | undefined;
  /** The time between ticks; default: the config's schedule. */
  readonly tickMs?: number | undefined;
  /**
   * Shares the rate budget of each portal the planner calls with the workers (taken up for the
   * tick's planning).
   */
  readonly bucketStore?: BucketStateStore | undefined;
  readonly logger?: AppLogger | undefined;
}

export interface PlanTickOptions {
  /** Read every chat of every portal in this tick (`--full`). */
  readonly forceFull?: boolean | undefined;
}

/** A portal left out of a tick because its credentials are still to be written. */
export interface AwaitingPortal {
  readonly portalId: string;
  readonly secretId: string;
  readonly reason: 'not_found' | 'placeholder';
}

export interface PlannerReport extends PlanReport {
  /** Not failures: nothing can be discovered until the operator writes the credentials. */
  readonly awaitingCredentials: readonly AwaitingPortal[];
}

/**
 * One schedule tick: explicit or discovered chats (every one, or for hinted portals the ones the
 * recent list names plus a rolling reconcile slice) → work items of ≤ 50 chats → the FIFO queue.
 * Discovery and hints read credentials here; such a portal awaiting them is skipped. Portals with
 * explicit chats and full reads are planned without reading their secret (the worker skips their
 * items instead).
 */
export function createPlannerApp(
  deps: PlannerAppDeps,
): (scheduledAt: string, options?: PlanTickOptions) => Promise<PlannerReport> {
  const portals = new Map(deps.config.portals.map((p) => [p.id, p]));
  const portalOf = (portalId: string) => {
    const portal = portals.get(portalId);
    if (!portal) throw new Error(`unknown portal "${portalId}"`);
    return portal;
  };
  const plans = new Map<string, PortalPlan>(
    deps.config.portals.map((portal) => {
      const reads = readsOf(deps.config, portal);
      const plan: PortalPlan = {
        portalId: portal.id,
        chats: portal.chats,
        ...(reads.mode === 'hinted'
          ? {
              hinted: {
                reconcileMs: reads.reconcileMinutes * 60_000,
                settingsKey: settingsKeyOf(portalSecretId(deps.config, portal), portal, {
                  mode: reads.mode,
                  reconcileMinutes: reads.reconcileMinutes,
                }),
                learnedReconcile: reads.learnedReconcile,
              },
            }
          : {}),
      };
      return [portal.id, plan];
    }),
  );
  const hinted = [...plans.values()].some((plan) => plan.hinted);
  if (hinted && !deps.hintStore) {
    throw new Error('hinted reads need a hint store (the planner needs TABLE_NAME)');
  }
  const client = (portalId: string) => deps.connector.clientsFor(portalOf(portalId)).client;
  const takeUp = async (store: BucketStateStore, portal: PortalConfig) => {
    try {
      return await takeUpBucket(
        store,
        portal.id,
        deps.connector.clientsFor(portal).bucket,
        (step, error) =>
          deps.logger?.warn(`could not ${step} the shared rate budget`, {
            portalId: portal.id,
            error: error instanceof Error ? error.name : String(error),
          }),
        { skipBelowOneRequest: true },
      );
    } catch {
      return undefined; // No client for the portal: its planning fails and is reported.
    }
  };
  const readsCredentials = (portal: PortalConfig) => plannerCallsBitrix24(deps.config, portal);

  return async (scheduledAt, options = {}) => {
    const checked = await Promise.all(
      deps.config.portals.map(async (portal) => ({
        portal,
        awaiting: readsCredentials(portal)
          ? await deps.connector.awaitingCredentials(portal)
          : undefined,
      })),
    );
    const planned = checked.filter(({ awaiting }) => awaiting === undefined);
    const { bucketStore, hintStore } = deps;
    // A hinted portal's state and rate budget share a partition: one read loads both, and the
    // planning below is handed that read instead of repeating it.
    const preloaded = new Map<string, StoredHints>();
    if (hintStore) {
      await Promise.all(
        planned
          .filter(({ portal }) => plans.get(portal.id)?.hinted)
          .map(async ({ portal }) => {
            try {
              preloaded.set(portal.id, await hintStore.load(portal.id));
            } catch {
              // Planning loads it again and reads every chat if it still fails.
            }
          }),
      );
    }
    const handBacks = bucketStore
      ? await Promise.all(
          planned
            .filter(({ portal }) => readsCredentials(portal))
            .map(({ portal }) => {
              const stored = preloaded.get(portal.id);
              return takeUp(stored ? bucketFrom(stored, bucketStore) : bucketStore, portal);
            }),
        )
      : [];
    const report = await planRun(
      {
        queue: deps.queue,
        storedChats: deps.storedChats,
        discoverChats: (portalId) => discoverGroupChats(client(portalId)),
        requestCount: (portalId) => client(portalId).requestCount(),
        ...(hintStore
          ? {
              hints: {
                store: preloadedOnce(hintStore, preloaded),
                readerFor: (portalId: string) => createRecentHintReader(client(portalId)),
                tickMs: deps.tickMs ?? scheduleIntervalMs(deps.config.schedule.expression),
              },
            }
          : {}),
      },
      planned.flatMap(({ portal }) => {
        const plan = plans.get(portal.id);
        return plan ? [plan] : [];
      }),
      scheduledAt,
      options,
    ).finally(() => Promise.all(handBacks.map((handBack) => handBack?.())));
    return {
      ...report,
      awaitingCredentials: checked.flatMap(({ portal, awaiting }) =>
        awaiting
          ? [{ portalId: portal.id, secretId: awaiting.secretId, reason: awaiting.reason }]
          : [],
      ),
    };
  };
}

/**
 * What the hints depend on: whose recent list (portal, credentials) and how it is used. Another
 * value makes the next tick a full read. The learned reconcile is left out: it changes which
 * chats are read early, not what the hints mean.
 */
function settingsKeyOf(secretId: string, portal: PortalConfig, reads: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify([portal.url, secretId, reads]))
    .digest('hex')
    .slice(0, 16);
}

/** The store, but the first load of a preloaded portal returns what was already read. */
function preloadedOnce(store: HintStateStore, preloaded: Map<string, StoredHints>): HintStateStore {
  return {
    load: async (portalId) => {
      const stored = preloaded.get(portalId);
      if (!stored) return store.load(portalId);
      preloaded.delete(portalId);
      return stored;
    },
    saveState: (portalId, state, expectedVersion) =>
      store.saveState(portalId, state, expectedVersion),
    recordOutcomes: (portalId, outcomes) => store.recordOutcomes(portalId, outcomes),
    recordMisses: (portalId, chatIds, at) => store.recordMisses(portalId, chatIds, at),
    forgetMisses: (portalId, misses) => store.forgetMisses(portalId, misses),
  };
}

/** Takes the rate budget from the hint state's read; hands it back through the bucket store. */
function bucketFrom(stored: StoredHints, store: BucketStateStore): BucketStateStore {
  const { bucket } = stored;
  return {
    take: async () =>
      bucket
        ? {
            level: { level: bucket.level, at: bucket.at },
            ...(bucket.version === undefined ? {} : { version: bucket.version }),
          }
        : {},
    handBack: (portalId, level, taken) => store.handBack(portalId, level, taken),
  };
}

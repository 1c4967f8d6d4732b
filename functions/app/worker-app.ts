import { createBitrix24Client } from '../bitrix24/bitrix24-client.js';
import type { Bitrix24Client, Bitrix24ClientOptions } from '../bitrix24/client-types.js';
import {
  type CredentialStore,
  CredentialsAwaitingError,
  type RefreshLease,
} from '../bitrix24/credentials.js';
import { bucketLimit, createLeakyBucket, type LeakyBucket } from '../bitrix24/leaky-bucket.js';
import { createBitrix24MemberReader } from '../bitrix24/member-reader.js';
import { type BucketStateStore, takeUpBucket } from '../bitrix24/shared-bucket.js';
import {
  type Config,
  type PortalConfig,
  portalSource,
  rateLimitOf,
} from '../config/config-schema.js';
import type { HintStateStore } from '../core/hint-store.js';
import type { WorkItem } from '../core/model.js';
import type { Clock, EventPublisher, MemberReader, SnapshotStore } from '../core/ports.js';
import { readOutcomesOf } from '../core/read-outcomes.js';
import type { SyncReport } from '../core/sync-report.js';
import { syncWorkItem } from '../core/sync-work-item.js';
import type { AppLogger } from './observability.js';

export interface PortalClients {
  readonly client: Bitrix24Client;
  readonly reader: MemberReader;
  /** The client's leaky bucket, whose counter can be shared across processes. */
  readonly bucket: LeakyBucket;
}

export interface PortalConnector {
  /** The Bitrix24 client and reader of a portal, made once and kept (its limiter must persist). */
  clientsFor(portal: PortalConfig): PortalClients;
  /** 503 `QUERY_LIMIT_EXCEEDED` answers the portal's client has had so far (0 before it exists). */
  rateLimitedCount(portalId: string): number;
  /**
   * Whether the portal's credentials are still to be written (the error says which secret and
   * why), else undefined. Other credential problems are left to the sync, which reports them.
   */
  awaitingCredentials(portal: PortalConfig): Promise<CredentialsAwaitingError | undefined>;
}

export interface PortalConnectorOptions {
  /** Called once per portal: the connector keeps the store it returns. */
  readonly credentialsFor: (portalId: string) => CredentialStore;
  /** Coordinates OAuth refreshes with other processes sharing the portal's stored pair. */
  readonly refreshLeaseFor?: ((portalId: string) => RefreshLease) | undefined;
  readonly logger?: AppLogger | undefined;
  /** Transport override (tests and the local runner trusting the simulator's certificate). */
  readonly fetch?: typeof globalThis.fetch | undefined;
  /** Per-request timeout and retry settings (tests shorten them; defaults: 60 s, 5 attempts). */
  readonly client?: PortalClientSettings | undefined;
  /** The current invocation's deadline (epoch ms), asked by every client before each wait. */
  readonly deadlineAt?: (() => number | undefined) | undefined;
}

/** The Bitrix24 client settings a composition root may override. */
export type PortalClientSettings = Pick<Bitrix24ClientOptions, 'timeoutMs' | 'retry'>;

/**
 * One Bitrix24 client per portal for the life of the process: a warm Lambda keeps its leaky
 * bucket, so consecutive invocations stay within the portal's rate limit.
 */
export function createPortalConnector(options: PortalConnectorOptions): PortalConnector {
  const clients = new Map<string, PortalClients>();
  const stores = new Map<string, CredentialStore>();
  const storeOf = (portalId: string): CredentialStore => {
    let store = stores.get(portalId);
    if (!store) {
      store = options.credentialsFor(portalId);
      stores.set(portalId, store);
    }
    return store;
  };
  return {
    async awaitingCredentials(portal) {
      try {
        // The store caches what it read: the sync that follows reads nothing twice.
        await storeOf(portal.id).load();
        return undefined;
      } catch (error) {
        return error instanceof CredentialsAwaitingError ? error : undefined;
      }
    },
    clientsFor(portal) {
      let entry = clients.get(portal.id);
      if (!entry) {
        const rateLimit = rateLimitOf(portal);
        const bucket = createLeakyBucket(bucketLimit(rateLimit));
        const client = createBitrix24Client({
          credentials: storeOf(portal.id),
          refreshLease: options.refreshLeaseFor?.(portal.id),
          bucket,
          ...options.client,
          deadlineAt: options.deadlineAt,
          fetch: options.fetch,
          logger: options.logger,
        });
        const reader = createBitrix24MemberReader(client);
        entry = { client, reader, bucket };
        clients.set(portal.id, entry);
      }
      return entry;
    },
    rateLimitedCount: (portalId) => clients.get(portalId)?.client.rateLimitedCount() ?? 0,
  };
}

export interface WorkerAppDeps {
  readonly config: Config;
  readonly connector: PortalConnector;
  readonly store: SnapshotStore;
  readonly publisher: EventPublisher;
  /** Where hinted work items record unfinished business and hint recall. */
  readonly hintStore?: HintStateStore | undefined;
  /** Shares each portal's rate budget with the other containers (taken up per work item). */
  readonly bucketStore?: BucketStateStore | undefined;
  readonly clock?: Clock | undefined;
  readonly logger?: AppLogger | undefined;
  /**
   * The current invocation's deadline (epoch ms; undefined: none), the same function the
   * connector's clients ask: the sync stops cleanly before it.
   */
  readonly deadlineAt?: (() => number | undefined) | undefined;
}

export interface WorkItemRun {
  /** The queue delivers this item again (an earlier attempt may have recorded outcomes). */
  readonly redelivered?: boolean;
}

export class UnknownPortalError extends Error {
  override readonly name = 'UnknownPortalError';
}

/**
 * Runs work items: the worker Lambda's and the local runner's shared composition. A portal whose
 * credentials are still to be written syncs nothing: the item is rejected with
 * `CredentialsAwaitingError` before any chat is read, so no chat is reported as failed. A hinted
 * item (with read reasons) then records its unfinished business and the changes it found for the
 * planner's next ticks and the recall counts; if that write fails, the item fails (retried)
 * rather than forget a failed chat.
 */
export function createWorkerApp(
  deps: WorkerAppDeps,
): (item: WorkItem, run?: WorkItemRun) => Promise<SyncReport> {
  const clock = deps.clock ?? { now: () => new Date() };
  const portals = new Map(deps.config.portals.map((p) => [p.id, p]));
  return async (item, run = {}) => {
    const portal = portals.get(item.portalId);
    if (!portal) {
      throw new UnknownPortalError(
        `work item names portal "${item.portalId}", which the config lacks`,
      );
    }
    const awaiting = await deps.connector.awaitingCredentials(portal);
    if (awaiting) throw awaiting;
    if (item.reasons && !deps.hintStore) {
      throw new Error('a hinted work item needs a hint store (wiring)');
    }
    const clients = deps.connector.clientsFor(portal);
    const handBack = deps.bucketStore
      ? await takeUpBucket(deps.bucketStore, portal.id, clients.bucket, (step, error) =>
          deps.logger?.warn(`could not ${step} the shared rate budget`, {
            portalId: portal.id,
            error: error instanceof Error ? error.name : String(error),
          }),
        )
      : undefined;
    try {
      const report = await syncWorkItem(
        {
          reader: clients.reader,
          store: deps.store,
          publisher: deps.publisher,
          clock,
          portal: { portalId: portal.id, source: portalSource(portal) },
          breaker: {
            maxRemovedShare: portal.breaker?.maxRemovedShare ?? deps.config.breaker.maxRemovedShare,
            minRemoved: portal.breaker?.minRemoved ?? deps.config.breaker.minRemoved,
          },
          logger: deps.logger,
          deadlineAt: deps.deadlineAt,
        },
        item,
      );
      const outcomes = readOutcomesOf(item, report, run);
      if (outcomes && deps.hintStore) {
        await deps.hintStore.recordOutcomes(portal.id, outcomes);
        if (outcomes.missed.length > 0) {
          await deps.hintStore
            .recordMisses(portal.id, outcomes.missed, clock.now().getTime())
            .catch((error: unknown) =>
              deps.logger?.warn('could not record misses for the learned reconcile', {
                portalId: portal.id,
                error: error instanceof Error ? error.name : String(error),
              }),
            );
        }
      }
      return report;
    } finally {
      await handBack?.();
    }
  };
}

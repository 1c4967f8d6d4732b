import { discoverGroupChats } from '../bitrix24/discover-chats.js';
import type { Config } from '../config/config-schema.js';
import { type PlanReport, planRun } from '../core/plan-run.js';
import type { WorkQueue } from '../core/work-queue.js';
import type { PortalConnector } from './worker-app.js';

export interface PlannerAppDeps {
  readonly config: Config;
  readonly connector: PortalConnector;
  readonly queue: WorkQueue;
}

/** A discovery portal left out of a tick because its credentials are still to be written. */
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
 * One schedule tick: explicit or discovered chats → work items of ≤ 50 chats → the FIFO queue.
 * Only discovery reads credentials here; a discovery portal awaiting them is skipped. Portals with
 * explicit chats are planned without reading their secret (the worker skips their items instead).
 */
export function createPlannerApp(
  deps: PlannerAppDeps,
): (scheduledAt: string) => Promise<PlannerReport> {
  const portals = new Map(deps.config.portals.map((p) => [p.id, p]));
  return async (scheduledAt) => {
    const checked = await Promise.all(
      deps.config.portals.map(async (portal) => ({
        portal,
        awaiting:
          'discover' in portal.chats ? await deps.connector.awaitingCredentials(portal) : undefined,
      })),
    );
    const report = await planRun(
      {
        queue: deps.queue,
        discoverChats: async (portalId) => {
          const portal = portals.get(portalId);
          if (!portal) throw new Error(`unknown portal "${portalId}"`);
          return discoverGroupChats(deps.connector.clientsFor(portal).client);
        },
      },
      checked
        .filter((c) => c.awaiting === undefined)
        .map(({ portal }) => ({ portalId: portal.id, chats: portal.chats })),
      scheduledAt,
    );
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

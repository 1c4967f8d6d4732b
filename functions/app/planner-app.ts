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

/** One schedule tick: explicit or discovered chats → work items of ≤ 50 chats → the FIFO queue. */
export function createPlannerApp(
  deps: PlannerAppDeps,
): (scheduledAt: string) => Promise<PlanReport> {
  const portals = new Map(deps.config.portals.map((p) => [p.id, p]));
  return (scheduledAt) =>
    planRun(
      {
        queue: deps.queue,
        discoverChats: async (portalId) => {
          const portal = portals.get(portalId);
          if (!portal) throw new Error(`unknown portal "${portalId}"`);
          return discoverGroupChats(deps.connector.clientsFor(portal).client);
        },
      },
      deps.config.portals.map((p) => ({ portalId: p.id, chats: p.chats })),
      scheduledAt,
    );
}

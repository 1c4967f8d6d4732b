import type { ChatId } from './model.js';
import { planWorkItems } from './plan-work-items.js';
import type { WorkQueue } from './work-queue.js';

/** The planner's view of a configured portal. */
export interface PortalPlan {
  readonly portalId: string;
  readonly chats:
    | readonly ChatId[]
    | { readonly discover: true; readonly exclude: readonly ChatId[] };
}

export interface PlanRunDeps {
  readonly queue: WorkQueue;
  /** Chat discovery (`im.recent.list`) for portals configured with `discover`. */
  readonly discoverChats: (portalId: string) => Promise<readonly ChatId[]>;
}

export interface PortalPlanOutcome {
  readonly portalId: string;
  readonly chats: number;
  readonly workItems: number;
  readonly error?: string;
}

export interface PlanReport {
  readonly scheduledAt: string;
  readonly portals: readonly PortalPlanOutcome[];
  readonly failed: number;
}

/**
 * One schedule tick: for each portal, resolve its chats and enqueue work items. A portal whose
 * discovery or enqueue fails is reported and does not stop the others; the caller decides whether
 * a partial plan fails the invocation (so that Lambda's asynchronous retries re-run it; the
 * deduplication IDs make a re-run enqueue nothing twice).
 */
export async function planRun(
  deps: PlanRunDeps,
  portals: readonly PortalPlan[],
  scheduledAt: string,
): Promise<PlanReport> {
  const outcomes = await Promise.all(
    portals.map(async (portal): Promise<PortalPlanOutcome> => {
      try {
        const chats =
          'discover' in portal.chats
            ? await discovered(deps, portal.portalId, portal.chats.exclude)
            : portal.chats;
        const items = planWorkItems(portal.portalId, chats, scheduledAt);
        await deps.queue.enqueue(items);
        return { portalId: portal.portalId, chats: chats.length, workItems: items.length };
      } catch (error) {
        return {
          portalId: portal.portalId,
          chats: 0,
          workItems: 0,
          error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        };
      }
    }),
  );
  return { scheduledAt, portals: outcomes, failed: outcomes.filter((o) => o.error).length };
}

async function discovered(
  deps: PlanRunDeps,
  portalId: string,
  exclude: readonly ChatId[],
): Promise<ChatId[]> {
  const excluded = new Set(exclude);
  return (await deps.discoverChats(portalId)).filter((id) => !excluded.has(id));
}

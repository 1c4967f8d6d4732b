import { departedChats, type StoredChats } from './departed-chats.js';
import { safeMessage } from './errors.js';
import type { HintStateStore } from './hint-store.js';
import type { HintReader } from './hints.js';
import type { ChatId, ReadReason } from './model.js';
import { type CommitOutcome, planHintedPortal } from './plan-hinted-portal.js';
import { planWorkItems } from './plan-work-items.js';
import type { FullReadCause } from './select-reads.js';
import type { WorkQueue } from './work-queue.js';

/** The planner's view of a configured portal. */
export interface PortalPlan {
  readonly portalId: string;
  readonly chats:
    | readonly ChatId[]
    | { readonly discover: true; readonly exclude: readonly ChatId[] };
  /** Hinted reads (docs/bitrix24.md, "Recent list as change hints"); absent: every chat every tick. */
  readonly hinted?: {
    readonly reconcileMs: number;
    /** Fingerprint of what the hints depend on; a change makes the next tick full. */
    readonly settingsKey: string;
    /** Learned reconcile (`select-reads.ts`); default true. */
    readonly learnedReconcile?: boolean;
  };
}

export interface PlanRunDeps {
  readonly queue: WorkQueue;
  /** Chat discovery (`im.recent.list`) for portals configured with `discover`. */
  readonly discoverChats: (portalId: string) => Promise<readonly ChatId[]>;
  /**
   * The stored snapshots: a chat that has one but left the configured or discovered set is read
   * until it has said its last word (`departed-chats.ts`).
   */
  readonly storedChats: StoredChats;
  /** Needed when a portal reads hinted. */
  readonly hints?: {
    readonly store: HintStateStore;
    readonly readerFor: (portalId: string) => HintReader;
    /** The time between ticks (the schedule's period). */
    readonly tickMs: number;
  };
  /** Bitrix24 requests made for a portal so far (the planner's own: hints, discovery). */
  readonly requestCount?: ((portalId: string) => number) | undefined;
}

export interface PlanRunOptions {
  /** Read every chat of every portal in this tick (`--full`). */
  readonly forceFull?: boolean | undefined;
}

/** How a hinted portal's tick read, for reports and the demo. */
export interface ReadSummary {
  /** Why every chat is read; absent for a hinted tick. */
  readonly fullCause?: FullReadCause;
  /** Why the hints could not be used. */
  readonly hintsError?: string;
  /** Why the stored chats could not be compared with the set (remembered departures still read). */
  readonly departedError?: string;
  /** Chats read, by reason. */
  readonly byReason: Partial<Record<ReadReason, number>>;
  /** Chats the learned reconcile remembers for the spare slots (0: none, or it is off). */
  readonly learned: number;
  readonly stateSaved: CommitOutcome;
}

export interface PortalPlanOutcome {
  readonly portalId: string;
  /** Chats the tick covers. */
  readonly chats: number;
  /** Chats enqueued for reading (all of them unless hinted), departed ones included. */
  readonly reads: number;
  /** Chats read because they left the set and still owe their last word. */
  readonly departed?: number;
  /** Full reads: why the stored chats could not be compared with the set this tick. */
  readonly departedError?: string;
  readonly workItems: number;
  /** Bitrix24 requests the planner made for the portal (hints, discovery). */
  readonly bitrix24Requests?: number;
  readonly hinted?: ReadSummary;
  readonly error?: string;
}

export interface PlanReport {
  readonly scheduledAt: string;
  readonly portals: readonly PortalPlanOutcome[];
  readonly failed: number;
}

/**
 * One schedule tick: for each portal, resolve the chats to read and enqueue work items. Full
 * reads: every configured (or discovered) chat. Hinted reads: the chats `planHintedPortal`
 * picks, with their reasons, then the portal's hint state is stored (only after the items were
 * accepted, so a failed enqueue re-plans from the same state). A portal whose planning fails is
 * reported and does not stop the others; the caller decides whether a partial plan fails the
 * invocation (so that Lambda's asynchronous retries re-run it; the deduplication IDs make a
 * re-run enqueue nothing twice).
 */
export async function planRun(
  deps: PlanRunDeps,
  portals: readonly PortalPlan[],
  scheduledAt: string,
  options: PlanRunOptions = {},
): Promise<PlanReport> {
  const outcomes = await Promise.all(
    portals.map(async (portal): Promise<PortalPlanOutcome> => {
      // A portal whose client cannot be made (a missing secret) fails below, with the others going on.
      const count = () => {
        try {
          return deps.requestCount?.(portal.portalId);
        } catch {
          return undefined;
        }
      };
      const requestsBefore = count();
      const requests = () => {
        const after = count();
        return requestsBefore === undefined || after === undefined
          ? {}
          : { bitrix24Requests: after - requestsBefore };
      };
      try {
        if (portal.hinted) {
          const hinted = await planHinted(deps, portal, portal.hinted, scheduledAt, options);
          return { ...hinted, ...requests() };
        }
        const chats =
          'discover' in portal.chats
            ? await discovered(deps, portal.portalId, portal.chats.exclude)
            : portal.chats;
        // A failure here must not stop the configured chats' reads: the next tick looks again.
        let departed: ChatId[] = [];
        let departedError: string | undefined;
        try {
          const stored = await deps.storedChats.listChatIds(portal.portalId);
          departed = await departedChats(deps.storedChats, portal.portalId, stored, chats);
        } catch (error) {
          departedError = safeMessage(error);
        }
        const items = planWorkItems(
          portal.portalId,
          [...chats, ...departed],
          scheduledAt,
          undefined,
          new Set(departed),
        );
        await deps.queue.enqueue(items);
        return {
          portalId: portal.portalId,
          chats: chats.length,
          reads: new Set(chats).size + departed.length,
          ...(departed.length === 0 ? {} : { departed: departed.length }),
          ...(departedError === undefined ? {} : { departedError }),
          workItems: items.length,
          ...requests(),
        };
      } catch (error) {
        return {
          portalId: portal.portalId,
          chats: 0,
          reads: 0,
          workItems: 0,
          ...requests(),
          error: safeMessage(error),
        };
      }
    }),
  );
  return { scheduledAt, portals: outcomes, failed: outcomes.filter((o) => o.error).length };
}

async function planHinted(
  deps: PlanRunDeps,
  portal: PortalPlan,
  hinted: NonNullable<PortalPlan['hinted']>,
  scheduledAt: string,
  options: PlanRunOptions,
): Promise<PortalPlanOutcome> {
  if (!deps.hints) throw new Error('hinted reads need a hint store (wiring)');
  const plan = await planHintedPortal(
    {
      store: deps.hints.store,
      reader: deps.hints.readerFor(portal.portalId),
      discoverChats: () => deps.discoverChats(portal.portalId),
      storedChats: deps.storedChats,
    },
    {
      portalId: portal.portalId,
      chats: portal.chats,
      reconcileMs: hinted.reconcileMs,
      tickMs: deps.hints.tickMs,
      settingsKey: hinted.settingsKey,
      forceFull: options.forceFull === true,
      learnedReconcile: hinted.learnedReconcile ?? true,
    },
  );
  const items = planWorkItems(
    portal.portalId,
    [...plan.reads.keys()],
    scheduledAt,
    plan.reads,
    plan.departed,
  );
  await deps.queue.enqueue(items);
  const stateSaved = await plan.commit();
  const byReason: Partial<Record<ReadReason, number>> = {};
  for (const reason of plan.reads.values()) byReason[reason] = (byReason[reason] ?? 0) + 1;
  return {
    portalId: portal.portalId,
    chats: plan.chats,
    reads: plan.reads.size,
    ...(plan.departed.size === 0 ? {} : { departed: plan.departed.size }),
    workItems: items.length,
    hinted: {
      ...(plan.fullCause === undefined ? {} : { fullCause: plan.fullCause }),
      ...(plan.hintsError === undefined ? {} : { hintsError: plan.hintsError }),
      ...(plan.departedError === undefined ? {} : { departedError: plan.departedError }),
      byReason,
      learned: plan.learned,
      stateSaved,
    },
  };
}

async function discovered(
  deps: PlanRunDeps,
  portalId: string,
  exclude: readonly ChatId[],
): Promise<ChatId[]> {
  const excluded = new Set(exclude);
  return (await deps.discoverChats(portalId)).filter((id) => !excluded.has(id));
}

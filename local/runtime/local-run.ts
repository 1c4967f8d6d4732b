import { type AppLogger, silentLogger } from '../../functions/app/observability.js';
import { createPlannerApp } from '../../functions/app/planner-app.js';
import { createPortalConnector, createWorkerApp } from '../../functions/app/worker-app.js';
import type { ChatId } from '../../functions/core/model.js';
import type { PlanReport } from '../../functions/core/plan-run.js';
import type { ChatOutcome, SyncReport } from '../../functions/core/sync-report.js';
import type { PlannedWorkItem } from '../../functions/core/work-queue.js';
import { createStaticCredentialStore } from '../adapters/static-credential-store.js';
import type { LocalRunConfig } from '../cli/resolve-run-config.js';
import type { LocalEnvironment } from './local-environment.js';

/** Outcomes after which the chat's snapshot reflects the portal. */
const SYNCED: ReadonlySet<ChatOutcome> = new Set(['unchanged', 'changed', 'baseline', 'released']);

export interface ChatProblem {
  readonly portalId: string;
  readonly chatId: ChatId | undefined;
  readonly outcome: ChatOutcome | 'discovery_failed';
  readonly reason: string;
}

export interface LocalRunResult {
  /** What the planner decided per portal (hinted: which chats and why). */
  readonly plan: PlanReport;
  readonly reports: readonly SyncReport[];
  readonly problems: readonly ChatProblem[];
  readonly chats: number;
  readonly events: number;
  /** The planner's requests (hints, discovery) and the workers'. */
  readonly bitrix24Requests: number;
  /** Of those, the ones refused with 503 QUERY_LIMIT_EXCEEDED (and retried), by portal. */
  readonly rateLimited: ReadonlyMap<string, number>;
}

export interface RunProgress {
  start(totalChats: number): void;
  advance(chats: number, report: SyncReport): void;
  stop(): void;
}

const noProgress: RunProgress = { start() {}, advance() {}, stop() {} };

export interface RunOptions {
  /** Read every chat in this run (`--full`). */
  readonly full?: boolean;
}

export interface LocalRunner {
  runOnce(progress?: RunProgress, options?: RunOptions): Promise<LocalRunResult>;
}

/**
 * `membership-sync sync`: the planner's and the worker's composition run in-process: every
 * configured chat (explicit or discovered) in work items of ≤ 50 chats, one at a time, the way
 * the FIFO queue serialises a portal's items in AWS. Clients persist across runs (`watch`) so
 * the rate limiter does.
 */
export function createLocalRunner(
  run: LocalRunConfig,
  environment: LocalEnvironment,
  logger: AppLogger = silentLogger,
  /** The time between runs (`watch --every`); default: the config's schedule. */
  tickMs?: number,
): LocalRunner {
  const connector = createPortalConnector({
    // The connector asks once per portal and keeps the store.
    credentialsFor: (portalId) => {
      const credentials = run.credentials.get(portalId);
      if (!credentials) throw new Error(`no credentials for portal "${portalId}"`);
      return createStaticCredentialStore(credentials);
    },
    logger,
    ...(environment.fetch ? { fetch: environment.fetch } : {}),
  });
  // The planner's "queue" locally: the run's list of work items.
  let planned: PlannedWorkItem[] = [];
  const plan = createPlannerApp({
    config: run.config,
    connector,
    queue: {
      enqueue: async (items) => {
        planned.push(...items);
      },
    },
    storedChats: environment.store,
    hintStore: environment.hintStore,
    ...(tickMs === undefined ? {} : { tickMs }),
  });
  const sync = createWorkerApp({
    config: run.config,
    connector,
    store: environment.store,
    hintStore: environment.hintStore,
    publisher: environment.publisher,
    logger,
  });

  return {
    async runOnce(progress = noProgress, options = {}) {
      const problems: ChatProblem[] = [];
      planned = [];
      const report = await plan(new Date().toISOString(), { forceFull: options.full === true });
      for (const portal of report.portals) {
        if (portal.error === undefined) continue;
        problems.push({
          portalId: portal.portalId,
          chatId: undefined,
          outcome: 'discovery_failed',
          reason: portal.error,
        });
      }

      progress.start(planned.reduce((n, p) => n + p.item.chatIds.length, 0));
      const reports: SyncReport[] = [];
      const rateLimited = new Map<string, number>();
      try {
        for (const { item } of planned) {
          const limitedBefore = connector.rateLimitedCount(item.portalId);
          const report = await sync(item);
          const limited = connector.rateLimitedCount(item.portalId) - limitedBefore;
          rateLimited.set(item.portalId, (rateLimited.get(item.portalId) ?? 0) + limited);
          reports.push(report);
          progress.advance(item.chatIds.length, report);
          for (const chat of report.chats) {
            if (SYNCED.has(chat.outcome)) continue;
            problems.push({
              portalId: report.portalId,
              chatId: chat.chatId,
              outcome: chat.outcome,
              reason: chat.error
                ? `${chat.error.code}: ${chat.error.message}`
                : chat.outcome === 'held'
                  ? `mass change held (${chat.heldLeft} leaves); check it, then run: membership-sync release --portal ${report.portalId} --chat ${chat.chatId}`
                  : chat.outcome,
            });
          }
        }
      } finally {
        progress.stop();
      }
      return {
        plan: report,
        reports,
        problems,
        chats: reports.reduce((n, r) => n + r.totals.chats, 0),
        events: reports.reduce((n, r) => n + r.totals.events, 0),
        bitrix24Requests:
          report.portals.reduce((n, p) => n + (p.bitrix24Requests ?? 0), 0) +
          reports.reduce((n, r) => n + r.bitrix24Requests, 0),
        rateLimited,
      };
    },
  };
}

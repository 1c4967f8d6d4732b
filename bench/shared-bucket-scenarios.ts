/**
 * Our sync on a portal whose rate limit it shares (docs/bitrix24-rate-limits.md): beside another
 * integration's steady load, and beside a second sync of ours started at the same moment. Used
 * by `npm run shared-bucket` (many runs), `npm run bench` (times against the ideal) and the tests.
 *
 * Each run gets a fresh portal bucket (empty, as after a quiet spell) and fresh jobs (clients
 * that have seen no 503 yet, as in a new process); the chats are already synced, so a run is
 * the steady state: one `batch` request per 50 chats, nothing to write or publish (which is also
 * why two jobs may share one snapshot table).
 */
import type { ChatId, WorkItem } from '../functions/core/model.js';
import { planWorkItems } from '../functions/core/plan-work-items.js';
import type { ChatOutcome, SyncReport } from '../functions/core/sync-report.js';
import type { SimulatorStats } from '../local/simulator/types.js';

export interface BucketLimit {
  readonly burst: number;
  readonly drainPerSecond: number;
}

/** The portal controls the scenarios need: an in-process simulator or the bench's child. */
export interface SharedPortal {
  /** A fresh, empty bucket (or none). */
  setRateLimit(limit: BucketLimit | false): Promise<void>;
  /** Other integrations' requests per portal second. */
  setCompetingLoad(perSecond: number): Promise<void>;
  stats(): Promise<SimulatorStats>;
  resetStats(): Promise<void>;
}

/** One sync job with its own Bitrix24 client. */
export interface SyncJob {
  readonly sync: (item: WorkItem) => Promise<SyncReport>;
  rateLimitedCount(): number;
  close(): void;
}

/** Makes a job whose client models `limit` (the portal's bucket, in real time). */
export type JobFactory = (limit: BucketLimit) => Promise<SyncJob>;

export interface SyncRun {
  readonly chats: number;
  /** Chats whose outcome is not a completed sync (failed, conflict, ...). */
  readonly unsynced: number;
  readonly requests: number;
  readonly rateLimited: number;
  readonly wallMs: number;
}

export interface ScenarioRun {
  readonly syncs: readonly SyncRun[];
  readonly competingRequests: number;
  readonly wallMs: number;
}

/** The tests' and the script's bar: at most this share of our requests answered 503. */
export const MAX_RATE_LIMITED_SHARE = 0.05;

const SYNCED: ReadonlySet<ChatOutcome> = new Set(['unchanged', 'changed', 'baseline', 'released']);

export const rateLimitedShare = (run: Pick<SyncRun, 'requests' | 'rateLimited'>): number =>
  run.requests === 0 ? 0 : run.rateLimited / run.requests;

/** Every chat synced in every sync, and each sync's 503 share within the bar. */
export function passed(run: ScenarioRun): boolean {
  return run.syncs.every((s) => s.unsynced === 0 && rateLimitedShare(s) <= MAX_RATE_LIMITED_SHARE);
}

/**
 * Fastest possible time (ms) for the requests `syncs` got through (503s do not fill the bucket),
 * starting empty, with others using `competitor` of the drain: the burst at once, the rest at
 * the drain they leave.
 */
export function idealMs(
  syncs: readonly Pick<SyncRun, 'requests' | 'rateLimited'>[],
  limit: BucketLimit,
  competitor = 0,
): number {
  const admitted = syncs.reduce((n, s) => n + s.requests - s.rateLimited, 0);
  return (Math.max(0, admitted - limit.burst) / (limit.drainPerSecond - competitor)) * 1000;
}

/** Syncs every chat once with the bucket off, so that the runs are the steady state. */
export async function prepare(
  portal: SharedPortal,
  newJob: JobFactory,
  portalId: string,
  chatIds: readonly ChatId[],
): Promise<void> {
  await portal.setRateLimit(false);
  const job = await newJob({ burst: 1_000_000_000, drainPerSecond: 1_000_000 });
  try {
    const run = await runSync(job, portalId, chatIds);
    if (run.unsynced > 0) throw new Error(`${run.unsynced} chats failed to sync`);
  } finally {
    job.close();
  }
}

/** One job syncing `chatIds` work item by work item, as the FIFO queue feeds a portal's items. */
export async function runSync(
  job: SyncJob,
  portalId: string,
  chatIds: readonly ChatId[],
): Promise<SyncRun> {
  const items = planWorkItems(portalId, chatIds, new Date().toISOString());
  const limitedBefore = job.rateLimitedCount();
  const started = performance.now();
  let requests = 0;
  let unsynced = 0;
  for (const { item } of items) {
    const report = await job.sync(item);
    requests += report.bitrix24Requests;
    unsynced += report.chats.filter((c) => !SYNCED.has(c.outcome)).length;
  }
  return {
    chats: chatIds.length,
    unsynced,
    requests,
    rateLimited: job.rateLimitedCount() - limitedBefore,
    wallMs: Math.round(performance.now() - started),
  };
}

export interface ScenarioOptions {
  readonly portal: SharedPortal;
  readonly newJob: JobFactory;
  readonly portalId: string;
  /** The portal's bucket in real time (the simulator's, scaled by its timeScale). */
  readonly limit: BucketLimit;
  /** The portal's bucket as the simulator is configured (portal time). */
  readonly portalLimit: BucketLimit;
}

/** One sync of `chatIds` beside another integration sending `competitor` per portal second. */
export async function besideCompetitor(
  options: ScenarioOptions & { readonly chatIds: readonly ChatId[]; readonly competitor: number },
): Promise<ScenarioRun> {
  return scenario(options, options.competitor, 1, options.chatIds);
}

/** Two syncs of `chatIds`, each with its own client, started at the same moment. */
export async function twoSyncs(
  options: ScenarioOptions & { readonly chatIds: readonly ChatId[] },
): Promise<ScenarioRun> {
  return scenario(options, 0, 2, options.chatIds);
}

async function scenario(
  options: ScenarioOptions,
  competitor: number,
  syncCount: number,
  chatIds: readonly ChatId[],
): Promise<ScenarioRun> {
  const { portal } = options;
  const jobs = await Promise.all(
    Array.from({ length: syncCount }, () => options.newJob(options.limit)),
  );
  await portal.setRateLimit(options.portalLimit);
  await portal.setCompetingLoad(competitor);
  await portal.resetStats();
  const started = performance.now();
  try {
    const runs = await Promise.all(jobs.map((job) => runSync(job, options.portalId, chatIds)));
    const wallMs = Math.round(performance.now() - started);
    const stats = await portal.stats();
    return { syncs: runs, competingRequests: stats.competingRequests, wallMs };
  } finally {
    await portal.setCompetingLoad(0);
    await portal.setRateLimit(false);
    for (const job of jobs) job.close();
  }
}

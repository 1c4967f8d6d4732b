import type { BucketLevel, LeakyBucket } from './leaky-bucket.js';

/**
 * One rate budget per portal across processes. The portal's leaky bucket (docs/bitrix24.md)
 * counts every request from every container, but each container's client models only its own:
 * a work item on a fresh container would start from an empty model and send a burst into a
 * bucket its predecessor just filled. So the model's counter lives with the portal between work
 * items: taken up at the start (the fuller of it and the local one) and handed back at the end,
 * conditional on the version taken. Implemented by `functions/adapters/dynamodb-bucket-store.ts`.
 */
export interface BucketStateStore {
  take(portalId: string): Promise<TakenBucket>;
  /**
   * Hands `level` back. When another process handed back since `taken` (both ran at once, e.g.
   * the planner beside a worker), stores ours plus what the other added beyond what was taken.
   */
  handBack(portalId: string, level: BucketLevel, taken: TakenBucket): Promise<void>;
}

export interface TakenBucket {
  /** Absent: nothing stored yet. */
  readonly level?: BucketLevel;
  readonly version?: number;
}

/**
 * Two processes took up `base` and each handed back a counter: the requests both added count
 * once each. Leaks between their hand-back times are ignored, which only overestimates (safe).
 */
export function mergeLevels(
  ours: BucketLevel,
  theirs: BucketLevel,
  base: BucketLevel | undefined,
): BucketLevel {
  const added = Math.max(0, theirs.level - (base?.level ?? 0));
  return { level: ours.level + added, at: Math.max(ours.at, theirs.at) };
}

/**
 * Takes up the portal's stored counter into `bucket` and returns the hand-back. A store that
 * cannot be read leaves the local model as it is (the sync's own DynamoDB reads fail then too);
 * a failed hand-back is reported to `onError` and otherwise ignored (the next taker's counter is
 * only older, and the client still backs off on a 503).
 *
 * With `skipBelowOneRequest` a counter below one request is not handed back: it would tell the
 * next taker less than one request, and skipping it saves a write. Only for a process that runs
 * alone between long pauses (the planner: a quiet tick's one hints call, a minute from the
 * next). Work items run back to back, each of one batch: if they skipped, the requests of a run
 * of them would add up in the portal's bucket with no one counting them.
 */
export async function takeUpBucket(
  store: BucketStateStore,
  portalId: string,
  bucket: LeakyBucket,
  onError?: (step: 'take' | 'hand back', error: unknown) => void,
  options: { readonly skipBelowOneRequest?: boolean } = {},
): Promise<() => Promise<void>> {
  let taken: TakenBucket = {};
  try {
    taken = await store.take(portalId);
    if (taken.level) bucket.takeOver(taken.level);
  } catch (error) {
    onError?.('take', error);
  }
  return async () => {
    const level = bucket.handOver();
    if (options.skipBelowOneRequest && level.level < 1) return;
    try {
      await store.handBack(portalId, level, taken);
    } catch (error) {
      onError?.('hand back', error);
    }
  };
}

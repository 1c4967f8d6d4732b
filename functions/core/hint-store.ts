import type { ChatId } from './model.js';
import type { HintState, UnfinishedKind } from './select-reads.js';

/**
 * Changes found in hinted mode, counted where they were found: in a chat the hints named, or by
 * a reconcile read of a chat they did not name (a miss). Recall = byHint / (byHint + byReconcile).
 */
export interface HintRecall {
  readonly byHint: number;
  readonly byReconcile: number;
}

/** Everything stored about a portal's hinted reads, loaded in one read. */
export interface StoredHints {
  /** The planner's state; undefined when none is stored or it cannot be read back. */
  readonly state: HintState | undefined;
  /** The version to save the next state on (undefined: nothing stored yet). */
  readonly version: number | undefined;
  /** Chats whose last read left unfinished business, as the workers reported them. */
  readonly unfinished: ReadonlyMap<ChatId, UnfinishedKind>;
  readonly recall: HintRecall;
  /**
   * Learned reconcile: chats where a reconcile read found a change the hints had missed, with
   * when it was recorded (epoch ms, the worker's clock). Chats read page by page are left out:
   * reading them early would cost requests.
   */
  readonly misses: ReadonlyMap<ChatId, number>;
  /**
   * The portal's shared rate budget as last handed back, when the store keeps it beside the
   * state (the same read returns it, so the planner takes it up without a read of its own).
   */
  readonly bucket?: StoredBucket;
}

/** A rate-budget counter as handed back between processes (`functions/bitrix24/shared-bucket.ts`). */
export interface StoredBucket {
  readonly level: number;
  /** Epoch ms at which `level` was the counter. */
  readonly at: number;
  readonly version?: number;
}

/** What one work item's sync says about its chats (written by the worker). */
export interface ReadOutcomes {
  /** Chats to read again next tick. */
  readonly unfinished: ReadonlyMap<ChatId, UnfinishedKind>;
  /** Chats whose unfinished business is done. */
  readonly finished: readonly ChatId[];
  /** Changes found, added to the portal's recall counts. */
  readonly detected: HintRecall;
  /** Chats read in one batched command where a reconcile read found a change (misses). */
  readonly missed: readonly ChatId[];
}

/**
 * Per-portal hint state, beside the snapshots. The planner owns the state (one writer per tick,
 * conditional on the version it loaded); the workers own the unfinished business and the recall
 * counts (per-chat writes that never conflict). Implemented by
 * `functions/adapters/dynamodb-hint-store.ts`.
 */
export interface HintStateStore {
  load(portalId: string): Promise<StoredHints>;
  /** @throws {HintStateConflictError} when another planner saved since `expectedVersion`. */
  saveState(portalId: string, state: HintState, expectedVersion: number | undefined): Promise<void>;
  /** Writes nothing when there is nothing to record. */
  recordOutcomes(portalId: string, outcomes: ReadOutcomes): Promise<void>;
  /**
   * Records `ReadOutcomes.missed` at `at` (epoch ms). Learning only: a caller may go on when it
   * fails.
   */
  recordMisses(portalId: string, chatIds: readonly ChatId[], at: number): Promise<void>;
  /**
   * Forgets misses, each only if it is still the one given (a newer miss of the chat stays).
   * Best effort: a miss recorded meanwhile makes it forget nothing this time.
   */
  forgetMisses(portalId: string, misses: ReadonlyMap<ChatId, number>): Promise<void>;
}

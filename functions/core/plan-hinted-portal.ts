import { departedChats, type StoredChats } from './departed-chats.js';
import { HintStateConflictError, safeMessage } from './errors.js';
import { hintStateUnchanged } from './hint-state-unchanged.js';
import type { HintStateStore, StoredHints } from './hint-store.js';
import { HINT_SAFETY_MARGIN_MS, type HintReader, type HintsRead } from './hints.js';
import type { ChatId, ReadReason } from './model.js';
import { type FullReadCause, fullReadCause, type HintState, selectReads } from './select-reads.js';

export interface HintedPortal {
  readonly portalId: string;
  readonly chats:
    | readonly ChatId[]
    | { readonly discover: true; readonly exclude: readonly ChatId[] };
  readonly reconcileMs: number;
  readonly tickMs: number;
  /** Fingerprint of what the hints depend on (portal, credentials, read settings). */
  readonly settingsKey: string;
  readonly forceFull: boolean;
  /** Learned reconcile (`select-reads.ts`); false: uniform. */
  readonly learnedReconcile: boolean;
}

/** A miss teaches the learned reconcile for this long (epoch ms on the workers' clocks). */
export const MISS_MEMORY_MS = 7 * 24 * 3_600_000;
/** At most this many chats are remembered for the learned reconcile (the newest misses). */
export const MAX_LEARNED_CHATS = 1_000;

export interface HintedPlanDeps {
  readonly store: HintStateStore;
  readonly reader: HintReader;
  /** Every group chat the integration user is in (`im.recent.list`), for `discover` portals. */
  readonly discoverChats: () => Promise<readonly ChatId[]>;
  readonly storedChats: StoredChats;
}

/** What a hinted tick decided for one portal. */
export interface HintedPlan {
  /** The chats to read and why, ascending by chat ID. */
  readonly reads: ReadonlyMap<ChatId, ReadReason>;
  /** The chats the tick covers (read or not). */
  readonly chats: number;
  /** Why every chat is read; undefined for a hinted tick. */
  readonly fullCause: FullReadCause | undefined;
  /** Why the hints could not be used (the tick reads every chat). */
  readonly hintsError?: string;
  /** Chats among `reads` that left the set and are read for their last word. */
  readonly departed: ReadonlySet<ChatId>;
  /** Chats the learned reconcile remembers (read as `learned` when a slot is free). */
  readonly learned: number;
  /** Why the departed chats could not be found afresh (the remembered ones are read). */
  readonly departedError?: string;
  /** Stores the state for the next tick: call once the reads are enqueued. */
  commit(): Promise<CommitOutcome>;
}

/**
 * `unchanged`: nothing to store (no state, the hints failed, or only the watermark moved:
 * `hint-state-unchanged.ts`). `conflict`: another planner stored a state meanwhile; the next
 * tick plans from that one.
 */
export type CommitOutcome = 'saved' | 'unchanged' | 'conflict';

/**
 * One portal's hinted tick (docs/bitrix24.md, "Recent list as change hints"): load the stored
 * state, read the hints since the watermark minus the safety margin, resolve the chats (the
 * configured list; for `discover` portals the known chats plus those the hints name, discovered
 * afresh on full ticks and once per reconcile period), then {@link selectReads}. A stored state
 * that cannot be loaded makes the tick full and leaves the store alone.
 */
export async function planHintedPortal(
  deps: HintedPlanDeps,
  portal: HintedPortal,
): Promise<HintedPlan> {
  let stored: StoredHints | undefined;
  try {
    stored = await deps.store.load(portal.portalId);
  } catch {
    stored = undefined;
  }
  const state = stored?.state;
  // The very first hints call is bounded by the local clock: its rows are not used.
  const since = (state ? state.watermark : Date.now()) - HINT_SAFETY_MARGIN_MS;
  let hints: HintsRead | undefined;
  let hintsError: string | undefined;
  try {
    hints = await deps.reader.readHints(since);
  } catch (error) {
    hintsError = safeMessage(error);
  }

  const cause = fullReadCause({
    state,
    hints,
    settingsKey: portal.settingsKey,
    forceFull: portal.forceFull,
  });
  const { chatIds, discoveredAt } = await chatsOf(deps, portal, state, hints, cause);
  // A full tick lists the stored chats (a chat may have left the set while no state was kept);
  // other ticks compare with the chats the state remembers.
  let departed: readonly ChatId[] = state?.departed ?? [];
  let departedError: string | undefined;
  try {
    const known =
      cause !== undefined || !state
        ? await deps.storedChats.listChatIds(portal.portalId)
        : [...state.chats.keys(), ...(state.departed ?? [])];
    departed = await departedChats(deps.storedChats, portal.portalId, known, chatIds);
  } catch (error) {
    departedError = safeMessage(error);
  }
  const { learned, forget } = learnedChats(stored?.misses ?? new Map(), Date.now());
  const selection = selectReads({
    chatIds,
    state,
    settingsKey: portal.settingsKey,
    hints,
    unfinished: stored?.unfinished ?? new Map(),
    reconcileMs: portal.reconcileMs,
    tickMs: portal.tickMs,
    forceFull: portal.forceFull,
    departed,
    ...(portal.learnedReconcile ? { learned } : {}),
  });

  return {
    reads: selection.reads,
    chats: chatIds.length,
    fullCause: selection.fullCause,
    departed: new Set(departed.filter((id) => selection.reads.has(id))),
    learned: portal.learnedReconcile ? learned.length : 0,
    ...(hintsError === undefined ? {} : { hintsError }),
    ...(departedError === undefined ? {} : { departedError }),
    async commit() {
      // Learning only: what is not forgotten now is tried again next tick.
      if (forget.size > 0) await deps.store.forgetMisses(portal.portalId, forget).catch(() => {});
      if (!stored || !selection.next) return 'unchanged';
      const next: HintState =
        discoveredAt === undefined ? selection.next : { ...selection.next, discoveredAt };
      if (hintStateUnchanged(stored.state, next, portal.reconcileMs)) return 'unchanged';
      try {
        await deps.store.saveState(portal.portalId, next, stored.version);
        return 'saved';
      } catch (error) {
        if (error instanceof HintStateConflictError) return 'conflict';
        throw error;
      }
    },
  };
}

/**
 * The misses the learned reconcile uses (newest first, at most {@link MAX_LEARNED_CHATS}, none
 * older than {@link MISS_MEMORY_MS}) and those the store may forget.
 */
function learnedChats(
  misses: ReadonlyMap<ChatId, number>,
  now: number,
): { learned: ChatId[]; forget: Map<ChatId, number> } {
  const newestFirst = [...misses].sort(([a, at], [b, bt]) => bt - at || a - b);
  const kept = newestFirst
    .filter(([, at]) => now - at <= MISS_MEMORY_MS)
    .slice(0, MAX_LEARNED_CHATS);
  const keep = new Set(kept.map(([chatId]) => chatId));
  return {
    learned: [...keep],
    forget: new Map(newestFirst.filter(([chatId]) => !keep.has(chatId))),
  };
}

async function chatsOf(
  deps: HintedPlanDeps,
  portal: HintedPortal,
  state: HintState | undefined,
  hints: HintsRead | undefined,
  cause: FullReadCause | undefined,
): Promise<{ chatIds: readonly ChatId[]; discoveredAt?: number }> {
  if (!('discover' in portal.chats)) return { chatIds: portal.chats };
  const excluded = new Set(portal.chats.exclude);
  const rediscover =
    cause !== undefined ||
    !state ||
    !hints ||
    state.discoveredAt === undefined ||
    hints.portalTime - state.discoveredAt >= portal.reconcileMs;
  if (rediscover) {
    const found = (await deps.discoverChats()).filter((id) => !excluded.has(id));
    return { chatIds: found, ...(hints ? { discoveredAt: hints.portalTime } : {}) };
  }
  // Chats the integration user was added to since the last discovery show up in the hints.
  const known = new Set(state.chats.keys());
  for (const hint of hints.hints) if (!excluded.has(hint.chatId)) known.add(hint.chatId);
  return { chatIds: [...known] };
}

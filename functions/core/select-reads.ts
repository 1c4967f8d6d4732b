import { HINT_SAFETY_MARGIN_MS, HINT_WINDOW_MS, type HintsRead, type RecentHint } from './hints.js';
import { type ChatId, MAX_CHATS_PER_WORK_ITEM, type ReadReason } from './model.js';

/** Why a tick reads every chat. */
export type FullReadCause =
  | 'forced'
  | 'no_state'
  | 'settings_changed'
  | 'hints_failed'
  | 'gap'
  | 'clock';

/** Chat states the worker reports that need another read next tick (unfinished business). */
export type UnfinishedKind = 'failed' | 'held' | 'access_lost';

export interface ChatHintState {
  /**
   * Portal time (epoch ms) by which a complete read of the chat had begun: the hints call of
   * the tick that planned it. A full tick backdates its chats in equal groups, one group per
   * tick of the reconcile period, so that their next reconciles come in equal slices.
   */
  readonly lastFullReadAt: number;
  /**
   * `user_counter` (active members) of the chat's row in `HintState.recentRows`: the only rows
   * whose counter is compared (any other row that comes back is news anyway), so the only ones
   * kept.
   */
  readonly activeCount?: number;
}

/** What the planner remembers about one portal between ticks (the worker's part is separate). */
export interface HintState {
  /** Portal time (epoch ms, `time.date_start`) of the last hints call that succeeded. */
  readonly watermark: number;
  /** Fingerprint of the settings the hints depend on; another value makes the tick full. */
  readonly settingsKey: string;
  /** Every chat the portal's reads cover, by ID. */
  readonly chats: ReadonlyMap<ChatId, ChatHintState>;
  /**
   * Rows already acted upon that the next hints call returns again (their `date_update` lies
   * within the safety margin before the watermark): chat → `date_update`. Recognising them keeps
   * the margin free of repeated reads.
   */
  readonly recentRows: ReadonlyMap<ChatId, number>;
  /** Portal time of the last chat discovery (portals configured with `discover`). */
  readonly discoveredAt?: number;
  /**
   * Chats that left the configured or discovered set and still owe subscribers their last word
   * (`departed-chats.ts`); not in `chats`. Remembered so that a tick that does not list the
   * stored chats still reads them.
   */
  readonly departed?: readonly ChatId[];
}

export interface SelectReadsInput {
  /** The chats this tick covers (configured, or discovered plus new ones the hints named). */
  readonly chatIds: readonly ChatId[];
  /** Undefined: nothing stored yet, or unreadable. */
  readonly state: HintState | undefined;
  readonly settingsKey: string;
  /** Undefined: the hints call failed or was not trusted. */
  readonly hints: HintsRead | undefined;
  readonly unfinished: ReadonlyMap<ChatId, UnfinishedKind>;
  readonly reconcileMs: number;
  /** The time between ticks (the schedule's period). */
  readonly tickMs: number;
  /** `--full` or an operator's request: read every chat this tick. */
  readonly forceFull?: boolean;
  /** Chats that left the set and still owe their last word: read every tick, as `retry`. */
  readonly departed?: readonly ChatId[];
  /**
   * Chats whose recent reconcile reads found changes the hints missed (learned reconcile,
   * `hint-store.ts` `misses`): read as `learned` in the slots the tick's last work item would
   * leave empty. Absent or empty: the reconcile is uniform.
   */
  readonly learned?: Iterable<ChatId>;
}

export interface ReadSelection {
  /** Why every chat is read this tick; undefined for a hinted tick. */
  readonly fullCause: FullReadCause | undefined;
  /** The chats to read and why, ascending by chat ID. */
  readonly reads: ReadonlyMap<ChatId, ReadReason>;
  /** The state to store once the reads are enqueued (unchanged when the hints failed). */
  readonly next: HintState | undefined;
}

/**
 * Picks the chats a tick reads. Pure.
 *
 * A hinted tick reads: chats the hints name; unfinished business; chats with no known complete
 * read; and the chats whose last full read is a reconcile period old (due from half a tick
 * before, so a tick a little early does not skip them). A full tick backdates its chats in
 * `reconcile / tick` equal groups, so those reconciles come in equal slices, one per tick, and
 * every chat is re-read within a reconcile period plus half a tick of its last full read.
 *
 * A full tick (`fullCause`) reads every chat: forced, nothing stored, changed settings, the
 * hints failed, a gap longer than the hint window, or a watermark ahead of the portal's clock. With usable hints, the named chats still count as `hint` and the others
 * as `reconcile`, so misses are counted; without, they are `full`.
 */
export function selectReads(input: SelectReadsInput): ReadSelection {
  const chatIds = [...new Set(input.chatIds)].sort((a, b) => a - b);
  const { state, hints } = input;
  const fullCause = fullReadCause(input);
  const named = hints && state ? namedChats(hints.hints, state) : new Set<ChatId>();

  const reads = new Map<ChatId, ReadReason>();
  for (const chatId of chatIds) {
    const known = state?.chats.get(chatId);
    let reason: ReadReason | undefined;
    if (!known) reason = 'new';
    else if (named.has(chatId)) reason = 'hint';
    else if (input.unfinished.has(chatId)) reason = 'retry';
    else if (fullCause) reason = hints ? 'reconcile' : 'full';
    else if (hints && isDue(known, hints.portalTime, input)) reason = 'reconcile';
    if (reason) reads.set(chatId, reason);
  }
  const departed = (input.departed ?? []).filter((id) => !chatIds.includes(id));
  for (const chatId of departed) reads.set(chatId, 'retry');
  if (!fullCause && state && input.learned) {
    for (const chatId of learnedReads(input.learned, chatIds, state, reads)) {
      reads.set(chatId, 'learned');
    }
  }
  const sorted = new Map([...reads].sort(([a], [b]) => a - b));

  if (!hints) return { fullCause, reads: sorted, next: state };
  return { fullCause, reads: sorted, next: nextState(input, hints, chatIds, sorted, fullCause) };
}

/**
 * Learned reconcile: the tick's reads fill `ceil(n / 50)` work items of one `batch` request each
 * (`plan-work-items.ts`), so the last item's empty slots are free. They go to the learned chats
 * the tick does not read anyway, the longest unread first, so the learned chats take turns and
 * each is read again every `learned / spare slots` ticks instead of once a reconcile period. A
 * tick with no reads adds none (that would add a request); every chat keeps its reconcile slot.
 */
function learnedReads(
  learned: Iterable<ChatId>,
  covered: readonly ChatId[],
  state: HintState,
  reads: ReadonlyMap<ChatId, ReadReason>,
): ChatId[] {
  const spare =
    (MAX_CHATS_PER_WORK_ITEM - (reads.size % MAX_CHATS_PER_WORK_ITEM)) % MAX_CHATS_PER_WORK_ITEM;
  if (reads.size === 0 || spare === 0) return [];
  const inSet = new Set(covered);
  const candidates: [ChatId, number][] = [];
  for (const chatId of new Set(learned)) {
    const known = state.chats.get(chatId);
    if (known && inSet.has(chatId) && !reads.has(chatId)) {
      candidates.push([chatId, known.lastFullReadAt]);
    }
  }
  candidates.sort(([a, at], [b, bt]) => at - bt || a - b);
  return candidates.slice(0, spare).map(([chatId]) => chatId);
}

/** Why this tick must read every chat, if it must (also what `selectReads` decides on). */
export function fullReadCause(
  input: Pick<SelectReadsInput, 'state' | 'hints' | 'settingsKey' | 'forceFull'>,
): FullReadCause | undefined {
  const { state, hints } = input;
  if (input.forceFull) return 'forced';
  if (!state) return 'no_state';
  if (state.settingsKey !== input.settingsKey) return 'settings_changed';
  if (!hints) return 'hints_failed';
  if (hints.portalTime < state.watermark) return 'clock';
  // The hints reach back to `since` only if the portal did not move it up (7 days at most).
  if (hints.portalTime - hints.since > HINT_WINDOW_MS - HINT_SAFETY_MARGIN_MS) return 'gap';
  if (hints.since > state.watermark) return 'gap';
  return undefined;
}

/** Hints that are news: not a row already acted upon, or one whose active count moved. */
function namedChats(hints: readonly RecentHint[], state: HintState): Set<ChatId> {
  const named = new Set<ChatId>();
  for (const hint of hints) {
    const seen = state.recentRows.get(hint.chatId);
    const count = state.chats.get(hint.chatId)?.activeCount;
    const counterMoved =
      hint.userCounter !== undefined && count !== undefined && hint.userCounter !== count;
    if (seen !== hint.dateUpdate || counterMoved) named.add(hint.chatId);
  }
  return named;
}

function isDue(chat: ChatHintState, now: number, input: SelectReadsInput): boolean {
  return chat.lastFullReadAt + input.reconcileMs <= now + input.tickMs / 2;
}

/** Ticks per reconcile period: the number of equal reconcile slices. */
function slicesOf(input: SelectReadsInput): number {
  return Math.max(1, Math.round(input.reconcileMs / input.tickMs));
}

function nextState(
  input: SelectReadsInput,
  hints: HintsRead,
  chatIds: readonly ChatId[],
  reads: ReadonlyMap<ChatId, ReadReason>,
  fullCause: FullReadCause | undefined,
): HintState {
  const now = hints.portalTime;
  const slices = slicesOf(input);
  const hintByChat = new Map(hints.hints.map((hint) => [hint.chatId, hint]));
  // The next call asks from `now − margin`: remember what it will return again.
  const nextSince = Math.floor((now - HINT_SAFETY_MARGIN_MS) / 1000) * 1000;
  const covered = new Set(chatIds);
  const recentRows = new Map<ChatId, number>();
  for (const hint of hints.hints) {
    if (hint.dateUpdate >= nextSince && covered.has(hint.chatId)) {
      recentRows.set(hint.chatId, hint.dateUpdate);
    }
  }
  const chats = new Map<ChatId, ChatHintState>();
  chatIds.forEach((chatId, rank) => {
    const previous = input.state?.chats.get(chatId);
    const hint = hintByChat.get(chatId);
    const activeCount = recentRows.has(chatId) ? hint?.userCounter : undefined;
    let lastFullReadAt = previous?.lastFullReadAt;
    if (reads.has(chatId)) {
      // Slice g of the next period is due at tick g + 1: equal slices by rank after a full
      // tick, a stable per-chat slice for a chat first read in a hinted tick, and one period
      // from now for any other read.
      const slice = fullCause
        ? Math.floor((rank * slices) / chatIds.length)
        : previous
          ? slices - 1
          : Math.floor(goldenPhase(chatId) * slices);
      lastFullReadAt = Math.min(now, now + (slice + 1) * input.tickMs - input.reconcileMs);
    }
    if (lastFullReadAt === undefined) return;
    chats.set(
      chatId,
      activeCount === undefined ? { lastFullReadAt } : { lastFullReadAt, activeCount },
    );
  });
  for (const chatId of recentRows.keys()) if (!chats.has(chatId)) recentRows.delete(chatId);
  const discoveredAt = input.state?.discoveredAt;
  const departed = (input.departed ?? []).filter((id) => !chats.has(id));
  return {
    watermark: now,
    settingsKey: input.settingsKey,
    chats,
    recentRows,
    ...(discoveredAt === undefined ? {} : { discoveredAt }),
    ...(departed.length === 0 ? {} : { departed }),
  };
}

/** A stable phase in [0, 1) per chat: the golden-ratio sequence spreads consecutive IDs evenly. */
function goldenPhase(chatId: ChatId): number {
  const x = chatId * 0.618_033_988_749_895;
  return x - Math.floor(x);
}

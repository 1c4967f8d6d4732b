import { describe, expect, it } from 'vitest';
import {
  HINT_SAFETY_MARGIN_MS,
  type HintsRead,
  type RecentHint,
} from '../../functions/core/hints.js';
import type { ChatId, ReadReason } from '../../functions/core/model.js';
import {
  type HintState,
  type SelectReadsInput,
  selectReads,
  type UnfinishedKind,
} from '../../functions/core/select-reads.js';
import { createRandom } from '../../local/simulator/seeded-random.js';

const MINUTE = 60_000;
const TICK = 15 * MINUTE;
const PERIOD = 60 * MINUTE;
const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);
const SETTINGS = 'settings-1';

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

function hintsAt(portalTime: number, since: number, hints: RecentHint[] = []): HintsRead {
  return { hints, since, portalTime };
}

function select(overrides: Partial<SelectReadsInput>): ReturnType<typeof selectReads> {
  return selectReads({
    chatIds: range(1, 20),
    state: undefined,
    settingsKey: SETTINGS,
    hints: hintsAt(T0, T0 - 7 * 24 * 60 * MINUTE),
    unfinished: new Map(),
    reconcileMs: PERIOD,
    tickMs: TICK,
    ...overrides,
  });
}

/** A portal at rest after one full tick at T0: the state to start hinted ticks from. */
function afterFullTick(chatIds = range(1, 20)): HintState {
  const next = select({ chatIds }).next;
  if (!next) throw new Error('a full tick with hints stores a state');
  return next;
}

function count(reads: ReadonlyMap<ChatId, ReadReason>, reason: ReadReason): number {
  return [...reads.values()].filter((r) => r === reason).length;
}

describe('selectReads: when a tick reads everything', () => {
  it('reads every chat on the first tick and stores the watermark from the portal time', () => {
    const selection = select({});
    expect(selection.fullCause).toBe('no_state');
    expect(selection.reads.size).toBe(20);
    expect(count(selection.reads, 'new')).toBe(20);
    expect(selection.next?.watermark).toBe(T0);
  });

  it('reads every chat when forced, when the settings changed, or after a gap beyond the hint window', () => {
    const state = afterFullTick();
    const next = hintsAt(T0 + TICK, T0 - HINT_SAFETY_MARGIN_MS);
    expect(select({ state, hints: next, forceFull: true }).fullCause).toBe('forced');
    expect(select({ state, hints: next, settingsKey: 'other' }).fullCause).toBe('settings_changed');
    const eightDays = hintsAt(T0 + 8 * 24 * 60 * MINUTE, T0 - HINT_SAFETY_MARGIN_MS);
    expect(select({ state, hints: eightDays }).fullCause).toBe('gap');
    expect(select({ state, hints: hintsAt(T0 - MINUTE, T0 - 2 * MINUTE) }).fullCause).toBe('clock');
    for (const hints of [next, eightDays]) {
      const selection = select({ state, hints, forceFull: true });
      expect(selection.reads.size).toBe(20);
      // With usable hints, misses are still countable: the unnamed chats are reconciles.
      expect(count(selection.reads, 'reconcile')).toBe(20);
    }
  });

  it('reads every chat without hints and keeps the stored state (the watermark does not move)', () => {
    const state = afterFullTick();
    const selection = select({ state, hints: undefined });
    expect(selection.fullCause).toBe('hints_failed');
    expect(count(selection.reads, 'full')).toBe(20);
    expect(selection.next).toBe(state);
  });
});

describe('selectReads: a hinted tick', () => {
  const quiet = (state: HintState, at: number, hints: RecentHint[] = [], extra = {}) =>
    select({ state, hints: hintsAt(at, state.watermark - HINT_SAFETY_MARGIN_MS, hints), ...extra });

  it('reads nothing when nothing changed and no reconcile is due', () => {
    const selection = quiet(afterFullTick(), T0 + 5_000);
    expect(selection.fullCause).toBeUndefined();
    expect(selection.reads.size).toBe(0);
    expect(selection.next?.watermark).toBe(T0 + 5_000);
  });

  it('reads the named chats, unfinished business and chats never read, each with its reason', () => {
    const state = afterFullTick(range(1, 20));
    const unfinished = new Map<ChatId, UnfinishedKind>([
      [4, 'held'],
      [5, 'failed'],
      [6, 'access_lost'],
    ]);
    const selection = quiet(state, T0 + 5_000, [{ chatId: 2, dateUpdate: T0 + 2_000 }], {
      chatIds: range(1, 21),
      unfinished,
    });
    expect([...selection.reads]).toEqual([
      [2, 'hint'],
      [4, 'retry'],
      [5, 'retry'],
      [6, 'retry'],
      [21, 'new'],
    ]);
  });

  it('ignores a row it already acted upon (the safety margin) unless its user_counter moved', () => {
    const state = afterFullTick();
    const row = { chatId: 3, dateUpdate: T0 + 2_000, userCounter: 7 };
    const first = quiet(state, T0 + 10_000, [row]);
    expect(first.reads.get(3)).toBe('hint');
    const second = quiet(first.next as HintState, T0 + 20_000, [row]);
    expect(second.reads.has(3)).toBe(false);
    const third = quiet(first.next as HintState, T0 + 20_000, [{ ...row, userCounter: 6 }]);
    expect(third.reads.get(3)).toBe('hint');
  });

  it('reconciles a quiet portal in equal slices, one per tick, each chat once per period', () => {
    const chatIds = range(1, 10_002);
    let state = afterFullTick(chatIds);
    const slices: number[] = [];
    const seen = new Set<ChatId>();
    for (let tick = 1; tick <= 8; tick++) {
      const selection = quiet(state, T0 + tick * TICK, [], { chatIds });
      slices.push(count(selection.reads, 'reconcile'));
      if (tick <= 4) for (const chatId of selection.reads.keys()) seen.add(chatId);
      state = selection.next as HintState;
    }
    expect(slices).toEqual([2501, 2500, 2501, 2500, 2501, 2500, 2501, 2500]);
    expect(seen.size).toBe(10_002);
  });

  it('drops chats no longer configured from the state', () => {
    const selection = quiet(afterFullTick(range(1, 20)), T0 + 5_000, [], { chatIds: range(1, 10) });
    expect([...(selection.next?.chats.keys() ?? [])]).toEqual(range(1, 10));
  });
});

/**
 * A random portal over many ticks: hints name random chats (some twice, within the margin),
 * reads fail at random (unfinished business), ticks come late or early by up to a minute.
 */
describe.each([1, 2, 3, 4, 5, 6, 7, 8])('selectReads over many ticks (seed %i)', (seed) => {
  const random = createRandom(seed);
  const chats = 40 + Math.floor(random() * 400);
  const chatIds = range(1, chats).map((i) => i * 3 + Math.floor(random() * 3));
  const slices = 1 + Math.floor(random() * 6);
  const reconcileMs = slices * TICK;

  let state: HintState | undefined;
  const readAt = new Map<ChatId, number[]>();
  const perTick: {
    reconcile: number;
    total: number;
    named: ChatId[];
    reads: Map<ChatId, ReadReason>;
  }[] = [];
  let unfinished = new Map<ChatId, UnfinishedKind>();
  let now = T0;
  for (let tick = 0; tick < 6 * slices + 3; tick++) {
    const since = state ? state.watermark - HINT_SAFETY_MARGIN_MS : now - 7 * 24 * 60 * MINUTE;
    const hints: RecentHint[] = [];
    for (const chatId of chatIds) {
      if (random() < 0.03)
        hints.push({ chatId, dateUpdate: now - Math.floor(random() * 10) * 1000 });
    }
    const selection = selectReads({
      chatIds,
      state,
      settingsKey: SETTINGS,
      hints: hintsAt(now, since, hints),
      unfinished,
      reconcileMs,
      tickMs: TICK,
    });
    for (const chatId of selection.reads.keys()) {
      readAt.set(chatId, [...(readAt.get(chatId) ?? []), now]);
    }
    perTick.push({
      reconcile: count(selection.reads, 'reconcile'),
      total: selection.reads.size,
      named: hints.map((h) => h.chatId),
      reads: new Map(selection.reads),
    });
    unfinished = new Map(
      [...selection.reads.keys()].filter(() => random() < 0.02).map((id) => [id, 'failed']),
    );
    state = selection.next;
    now += TICK + Math.floor((random() - 0.5) * 2 * MINUTE);
  }

  it(`re-reads every chat within the reconcile period plus one tick (seed ${seed})`, () => {
    for (const chatId of chatIds) {
      const times = [...(readAt.get(chatId) ?? []), now];
      for (let i = 1; i < times.length; i++) {
        expect((times[i] as number) - (times[i - 1] as number)).toBeLessThanOrEqual(
          reconcileMs + TICK + 2 * MINUTE,
        );
      }
    }
  });

  it(`reads every chat a hint names, and unfinished business, in that tick (seed ${seed})`, () => {
    perTick.forEach((tick, index) => {
      for (const chatId of tick.named) expect(tick.reads.has(chatId)).toBe(true);
      if (index > 0) expect(tick.reads.size).toBeGreaterThan(0);
    });
  });

  it(`never reads everything in a hinted tick, and spreads reconciles evenly (seed ${seed})`, () => {
    const hinted = perTick.slice(1);
    if (slices > 1) for (const tick of hinted) expect(tick.total).toBeLessThan(chats);
    // The first period after the full tick: equal slices (±1), churn aside.
    const firstPeriod = hinted.slice(0, slices).map((t) => t.reconcile);
    const ideal = chats / slices;
    for (const n of firstPeriod) expect(Math.abs(n - ideal)).toBeLessThanOrEqual(1 + chats * 0.06);
  });
});

describe('selectReads: chats that left the set', () => {
  it('reads them every tick as unfinished business, remembers them apart from the covered chats, and forgets them once they return', () => {
    const state = afterFullTick(range(1, 20));
    const later = (n: number) => hintsAt(T0 + n * TICK, T0 + (n - 1) * TICK);

    const quiet = select({ chatIds: range(1, 19), state, hints: later(1), departed: [20, 25] });
    expect([...quiet.reads]).toEqual(
      expect.arrayContaining([
        [20, 'retry'],
        [25, 'retry'],
      ]),
    );
    expect([...quiet.reads.keys()]).toEqual([...quiet.reads.keys()].sort((a, b) => a - b));
    expect(quiet.next?.departed).toEqual([20, 25]);
    expect(quiet.next?.chats.has(20)).toBe(false);

    const back = select({
      chatIds: range(1, 20),
      state: quiet.next,
      hints: later(2),
      departed: [25],
    });
    expect(back.reads.get(20)).toBe('new');
    expect(back.next?.departed).toEqual([25]);
  });
});

/**
 * Learned reconcile against the uniform one on the same portal and hints: random chats are
 * learned (the chats whose reconcile reads found misses); both planners run side by side.
 */
describe.each([21, 22, 23, 24, 25, 26])('selectReads with learned chats (seed %i)', (seed) => {
  const random = createRandom(seed);
  const chatIds = range(1, 200 + Math.floor(random() * 3_000));
  const learned = chatIds.filter(() => random() < 0.03);
  const tickMs = MINUTE;
  const reconcileMs = 60 * MINUTE;
  const ticks = 150;
  const hintsByTick = Array.from({ length: ticks }, () =>
    chatIds.filter(() => random() < 0.002).map((chatId) => ({ chatId, dateUpdate: 0 })),
  );

  function run(withLearned: boolean) {
    let state: HintState | undefined;
    let now = T0;
    const perTick: Map<ChatId, ReadReason>[] = [];
    for (const named of hintsByTick) {
      const since = state ? state.watermark - HINT_SAFETY_MARGIN_MS : now - 7 * 24 * 60 * MINUTE;
      const hints = named.map((hint) => ({ ...hint, dateUpdate: now - 1_000 }));
      const selection = selectReads({
        chatIds,
        state,
        settingsKey: SETTINGS,
        hints: hintsAt(now, since, hints),
        unfinished: new Map(),
        reconcileMs,
        tickMs,
        ...(withLearned ? { learned } : {}),
      });
      perTick.push(new Map(selection.reads));
      state = selection.next;
      now += tickMs;
    }
    return perTick;
  }
  const uniform = run(false);
  const withLearned = run(true);
  const gaps = (perTick: Map<ChatId, ReadReason>[], chatId: ChatId) => {
    const at = perTick.flatMap((reads, tick) => (reads.has(chatId) ? [tick] : []));
    return at.slice(1).map((tick, i) => tick - (at[i] as number));
  };

  it(`needs exactly the uniform reconcile's work items in every tick (seed ${seed})`, () => {
    const items = (reads: Map<ChatId, ReadReason>) => Math.ceil(reads.size / 50);
    expect(withLearned.map(items)).toEqual(uniform.map(items));
    withLearned.forEach((reads, tick) => {
      if ((uniform[tick] as Map<ChatId, ReadReason>).size === 0) expect(reads.size).toBe(0);
      for (const [chatId, reason] of reads) {
        if (reason === 'learned') expect(learned).toContain(chatId);
        else expect(uniform[tick]?.get(chatId)).toBe(reason);
      }
    });
  });

  it(`still re-reads every chat within the reconcile period (seed ${seed})`, () => {
    for (const chatId of chatIds) {
      for (const gap of gaps(withLearned, chatId)) expect(gap).toBeLessThanOrEqual(60);
    }
  });

  it(`reads the learned chats more often than once a period (seed ${seed})`, () => {
    const mean = (perTick: Map<ChatId, ReadReason>[]) => {
      const all = learned.flatMap((chatId) => gaps(perTick, chatId));
      return all.reduce((a, b) => a + b, 0) / all.length;
    };
    expect(mean(withLearned)).toBeLessThan(mean(uniform) / 2);
  });
});

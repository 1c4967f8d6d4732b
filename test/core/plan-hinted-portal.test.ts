import { describe, expect, it } from 'vitest';
import type { HintStateStore, StoredHints } from '../../functions/core/hint-store.js';
import type { HintReader } from '../../functions/core/hints.js';
import type { ChatId } from '../../functions/core/model.js';
import {
  MAX_LEARNED_CHATS,
  MISS_MEMORY_MS,
  planHintedPortal,
} from '../../functions/core/plan-hinted-portal.js';
import type { HintState } from '../../functions/core/select-reads.js';

const NOW = Date.now();
const HOUR = 3_600_000;
const chatIds = Array.from({ length: 2_030 }, (_, i) => i + 1);

/** A state right after the first reconcile slice: nothing due for 59 minutes. */
function restingState(): HintState {
  return {
    watermark: NOW - 60_000,
    settingsKey: 'key',
    chats: new Map(chatIds.map((id) => [id, { lastFullReadAt: NOW - 60_000 }])),
    recentRows: new Map(),
  };
}

function storeWith(misses: ReadonlyMap<ChatId, number>) {
  const forgotten: Map<ChatId, number>[] = [];
  const stored: StoredHints = {
    state: restingState(),
    version: 1,
    unfinished: new Map(),
    recall: { byHint: 0, byReconcile: 0 },
    misses,
  };
  const store: HintStateStore = {
    load: async () => stored,
    saveState: async () => {},
    recordOutcomes: async () => {},
    recordMisses: async () => {},
    forgetMisses: async (_portal, entries) => {
      forgotten.push(new Map(entries));
    },
  };
  return { store, forgotten };
}

/** The hints name chats 1..n (their rows moved). */
const reader = (named: number): HintReader => ({
  readHints: async (since) => ({
    since,
    portalTime: NOW,
    hints: Array.from({ length: named }, (_, i) => ({ chatId: i + 1, dateUpdate: NOW - 1_000 })),
  }),
});

function plan(store: HintStateStore, named: number, learnedReconcile = true) {
  return planHintedPortal(
    {
      store,
      reader: reader(named),
      discoverChats: async () => [],
      storedChats: { listChatIds: async () => chatIds, loadMany: async () => new Map() },
    },
    {
      portalId: 'p',
      chats: chatIds,
      reconcileMs: HOUR,
      tickMs: 60_000,
      settingsKey: 'key',
      forceFull: false,
      learnedReconcile,
    },
  );
}

const learnedOf = (reads: ReadonlyMap<ChatId, string>) =>
  [...reads].filter(([, reason]) => reason === 'learned').map(([id]) => id);

describe('planHintedPortal: the learned reconcile', () => {
  it('fills the spare slots of the last work item with recently missed chats, never with stale misses', async () => {
    const misses = new Map<ChatId, number>([
      [2_000, NOW - HOUR],
      [2_001, NOW - 2 * HOUR],
      [2_002, NOW - MISS_MEMORY_MS - HOUR],
    ]);
    const { store, forgotten } = storeWith(misses);
    const planned = await plan(store, 3);
    expect(learnedOf(planned.reads)).toEqual([2_000, 2_001]);
    expect(planned.reads.size).toBe(5);
    expect(planned.learned).toBe(2);
    await planned.commit();
    expect(forgotten).toEqual([new Map([[2_002, NOW - MISS_MEMORY_MS - HOUR]])]);
  });

  it('adds no read, and no request, when the tick reads nothing or its last work item is full', async () => {
    const { store } = storeWith(new Map([[2_000, NOW - HOUR]]));
    expect(learnedOf((await plan(store, 0)).reads)).toEqual([]);
    expect(learnedOf((await plan(store, 50)).reads)).toEqual([]);
    expect(learnedOf((await plan(store, 3, false)).reads)).toEqual([]);
  });

  it(`remembers the ${MAX_LEARNED_CHATS} newest misses and forgets the rest`, async () => {
    const misses = new Map<ChatId, number>(chatIds.map((id) => [id, NOW - id * 1_000]));
    const { store, forgotten } = storeWith(misses);
    const planned = await plan(store, 1);
    expect(planned.learned).toBe(MAX_LEARNED_CHATS);
    // The newest misses (lowest IDs here) not already read fill the 49 spare slots.
    expect(learnedOf(planned.reads)).toEqual(chatIds.slice(1, 50));
    await planned.commit();
    expect([...(forgotten[0]?.keys() ?? [])].sort((a, b) => a - b)).toEqual(
      chatIds.slice(MAX_LEARNED_CHATS),
    );
  });
});

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDynamoDbHintStore } from '../../functions/adapters/dynamodb-hint-store.js';
import { createDynamoDbSnapshotStore } from '../../functions/adapters/dynamodb-snapshot-store.js';
import { parseConfig } from '../../functions/config/config-schema.js';
import { createReferenceConsumer } from '../../functions/consumer/reference-consumer.js';
import { type CloudEvent, EventTypes } from '../../functions/core/cloud-event.js';
import type { ChatId, UserId } from '../../functions/core/model.js';
import { createLocalRunner, type LocalRunner } from '../../local/runtime/local-run.js';
import { churn, createRandom, startSimulator } from '../../local/simulator/start-simulator.js';
import type { RunningSimulator } from '../../local/simulator/types.js';
import { type DynamoEndpoint, startDynalite } from '../support/dynalite-server.js';
import { RecordingPublisher } from '../support/fakes.js';

/**
 * Hinted reads end to end: the real planner and worker compositions (`createLocalRunner`), the
 * simulator's recent list and its silent paths, DynamoDB (dynalite). Ticks are 15 minutes of
 * the portal's clock, the reconcile period 60 minutes: every chat is fully re-read within four
 * ticks of its last full read.
 */
const TICK_MS = 15 * 60_000;
const PORTAL = 'hinted';

let dynamo: DynamoEndpoint;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo?.stop();
});

interface Portal {
  readonly sim: RunningSimulator;
  readonly publisher: RecordingPublisher;
  readonly runner: LocalRunner;
  readonly hintStore: ReturnType<typeof createDynamoDbHintStore>;
  /** Advances the portal's clock by a tick and runs one tick; returns the events it published. */
  tick(options?: { full?: boolean }): Promise<CloudEvent[]>;
}

async function startPortal(chatIds: (sim: RunningSimulator) => ChatId[]): Promise<Portal> {
  const sim = await startSimulator({
    seed: { chats: 12, membersPerChat: 6, seed: 5 },
    tls: false,
    rateLimit: false,
  });
  const tableName = await dynamo.createSnapshotTable('hinted');
  const store = createDynamoDbSnapshotStore({ client: dynamo.documentClient, tableName });
  const hintStore = createDynamoDbHintStore({ client: dynamo.documentClient, tableName });
  const publisher = new RecordingPublisher();
  const config = parseConfig({
    portals: [
      {
        id: PORTAL,
        url: sim.baseUrl,
        secret: { name: 'local' },
        chats: chatIds(sim),
        rateLimit: { burst: 100_000, drainPerSecond: 100_000 },
      },
    ],
    reads: { mode: 'hinted', reconcileMinutes: 60 },
  });
  const runner = createLocalRunner(
    { config, credentials: new Map([[PORTAL, { kind: 'webhook', webhookUrl: sim.webhookUrl }]]) },
    { store, hintStore, publisher, fetch: undefined, close: async () => {} },
    undefined,
    TICK_MS,
  );
  return {
    sim,
    publisher,
    runner,
    hintStore,
    async tick(options = {}) {
      sim.advanceClock(TICK_MS);
      const before = publisher.published.length;
      const result = await runner.runOnce(undefined, options);
      expect(result.problems).toEqual([]);
      return publisher.published.slice(before).map((e) => e.event as CloudEvent);
    },
  };
}

type Data = { chatId: number; userId?: number; detectedBy?: string };
const dataOf = (e: CloudEvent) => e.data as Data;
const leaves = (events: CloudEvent[], chatId: ChatId) =>
  events.filter((e) => e.type === EventTypes.left && dataOf(e).chatId === chatId);

/** Ticks until `chatId` has a leave event (at most a reconcile period plus one tick). */
async function untilLeave(
  portal: Portal,
  chatId: ChatId,
): Promise<{ ticks: number; events: CloudEvent[] }> {
  for (let ticks = 1; ticks <= 5; ticks++) {
    const events = await portal.tick();
    if (leaves(events, chatId).length > 0) return { ticks, events };
  }
  throw new Error(`no leave in chat ${chatId} within 5 ticks`);
}

describe('hinted reads: the silent paths are missed by the hints, found by the reconcile, counted', () => {
  let portal: Portal;
  let announcement: ChatId;
  let open: ChatId;
  afterEach(async () => {
    await portal?.sim.close();
  });
  beforeEach(async () => {
    portal = await startPortal((sim) => {
      announcement = sim.admin.createChat({ announcement: true, memberIds: [1, 2, 3, 4, 5] }).id;
      // An open chat the integration user (1) reads but is not a member of: it has no recent row.
      open = sim.admin.createChat({ type: 'open', memberIds: [2, 3, 4, 5] }).id;
      return [...sim.admin.chats().map((c) => c.id)];
    });
    const baseline = await portal.tick();
    expect(new Set(baseline.map((e) => e.type))).toEqual(new Set([EventTypes.baseline]));
    expect(baseline.every((e) => dataOf(e).detectedBy === 'baseline')).toBe(true);
  });

  const silentPaths: [string, (p: Portal) => { chatId: ChatId; userId: UserId }][] = [
    [
      'an internal call that skips the message',
      ({ sim }) => {
        const userId = sim.admin.chat(4)?.memberIds.at(-1) ?? 0;
        sim.admin.removeMembers(4, [userId], { silent: true });
        return { chatId: 4, userId };
      },
    ],
    [
      'a member leaving an announcement chat by themself',
      ({ sim }) => {
        sim.admin.removeMembers(announcement, [3], { bySelf: true });
        return { chatId: announcement, userId: 3 };
      },
    ],
    [
      'the general chat with its auto-messages off',
      ({ sim }) => {
        sim.admin.setGeneralChatMessages(false);
        const userId = sim.admin.chat(1)?.memberIds.at(-1) ?? 0;
        sim.admin.removeMembers(1, [userId]);
        return { chatId: 1, userId };
      },
    ],
    [
      'a chat the integration user is not in',
      ({ sim }) => {
        sim.admin.removeMembers(open, [4]);
        return { chatId: open, userId: 4 };
      },
    ],
  ];

  it.each(silentPaths)('%s', async (_name, change) => {
    const { chatId, userId } = change(portal);
    const { ticks, events } = await untilLeave(portal, chatId);
    expect(ticks).toBeLessThanOrEqual(5);
    expect(leaves(events, chatId).map((e) => [dataOf(e).userId, dataOf(e).detectedBy])).toEqual([
      [userId, 'reconcile'],
    ]);
    expect((await portal.hintStore.load(PORTAL)).recall).toEqual({ byHint: 0, byReconcile: 1 });
  });

  it('names a change that posts a message in the next tick, read as a hint', async () => {
    portal.sim.admin.removeMembers(6, [portal.sim.admin.chat(6)?.memberIds.at(-1) ?? 0]);
    const events = await portal.tick();
    expect(leaves(events, 6).map((e) => dataOf(e).detectedBy)).toEqual(['hint']);
    expect((await portal.hintStore.load(PORTAL)).recall).toEqual({ byHint: 1, byReconcile: 0 });
  });

  it('turns a deactivation into no leave, hinted or in a full read, and counts no miss', async () => {
    const inGroup = portal.sim.admin.chat(5)?.memberIds.at(-1) ?? 0;
    const inGeneral = portal.sim.admin.chat(1)?.memberIds.at(-1) ?? 0;
    portal.sim.admin.setUserActive(inGroup, false);
    portal.sim.admin.setUserActive(inGeneral, false);
    const events: CloudEvent[] = [];
    for (let i = 0; i < 5; i++) events.push(...(await portal.tick()));
    events.push(...(await portal.tick({ full: true })));
    expect(events.filter((e) => e.type === EventTypes.left)).toEqual([]);
    expect((await portal.hintStore.load(PORTAL)).recall).toEqual({ byHint: 0, byReconcile: 0 });
  });

  it('reads only the hint and its reconcile slice in a quiet tick, every chat within a period', async () => {
    const reads: number[] = [];
    for (let i = 0; i < 4; i++) {
      portal.sim.advanceClock(TICK_MS);
      const result = await portal.runner.runOnce();
      reads.push(result.chats);
    }
    const chats = portal.sim.admin.chats().length;
    // Equal slices (±1) of the configured chats, one per tick, together every chat.
    for (const n of reads) expect(Math.abs(n - chats / 4)).toBeLessThanOrEqual(1);
    expect(reads.reduce((a, b) => a + b, 0)).toBe(chats);
  });
});

describe.each([11, 12, 13])('hinted reads against full reads (seed %i)', (seed) => {
  it('ends where a full read ends, and never reports a leave that did not happen', async () => {
    const portal = await startPortal((sim) => sim.admin.chats().map((c) => c.id));
    try {
      const random = createRandom(seed);
      const consumer = createReferenceConsumer();
      const removed = new Set<string>();
      const apply = (events: CloudEvent[]) => {
        for (const event of events) consumer.apply(event);
      };
      apply(await portal.tick());
      for (let t = 0; t < 8; t++) {
        for (const change of churn(portal.sim.admin, { share: 0.4, random, silentShare: 0.3 })) {
          if (change.change === 'left') removed.add(`${change.chatId}/${change.userId}`);
        }
        const events = await portal.tick();
        for (const e of events.filter((x) => x.type === EventTypes.left)) {
          // A leave is only ever reported for a member who was really removed.
          expect(removed.has(`${dataOf(e).chatId}/${dataOf(e).userId}`)).toBe(true);
        }
        apply(events);
      }
      // Two quiet ticks more than a period: every silent change has been reconciled.
      for (let t = 0; t < 5; t++) apply(await portal.tick());
      const full = await portal.tick({ full: true });
      expect(full.filter((e) => e.type !== EventTypes.baseline)).toEqual([]);
      for (const chat of portal.sim.admin.chats()) {
        const folded = consumer.members(portal.sim.baseUrl, chat.id);
        expect([...(folded ?? [])].sort((a, b) => a - b)).toEqual(
          [...chat.memberIds].sort((a, b) => a - b),
        );
      }
      expect(consumer.anomalies()).toEqual([]);
    } finally {
      await portal.sim.close();
    }
  });
});

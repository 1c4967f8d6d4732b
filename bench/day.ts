import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { snapshotCreateTableInput } from '../functions/adapters/snapshot-table.js';
import type { OutgoingEvent } from '../functions/core/cloud-event.js';
import type { ReadReason } from '../functions/core/model.js';
import { ensureTable } from '../local/runtime/embedded-dynamodb.js';
import { createRandom } from '../local/simulator/seeded-random.js';
import { createDeployedShape, type DeployedTick } from './deployed-shape.js';
import { DYNAMO_COMPONENTS } from './dynamodb-meter.js';
import type { ChatKind, DayChange, DayChangeRequest } from './emulators.js';
import { type Emulators, round, startEmulators } from './harness.js';

/**
 * The simulated day (docs/scale.md, "A day at one-minute ticks"): a portal with the chat mix of
 * {@link PORTAL_MIX}, membership changes at random times over 24 hours of the portal's clock,
 * and the Lambdas' composition (`deployed-shape.ts`) ticking every `tickMinutes`. Each change is
 * matched with the first event that reports it; its latency runs from the change to the end of
 * the tick that published it, on the portal's clock.
 */
export interface DayOptions {
  readonly chats: number;
  readonly members: number;
  /** Members of the portal's general chat (read page by page, 200 a request). */
  readonly generalChatMembers: number;
  readonly seed: number;
  readonly tickMinutes: number;
  readonly reconcileMinutes: number;
  readonly learnedReconcile: boolean;
  readonly changesPerDay: number;
  readonly deletedUsersPerDay: number;
  /**
   * Days run before the measured one, with changes of their own: a deployed sync has learned
   * from the days before (misses are remembered for a week). 0: a cold start.
   */
  readonly warmupDays: number;
}

/**
 * Shares of the generated chats by kind: what a leave in them posts (docs/bitrix24.md, "Silent
 * paths"). The rest are group chats, of which {@link DEPARTMENT_SHARE} are department chats
 * whose members the structure sync changes without a message. The general chat keeps Bitrix24's
 * default options (joins post, leaves do not).
 */
export const PORTAL_MIX = { open: 0.1, channel: 0.03, announcement: 0.02, leaveMessagesOff: 0.05 };
export const DEPARTMENT_SHARE = 0.1;
/** Chat IDs step by 1–200, as on a real portal: the hint state then has its realistic size. */
export const CHAT_ID_GAP = 200;
/** Share of the day's changes made in the general chat (hires and departures). */
export const GENERAL_SHARE = 0.04;
/** Changes are not spread evenly: this share of them falls on `HOT_CHATS` of the chats. */
export const HOT_CHANGES = 0.8;
export const HOT_CHATS = 0.2;

const DAY_MS = 24 * 3_600_000;

export type ChangeClass = ChatKind | 'department' | 'deletedUser';

export interface Percentiles {
  readonly count: number;
  readonly p50: number | null;
  readonly p99: number | null;
}

export interface DayResult {
  readonly tickMinutes: number;
  readonly learnedReconcile: boolean;
  readonly ticks: number;
  readonly chats: number;
  readonly generalChatMembers: number;
  readonly changes: number;
  /** Bitrix24 requests of the day's ticks (planner and workers). */
  readonly requestsPerDay: number;
  readonly requestsByMethod: Readonly<Record<string, number>>;
  /** DynamoDB calls of the day's ticks, in all and by store. */
  readonly dynamodbPerDay: Readonly<Record<string, number>>;
  /** Their request units (what on-demand bills), in all. */
  readonly dynamodbUnitsPerDay: { readonly read: number; readonly write: number };
  readonly readsByReason: Partial<Record<ReadReason, number>>;
  /** Changes that moved the chat in the recent list: latency in seconds. */
  readonly messaged: Percentiles;
  /** Changes that did not: latency in minutes. */
  readonly silent: Percentiles;
  readonly recallByClass: Readonly<
    Partial<Record<ChangeClass, Record<'joined' | 'left', ClassRecall>>>
  >;
  /** Changes never reported, even after a drain of a reconcile period (warm-up days too). */
  readonly lost: number;
  /** Member events that match no change (warm-up days too). */
  readonly unexpected: number;
  readonly wallMs: number;
}

export interface ClassRecall {
  readonly changes: number;
  /** Share of them that posted a message (moved the recent row). */
  readonly messaged: number;
  /** Share found through a hint. */
  readonly recall: number;
}

interface Planned extends Omit<DayChangeRequest, 'offsetMs'> {
  readonly atMs: number;
  readonly changeClass: ChangeClass;
  /** Made in the measured day (not a warm-up day). */
  readonly measured: boolean;
}

interface Observed extends DayChange {
  readonly changeClass: ChangeClass;
  readonly measured: boolean;
  found?: { readonly latencyMs: number; readonly detectedBy: string | undefined };
}

export async function runDay(
  options: DayOptions,
  say: (message: string) => void,
): Promise<DayResult> {
  const started = performance.now();
  const emulators = await startEmulators({
    chats: options.chats,
    members: options.members,
    large: [],
    seed: options.seed,
    mix: PORTAL_MIX,
    chatIdGap: CHAT_ID_GAP,
    generalChatMembers: options.generalChatMembers,
    portalDefaults: true,
  });
  try {
    return await runDayOn(emulators, options, started, say);
  } finally {
    await emulators.close();
  }
}

async function runDayOn(
  emulators: Emulators,
  options: DayOptions,
  started: number,
  say: (message: string) => void,
): Promise<DayResult> {
  const { ready } = emulators;
  const tickMs = options.tickMinutes * 60_000;
  const plan = scheduleDay(options, ready.chats);
  const tableName = 'bench-day';
  const dynamo = new DynamoDBClient({
    endpoint: ready.dynamoEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await ensureTable(dynamo, snapshotCreateTableInput(tableName));
  dynamo.destroy();

  let published: OutgoingEvent[] = [];
  const shape = createDeployedShape(
    emulators,
    ready,
    ready.chats.map((chat) => chat.id),
    tableName,
    {
      reads: {
        mode: 'hinted',
        reconcileMinutes: options.reconcileMinutes,
        learnedReconcile: options.learnedReconcile,
      },
      tickMinutes: options.tickMinutes,
      onPublished: (events) => published.push(...events),
    },
  );
  const observed: Observed[] = [];
  const open = new Map<string, Observed[]>();
  const keyOf = (chatId: number, userId: number, change: string) => `${chatId}/${userId}/${change}`;
  let unexpected = 0;
  const match = async () => {
    const now = await emulators.call<number>({ cmd: 'now' });
    for (const { event } of published) {
      const type = event.type.endsWith('member.joined.v1')
        ? 'joined'
        : event.type.endsWith('member.left.v1')
          ? 'left'
          : undefined;
      const data = event.data as { chatId: number; userId?: number; detectedBy?: string };
      if (!type || data.userId === undefined) continue;
      const waiting = open.get(keyOf(data.chatId, data.userId, type));
      const change = waiting?.shift();
      if (!change) {
        unexpected += 1;
        continue;
      }
      change.found = { latencyMs: now - change.atMs, detectedBy: data.detectedBy };
    }
    published = [];
  };

  try {
    await shape.tick(0); // The first tick reads every chat (no hint state yet): the baseline.
    published = [];
    const ticks = Math.round(DAY_MS / tickMs);
    const totals = { requests: 0, byMethod: {} as Record<string, number> };
    const dynamoCalls: Record<string, number> = { total: 0 };
    const units = { read: 0, write: 0 };
    const byReason: Partial<Record<ReadReason, number>> = {};
    let next = 0;
    const runTick = async (from: number, withChanges: boolean): Promise<DeployedTick> => {
      const requests: DayChangeRequest[] = [];
      while (withChanges && next < plan.length && (plan[next] as Planned).atMs < from + tickMs) {
        const { atMs, changeClass: _, measured: __, ...request } = plan[next] as Planned;
        requests.push({ ...request, offsetMs: atMs - from });
        next += 1;
      }
      const planned = plan.slice(next - requests.length, next);
      const made = await emulators.call<DayChange[][]>({
        cmd: 'dayTick',
        tickMs,
        changes: requests,
      });
      made.forEach((changes, index) => {
        for (const change of changes) {
          const of = planned[index] as Planned;
          const entry: Observed = { ...change, changeClass: of.changeClass, measured: of.measured };
          observed.push(entry);
          const key = keyOf(change.chatId, change.userId, change.change);
          open.set(key, [...(open.get(key) ?? []), entry]);
        }
      });
      const tick = await shape.tick(0);
      await match();
      return tick;
    };

    const warmupTicks = options.warmupDays * ticks;
    for (let t = 0; t < warmupTicks + ticks; t++) {
      const tick = await runTick(t * tickMs, true);
      if (t < warmupTicks) continue;
      totals.requests += tick.requests;
      for (const [method, n] of Object.entries(tick.byMethod)) {
        totals.byMethod[method] = (totals.byMethod[method] ?? 0) + n;
      }
      for (const component of DYNAMO_COMPONENTS) {
        const calls = tick.dynamo[component].reads + tick.dynamo[component].writes;
        dynamoCalls[component] = (dynamoCalls[component] ?? 0) + calls;
      }
      dynamoCalls.total =
        (dynamoCalls.total ?? 0) + tick.dynamo.total.reads + tick.dynamo.total.writes;
      units.read += tick.dynamo.total.readUnits;
      units.write += tick.dynamo.total.writeUnits;
      for (const [reason, n] of Object.entries(tick.byReason)) {
        byReason[reason as ReadReason] = (byReason[reason as ReadReason] ?? 0) + (n ?? 0);
      }
      if ((t + 1 - warmupTicks) % Math.max(1, Math.round(ticks / 4)) === 0) {
        say(
          `day (${options.tickMinutes}-min ticks, ${options.learnedReconcile ? 'learned' : 'uniform'} reconcile, after ${options.warmupDays} day(s)): tick ${t + 1 - warmupTicks}/${ticks}, ${totals.requests} requests so far, ${Math.round((performance.now() - started) / 1000)} s`,
        );
      }
    }
    // A drain without changes: whatever is still unreported after a reconcile period is lost.
    const drainTicks = Math.ceil(options.reconcileMinutes / options.tickMinutes) + 2;
    for (let t = 0; t < drainTicks; t++) await runTick((warmupTicks + ticks + t) * tickMs, false);
    const measured = observed.filter((c) => c.measured);

    return {
      tickMinutes: options.tickMinutes,
      learnedReconcile: options.learnedReconcile,
      ticks,
      chats: ready.chats.length,
      generalChatMembers: options.generalChatMembers,
      changes: measured.length,
      requestsPerDay: totals.requests,
      requestsByMethod: totals.byMethod,
      dynamodbPerDay: dynamoCalls,
      dynamodbUnitsPerDay: { read: Math.round(units.read), write: Math.round(units.write) },
      readsByReason: byReason,
      messaged: percentiles(
        measured.filter((c) => c.messaged && c.found).map((c) => (c.found?.latencyMs ?? 0) / 1000),
      ),
      silent: percentiles(
        measured
          .filter((c) => !c.messaged && c.found)
          .map((c) => (c.found?.latencyMs ?? 0) / 60_000),
      ),
      recallByClass: recallByClass(measured),
      lost: observed.filter((c) => !c.found).length,
      unexpected,
      wallMs: Math.round(performance.now() - started),
    };
  } finally {
    shape.close();
  }
}

/** The day's changes, seeded: times uniform over the day, chats skewed to a hot set. */
function scheduleDay(
  options: DayOptions,
  chats: readonly { readonly id: number; readonly kind: ChatKind }[],
): Planned[] {
  const random = createRandom(options.seed + 300);
  const general = chats.find((chat) => chat.kind === 'general');
  const others = chats.filter((chat) => chat.kind !== 'general');
  const department = new Set(
    others.filter((chat) => chat.kind === 'group' && random() < DEPARTMENT_SHARE).map((c) => c.id),
  );
  const shuffled = [...others];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [
      shuffled[j] as (typeof shuffled)[0],
      shuffled[i] as (typeof shuffled)[0],
    ];
  }
  const hot = shuffled.slice(0, Math.max(1, Math.round(shuffled.length * HOT_CHATS)));
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)] as T;
  const planned: Planned[] = [];
  const days = options.warmupDays + 1;
  const measured = (atMs: number) => atMs >= options.warmupDays * DAY_MS;
  for (let i = 0; i < options.changesPerDay * days; i++) {
    const atMs = Math.floor(random() * DAY_MS * days);
    const chat =
      general && random() < GENERAL_SHARE
        ? general
        : random() < HOT_CHANGES
          ? pick(hot)
          : pick(others);
    const silent = department.has(chat.id);
    planned.push({
      atMs,
      kind: random() < 0.5 ? 'join' : 'leave',
      chatId: chat.id,
      silent,
      changeClass: silent ? 'department' : chat.kind,
      measured: measured(atMs),
    });
  }
  for (let i = 0; i < options.deletedUsersPerDay * days; i++) {
    const atMs = Math.floor(random() * DAY_MS * days);
    planned.push({
      atMs,
      kind: 'deleteUser',
      silent: true,
      changeClass: 'deletedUser',
      measured: measured(atMs),
    });
  }
  return planned.sort((a, b) => a.atMs - b.atMs);
}

function percentiles(values: readonly number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted.length === 0
      ? null
      : round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number, 1);
  return { count: sorted.length, p50: at(0.5), p99: at(0.99) };
}

function recallByClass(observed: readonly Observed[]): DayResult['recallByClass'] {
  const result: Partial<Record<ChangeClass, Record<'joined' | 'left', ClassRecall>>> = {};
  const classes = [...new Set(observed.map((c) => c.changeClass))].sort();
  for (const changeClass of classes) {
    const of = (change: 'joined' | 'left'): ClassRecall => {
      const all = observed.filter((c) => c.changeClass === changeClass && c.change === change);
      const share = (n: number) => (all.length === 0 ? 0 : round(n / all.length, 3));
      return {
        changes: all.length,
        messaged: share(all.filter((c) => c.messaged).length),
        recall: share(all.filter((c) => c.found?.detectedBy === 'hint').length),
      };
    };
    result[changeClass] = { joined: of('joined'), left: of('left') };
  }
  return result;
}

import type { OutgoingEvent } from '../functions/core/cloud-event.js';
import type { ChatId } from '../functions/core/model.js';
import type { MembershipChange } from '../local/simulator/seeds.js';
import { createDeployedShape, type DeployedTick } from './deployed-shape.js';
import type { Emulators, Endpoints } from './harness.js';

export interface HintedBenchOptions {
  readonly tickMinutes: number;
  readonly reconcileMinutes: number;
  /** Share of chats changed before the churn tick. */
  readonly churn: number;
  /** Share of those changes made without a system message (the hints miss them). */
  readonly silentShare: number;
  readonly seed: number;
}

export type HintedTick = DeployedTick;

export interface HintedResult {
  readonly initial: HintedTick;
  readonly quiet: HintedTick;
  /** One reconcile period of quiet 15-minute ticks. */
  readonly period: readonly HintedTick[];
  readonly amortized: number;
  readonly churn: HintedTick;
  /** The ticks after the churn tick, until every change was found. */
  readonly afterChurn: readonly HintedTick[];
  readonly changes: {
    readonly messaged: number;
    readonly silent: number;
    /** Messaged changes whose events say `detectedBy: hint`, over all messaged changes. */
    readonly recall: number | null;
    /** Minutes of portal time from the change to the tick that published it, silent changes. */
    readonly worstSilentDelayMinutes: number | null;
    readonly worstMessagedDelayMinutes: number | null;
    /** Changes never published. */
    readonly lost: number;
    /** Member events that match no change. */
    readonly unexpected: number;
  };
}

/**
 * Hinted reads on the benchmark portal: the Lambdas' planner and worker compositions
 * (`deployed-shape.ts`), the portal's clock advanced one tick before each run. The snapshots
 * of the full-read runs are reused (table `tableName`), so the first hinted tick reads every
 * chat without writing (no hint state yet), like a steady full read.
 */
export async function runHinted(
  emulators: Emulators,
  endpoints: Endpoints,
  chatIds: readonly ChatId[],
  tableName: string,
  options: HintedBenchOptions,
  say: (message: string) => void,
): Promise<HintedResult> {
  const tickMs = options.tickMinutes * 60_000;
  const published: { event: OutgoingEvent; tick: number }[] = [];
  let tickIndex = 0;
  const shape = createDeployedShape(emulators, endpoints, chatIds, tableName, {
    reads: { mode: 'hinted', reconcileMinutes: options.reconcileMinutes },
    tickMinutes: options.tickMinutes,
    onPublished: (events) => {
      for (const event of events) published.push({ event, tick: tickIndex });
    },
  });
  const tick = (advanceMs: number): Promise<HintedTick> => {
    tickIndex += 1;
    return shape.tick(advanceMs);
  };
  const show = (name: string, t: HintedTick) =>
    say(
      `hinted ${name}: ${t.requests} requests, ${t.chatsRead} chats read ${JSON.stringify(t.byReason)}${t.fullCause ? ` (full: ${t.fullCause})` : ''}, ${t.dynamoReads} DynamoDB reads (${t.dynamo.total.reads + t.dynamo.total.writes} DynamoDB calls in all), ${t.wallMs} ms`,
    );

  try {
    const initial = await tick(tickMs);
    show('initial', initial);
    // Right after: nothing changed and no reconcile is due yet.
    const quiet = await tick(0);
    show('quiet', quiet);
    const period: HintedTick[] = [];
    const ticksPerPeriod = Math.round(options.reconcileMinutes / options.tickMinutes);
    for (let i = 0; i < ticksPerPeriod; i++) {
      period.push(await tick(tickMs));
      show(`period ${i + 1}/${ticksPerPeriod}`, period[i] as HintedTick);
    }
    const amortized = period.reduce((n, t) => n + t.requests, 0) / period.length;

    const changes = await emulators.call<MembershipChange[]>({
      cmd: 'churn',
      share: options.churn,
      seed: options.seed + 200,
      silentShare: options.silentShare,
    });
    const churnedAfter = tickIndex;
    say(
      `hinted churn: ${changes.length} changes, ${changes.filter((c) => c.silent).length} silent`,
    );
    const churn = await tick(tickMs);
    show('churn', churn);
    const afterChurn: HintedTick[] = [];
    for (let i = 0; i < ticksPerPeriod + 1; i++) {
      afterChurn.push(await tick(tickMs));
      show(`after churn ${i + 1}`, afterChurn[i] as HintedTick);
    }
    return {
      initial,
      quiet,
      period,
      amortized,
      churn,
      afterChurn,
      changes: matchChanges(changes, published, churnedAfter, options.tickMinutes),
    };
  } finally {
    shape.close();
  }
}

/** Each change's first member event after it, its delay and how it was detected. */
function matchChanges(
  changes: readonly MembershipChange[],
  published: readonly { event: OutgoingEvent; tick: number }[],
  churnedAfter: number,
  tickMinutes: number,
): HintedResult['changes'] {
  const key = (chatId: number, userId: number, change: string) => `${chatId}/${userId}/${change}`;
  const found = new Map<string, { tick: number; detectedBy: string | undefined }>();
  let unexpected = 0;
  const expected = new Set(changes.map((c) => key(c.chatId, c.userId, c.change)));
  for (const { event, tick } of published) {
    if (tick <= churnedAfter) continue;
    const data = event.event.data as { chatId: number; userId?: number; detectedBy?: string };
    const type = event.event.type.endsWith('member.joined.v1')
      ? 'joined'
      : event.event.type.endsWith('member.left.v1')
        ? 'left'
        : undefined;
    if (!type || data.userId === undefined) continue;
    const k = key(data.chatId, data.userId, type);
    if (!expected.has(k)) unexpected += 1;
    else if (!found.has(k)) found.set(k, { tick, detectedBy: data.detectedBy });
  }
  const delays = (silent: boolean) =>
    changes
      .filter((c) => c.silent === silent)
      .flatMap((c) => {
        const hit = found.get(key(c.chatId, c.userId, c.change));
        return hit ? [(hit.tick - churnedAfter) * tickMinutes] : [];
      });
  const messaged = changes.filter((c) => !c.silent);
  const byHint = messaged.filter(
    (c) => found.get(key(c.chatId, c.userId, c.change))?.detectedBy === 'hint',
  ).length;
  const worst = (values: number[]) => (values.length ? Math.max(...values) : null);
  return {
    messaged: messaged.length,
    silent: changes.length - messaged.length,
    recall: messaged.length ? byHint / messaged.length : null,
    worstSilentDelayMinutes: worst(delays(true)),
    worstMessagedDelayMinutes: worst(delays(false)),
    lost: changes.filter((c) => !found.has(key(c.chatId, c.userId, c.change))).length,
    unexpected,
  };
}

/**
 * The crash-schedule model of the outbox (docs/design.md, guarantee 1). One schedule is a seeded
 * run of the real worker app (Bitrix24 client over HTTP to a fresh simulator, the DynamoDB store
 * on DynamoDB Local, the SNS publisher on the SNS/SQS emulator) through random membership
 * changes, holds and releases, access loss and return, chats leaving the configured set and coming
 * back (departed-chats.ts picks the departed ones as the planner does), with one or two injected
 * faults per sync at random step boundaries: a Bitrix24 request, a snapshot read, a shard write, the write that
 * records a change, a publish batch, a cursor write, the commit. A fault is a failed call, a
 * lost answer (the call took effect, its caller sees an error), or a crash (that call and every
 * later one of the process fail), before or after the call took effect.
 *
 * The oracle folds what subscribers received through the reference consumer. After clean syncs
 * with the set as the schedule left it, every chat out of the set has said its last word (no
 * pending change, `chat.retired` or `chat.access_lost` recorded, subscribers hold its stored
 * members) and is no longer read; after every chat is back and clean syncs, subscribers hold
 * the portal's truth.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteTopicCommand, PublishBatchCommand } from '@aws-sdk/client-sns';
import { DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDynamoDbSnapshotStore } from '../../functions/adapters/dynamodb-snapshot-store.js';
import { SHARD_PARTITION_SUFFIX } from '../../functions/adapters/snapshot-table.js';
import { createSnsEventPublisher } from '../../functions/adapters/sns-event-publisher.js';
import { createPortalConnector, createWorkerApp } from '../../functions/app/worker-app.js';
import { configSchema } from '../../functions/config/config-schema.js';
import { createReferenceConsumer } from '../../functions/consumer/reference-consumer.js';
import type { CloudEvent } from '../../functions/core/cloud-event.js';
import { EventTypes } from '../../functions/core/cloud-event.js';
import { departedChats } from '../../functions/core/departed-chats.js';
import type { ChatId, UserId } from '../../functions/core/model.js';
import { releaseHeldChange } from '../../functions/core/release-held-change.js';
import type { SyncReport } from '../../functions/core/sync-report.js';
import { createStaticCredentialStore } from '../../local/adapters/static-credential-store.js';
import { createRandom } from '../../local/simulator/seeded-random.js';
import { startSimulator } from '../../local/simulator/start-simulator.js';
import type { RunningSimulator } from '../../local/simulator/types.js';
import { emulatorClientConfig } from '../support/aws.js';
import type { FauxqsEndpoint } from '../support/fauxqs-server.js';

export interface ModelEnvironment {
  readonly dynamoEndpoint: string;
  readonly tableName: string;
  readonly fauxqs: FauxqsEndpoint;
}

const FAULT_KINDS = ['fail', 'lost', 'crash', 'crash-after'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

const BOUNDARIES = [
  'bitrix24:request',
  'ddb:BatchGet',
  'ddb:shard-write',
  'ddb:record',
  'sns:PublishBatch',
  'ddb:cursor',
  'ddb:commit',
] as const;

/** At the `nth` call (from 0) of a sync to one kind of step boundary. */
interface Fault {
  readonly boundary: (typeof BOUNDARIES)[number];
  readonly nth: number;
  readonly kind: FaultKind;
}

export interface ScheduleResult {
  readonly seed: number;
  /** What the oracle found wrong; empty when the schedule kept every guarantee. */
  readonly divergences: readonly string[];
  /** `<boundary>:<fault kind>` of every fault that hit a call. */
  readonly faults: readonly string[];
  /** Calls made per boundary, faulted or not. */
  readonly calls: ReadonlyMap<string, number>;
  readonly syncs: number;
  readonly events: number;
}

const INTEGRATION_USER = 1;
const STEP_MS = 15 * 60_000;
const T0 = Date.parse('2026-03-01T00:00:00.000Z');

/** Runs one schedule; never throws for a divergence (it is returned). */
export async function runSchedule(seed: number, env: ModelEnvironment): Promise<ScheduleResult> {
  const random = createRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const sim = await startSimulator({
    seed: 'empty',
    tls: false,
    rateLimit: false,
    operatingLimit: false,
  });
  // This schedule's own topic and subscriber queue: schedules run side by side.
  const topicArn = await env.fauxqs.createTopic(`model-${seed}`);
  const queue = await env.fauxqs.subscribeQueue(topicArn, `model-${seed}`);
  try {
    return await schedule(seed, env, sim, topicArn, queue.queueUrl, random, pick);
  } finally {
    await env.fauxqs.sns.send(new DeleteTopicCommand({ TopicArn: topicArn }));
    await env.fauxqs.sqs.send(new DeleteQueueCommand({ QueueUrl: queue.queueUrl }));
    await sim.close();
  }
}

async function schedule(
  seed: number,
  env: ModelEnvironment,
  sim: RunningSimulator,
  topicArn: string,
  queueUrl: string,
  random: () => number,
  pick: <T>(items: readonly T[]) => T,
): Promise<ScheduleResult> {
  const admin = sim.admin;
  const users = admin.addUsers(40);
  const general = admin.generalChatId;
  admin.addMembers(general, users);
  const groups = [0, 1, 2].map(
    (n) =>
      admin.createChat({
        title: `group ${n}`,
        ownerId: INTEGRATION_USER,
        memberIds: [INTEGRATION_USER, ...users.filter(() => random() < 0.3)],
      }).id,
  );
  const chats = [general, ...groups];
  /** The configured set: group chats leave it and come back. */
  const configured = new Set(chats);
  const portalId = `model-${seed}`;
  const config = configSchema.parse({
    portals: [{ id: portalId, url: sim.baseUrl, secret: { name: 'unused' }, chats }],
  });
  const faults: string[] = [];
  const calls = new Map<string, number>();
  /** Truth at each sync's read: time → chat → members (every account) and active accounts. */
  const truths = new Map<string, { members: Map<ChatId, Set<UserId>>; active: Set<UserId> }>();
  const delivered: CloudEvent[] = [];
  let syncs = 0;

  const truthNow = () => ({
    members: new Map(chats.map((id) => [id, new Set(admin.chat(id)?.memberIds ?? [])])),
    active: new Set(admin.userIds().filter((id) => admin.user(id)?.active === true)),
  });

  /** One worker process: fresh clients (no cache survives a crash), one fault at most. */
  const worker = (fault: readonly Fault[]) => {
    const injector = new FaultInjector(fault, faults, calls);
    const documentClient = DynamoDBDocumentClient.from(
      new DynamoDBClient(emulatorClientConfig(env.dynamoEndpoint)),
      { marshallOptions: { removeUndefinedValues: true } },
    );
    const sns = env.fauxqs.sns;
    const store = createDynamoDbSnapshotStore({
      client: injector.wrap(documentClient, (command) => dynamoBoundary(command)),
      tableName: env.tableName,
      // Tiny bodies force shards, so shard writes are step boundaries too.
      inlineBodyBytes: 24,
      shardBytes: 64,
      compression: 'none',
      // Replaced shards stay (no TTL marks): not a step the outbox depends on, and 10× the calls.
      retiredShardTtlSeconds: 0,
      retry: { baseDelayMs: 1, maxDelayMs: 2 },
    });
    const publisher = createSnsEventPublisher({
      client: injector.wrap(
        sns,
        () => 'sns:PublishBatch',
        (command, output) => {
          recordDelivered(command, output, delivered);
        },
      ),
      topicArn,
      // No retry inside the publisher: a failed PublishBatch stops its chats midway.
      retry: { maxAttempts: 1 },
    });
    const connector = createPortalConnector({
      credentialsFor: () =>
        createStaticCredentialStore({ kind: 'webhook', webhookUrl: sim.webhookUrl }),
      fetch: injector.fetch(globalThis.fetch),
      client: { timeoutMs: 2_000, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 } },
    });
    return {
      store,
      app: (at: number) =>
        createWorkerApp({
          config,
          connector,
          store,
          publisher,
          clock: { now: () => new Date(at) },
        }),
    };
  };

  const sync = async (fault: readonly Fault[] = []): Promise<SyncReport | undefined> => {
    const at = T0 + syncs * STEP_MS;
    syncs += 1;
    truths.set(new Date(at).toISOString(), truthNow());
    const { app } = worker(fault);
    const current = chats.filter((id) => configured.has(id));
    // What the planner adds (fault-free: the planner is not this model's subject): stored chats
    // out of the set that still owe their last word.
    const planner = worker([]).store;
    const departed = await departedChats(
      planner,
      portalId,
      await planner.listChatIds(portalId),
      current,
    );
    try {
      const report = await app(at)({
        portalId,
        chatIds: [...current, ...departed].sort((a, b) => a - b),
        scheduledAt: new Date(at).toISOString(),
        ...(departed.length === 0 ? {} : { departed }),
      });
      debug(seed, `sync ${syncs} fault ${JSON.stringify(fault)}: ${JSON.stringify(report.chats)}`);
      return report;
    } catch (error) {
      debug(seed, `sync ${syncs} fault ${JSON.stringify(fault)} threw: ${String(error)}`);
      return undefined;
    }
  };

  const releaseHolds = async (share: number): Promise<void> => {
    const { store } = worker([]);
    const loaded = await store.loadMany(portalId, chats);
    for (const snapshot of loaded.values()) {
      if (!snapshot.held || snapshot.pending || random() >= share) continue;
      await store.save(releaseHeldChange(snapshot), { version: snapshot.version });
    }
  };

  // Random operations, each followed by a sync with faults at random step boundaries.
  const steps = 3 + Math.floor(random() * 5);
  for (let step = 0; step < steps; step++) {
    for (let n = Math.floor(random() * 4); n > 0; n--) mutate(admin, chats, users, random, pick);
    // A group chat leaves the configured set or comes back.
    if (random() < 0.25) {
      const chatId = pick(groups);
      if (configured.has(chatId)) configured.delete(chatId);
      else configured.add(chatId);
    }
    // Usually one fault; sometimes a publish that stops midway and then a fault at the cursor
    // write that records how far it got (a cursor is written only after a partial publish).
    const roll = random();
    const nth = () => Math.floor(random() * 3);
    const faults: Fault[] =
      roll < 0.15
        ? []
        : roll < 0.85
          ? [{ boundary: pick(BOUNDARIES), nth: nth(), kind: pick(FAULT_KINDS) }]
          : [
              { boundary: 'sns:PublishBatch', nth: 1, kind: 'fail' },
              { boundary: 'ddb:cursor', nth: 0, kind: pick(FAULT_KINDS) },
            ];
    await sync(faults);
    if (random() < 0.5) await releaseHolds(0.7);
  }

  const problems: string[] = [];
  if (configured.size < chats.length) {
    // The set as the schedule left it: clean syncs until the departed chats have said their
    // last word, and then they are read no more.
    let owing: ChatId[] = [];
    for (let round = 0; round < 4; round++) {
      const report = await sync();
      await releaseHolds(1);
      const planner = worker([]).store;
      owing = await departedChats(
        planner,
        portalId,
        await planner.listChatIds(portalId),
        chats.filter((id) => configured.has(id)),
      );
      const settled =
        report?.chats.every((c) => c.outcome !== 'failed' && c.outcome !== 'held') === true;
      if (settled && owing.length === 0) break;
    }
    if (owing.length > 0) problems.push(`departed chats [${owing}] are still read`);
    problems.push(
      ...(await judgeDeparted(
        portalId,
        chats.filter((id) => !configured.has(id)),
        delivered,
        worker([]).store,
      )),
    );
  }

  // Every chat back in the set, access back everywhere; clean syncs (releasing holds) until
  // nothing is left to do.
  for (const chatId of chats) configured.add(chatId);
  for (const chatId of groups) {
    if (!admin.chat(chatId)?.memberIds.includes(INTEGRATION_USER)) {
      admin.addMembers(chatId, [INTEGRATION_USER]);
    }
  }
  for (let round = 0; round < 4; round++) {
    const report = await sync();
    await releaseHolds(1);
    const settled =
      report?.chats.every((c) => c.outcome !== 'failed' && c.outcome !== 'held') === true;
    if (settled && round > 0) break;
  }

  const divergences = await judge(
    env,
    queueUrl,
    new URL(sim.baseUrl).origin,
    portalId,
    chats,
    general,
    truths,
    truthNow(),
    delivered,
    worker([]).store,
  );
  return {
    seed,
    divergences: [...problems, ...divergences],
    faults,
    calls,
    syncs,
    events: delivered.length,
  };
}

/** Random membership operations on the simulated portal. */
function mutate(
  admin: RunningSimulator['admin'],
  chats: readonly ChatId[],
  users: readonly UserId[],
  random: () => number,
  pick: <T>(items: readonly T[]) => T,
): void {
  const [general] = chats;
  const chatId = pick(chats);
  const members = admin.chat(chatId)?.memberIds ?? [];
  const outsiders = users.filter((u) => !members.includes(u));
  const roll = random();
  const isActive = (u: UserId) => admin.user(u)?.active === true;
  if (roll < 0.3 && outsiders.length > 0) {
    // im.dialog.users.list cannot see a deactivated account join the general chat.
    const candidates = chatId === general ? outsiders.filter(isActive) : outsiders;
    if (candidates.length > 0) admin.addMembers(chatId, [pick(candidates)]);
  } else if (roll < 0.55) {
    // Nor leave it: the general chat's deactivated members stay as they are.
    const candidates = members.filter(
      (u) => u !== INTEGRATION_USER && (chatId !== general || isActive(u)),
    );
    if (candidates.length > 0) admin.removeMembers(chatId, [pick(candidates)]);
  } else if (roll < 0.7) {
    const user = pick(users);
    admin.setUserActive(user, !isActive(user));
  } else if (roll < 0.8 && chatId !== general) {
    // A mass leave the breaker holds (more than half, more than 5).
    const leaving = members.filter((u) => u !== INTEGRATION_USER && random() < 0.9);
    if (leaving.length > 0) admin.removeMembers(chatId, leaving);
  } else if (roll < 0.9 && chatId !== general) {
    // Access lost (the integration user removed) or back.
    if (members.includes(INTEGRATION_USER)) admin.removeMembers(chatId, [INTEGRATION_USER]);
    else admin.addMembers(chatId, [INTEGRATION_USER]);
  } else if (outsiders.length > 0) {
    admin.addMembers(
      chatId,
      outsiders.filter(() => random() < 0.5),
    );
  }
}

async function judge(
  env: ModelEnvironment,
  queueUrl: string,
  source: string,
  portalId: string,
  chats: readonly ChatId[],
  general: ChatId,
  truths: ReadonlyMap<string, { members: Map<ChatId, Set<UserId>>; active: Set<UserId> }>,
  final: { members: Map<ChatId, Set<UserId>>; active: Set<UserId> },
  delivered: readonly CloudEvent[],
  store: ReturnType<typeof createDynamoDbSnapshotStore>,
): Promise<string[]> {
  const problems: string[] = [];
  const received = (
    await env.fauxqs.drain(queueUrl, { expected: delivered.length, idleMs: 10_000 })
  ).map((d) => JSON.parse(d.message) as CloudEvent);
  // A port (so a portal URL) may be reused by a later schedule: keep this schedule's portal only.
  const ours = received.filter((e) => (e.data as { portalId?: string }).portalId === portalId);
  if (ours.length !== delivered.length) {
    problems.push(`subscribers received ${ours.length} events, SNS accepted ${delivered.length}`);
  }
  const consumer = createReferenceConsumer();
  for (const event of ours) consumer.apply(event);
  for (const anomaly of consumer.anomalies())
    problems.push(`consumer anomaly: ${JSON.stringify(anomaly)}`);

  const ids = new Map<string, string>();
  for (const event of ours) {
    const data = event.data as { chatId: ChatId; sequence: number; userId?: UserId };
    const key = `${data.chatId}#${data.sequence}`;
    const seen = ids.get(key);
    if (seen !== undefined && seen !== event.id)
      problems.push(`chat ${data.chatId}: two events with sequence ${data.sequence}`);
    ids.set(key, event.id);
    const truth = truths.get(event.time);
    if (truth === undefined || data.userId === undefined) continue;
    const member = truth.members.get(data.chatId)?.has(data.userId) === true;
    if (event.type === EventTypes.left && member) {
      problems.push(
        `chat ${data.chatId}: user ${data.userId} reported left at ${event.time} while a member`,
      );
    }
    if (event.type === EventTypes.joined && !member) {
      problems.push(
        `chat ${data.chatId}: user ${data.userId} reported joined at ${event.time} while not a member`,
      );
    }
  }

  const stored = await store.loadMany(portalId, chats);
  for (const chatId of chats) {
    const truth = final.members.get(chatId) ?? new Set<UserId>();
    const seen = consumer.members(source, chatId);
    if (seen === undefined) {
      problems.push(`chat ${chatId}: subscribers never got a complete baseline`);
      continue;
    }
    // im.dialog.users.list (the general chat's only method) cannot list deactivated accounts, so
    // whether one of them is still a member cannot be observed there: the comparison covers the
    // active accounts (subscribers hold every active member and no active non-member).
    const comparable = (ids: Iterable<UserId>) =>
      [...ids].filter((id) => chatId !== general || final.active.has(id)).sort((a, b) => a - b);
    const expected = comparable(truth);
    const actual = comparable(seen);
    if (JSON.stringify(expected) !== JSON.stringify(actual)) {
      problems.push(`chat ${chatId}: subscribers hold [${actual}], the portal has [${expected}]`);
    }
    for (const id of comparable(seen)) {
      if (!truth.has(id)) problems.push(`chat ${chatId}: subscribers hold ${id}, not a member`);
    }
    if (stored.get(chatId)?.pending) problems.push(`chat ${chatId}: a change is still pending`);
    if (stored.get(chatId)?.retiredAt !== undefined) {
      problems.push(`chat ${chatId}: back in the set but still marked retired`);
    }
  }
  return problems;
}

/**
 * Chats out of the set after clean syncs: none has a pending change; one that was ever committed
 * recorded `chat.retired` or `chat.access_lost`, and subscribers hold the members it stored
 * (what they last heard: retirement and lost access change no member).
 */
async function judgeDeparted(
  portalId: string,
  departed: readonly ChatId[],
  delivered: readonly CloudEvent[],
  store: ReturnType<typeof createDynamoDbSnapshotStore>,
): Promise<string[]> {
  const problems: string[] = [];
  const consumer = createReferenceConsumer();
  for (const event of delivered) consumer.apply(event);
  const heard = new Map([...consumer.chats()].map((c) => [c.chatId, c]));
  const stored = await store.loadMany(portalId, departed);
  for (const chatId of departed) {
    const snapshot = stored.get(chatId);
    if (snapshot === undefined) continue;
    if (snapshot.pending) problems.push(`departed chat ${chatId}: a change is still pending`);
    if (snapshot.version === 0) continue;
    if (snapshot.retiredAt === undefined && snapshot.accessLostAt === undefined) {
      problems.push(`departed chat ${chatId}: neither retired nor access lost`);
    }
    const members = heard.get(chatId);
    const held = members?.baselined ? [...members.members].sort((a, b) => a - b) : undefined;
    const last = [...snapshot.members].sort((a, b) => a - b);
    if (JSON.stringify(held) !== JSON.stringify(last)) {
      problems.push(`departed chat ${chatId}: subscribers hold [${held}], it stored [${last}]`);
    }
  }
  return problems;
}

/** Events SNS accepted in a PublishBatch answer (lost answers included: they were delivered). */
function recordDelivered(command: unknown, output: unknown, into: CloudEvent[]): void {
  if (!(command instanceof PublishBatchCommand)) return;
  const ok = new Set(
    ((output as { Successful?: { Id?: string }[] }).Successful ?? []).map((s) => s.Id),
  );
  for (const entry of command.input.PublishBatchRequestEntries ?? []) {
    if (ok.has(entry.Id)) into.push(JSON.parse(entry.Message ?? '{}') as CloudEvent);
  }
}

function dynamoBoundary(command: { constructor: { name: string }; input?: unknown }): string {
  const name = command.constructor.name.replace(/Command$/, '');
  const input = command.input as { Item?: { pk?: unknown; pendingId?: unknown } } | undefined;
  // Shards are conditional PutItem calls into their own partition (dynamodb-snapshot-store.ts).
  if (name === 'Put' && String(input?.Item?.pk).endsWith(SHARD_PARTITION_SUFFIX)) {
    return 'ddb:shard-write';
  }
  if (name === 'Put') return input?.Item?.pendingId === undefined ? 'ddb:commit' : 'ddb:record';
  if (name === 'Update') return 'ddb:cursor';
  return `ddb:${name}`;
}

/**
 * Counts the calls of one worker process across its I/O (Bitrix24 fetch, DynamoDB, SNS) and
 * injects each fault at its call number.
 */
class FaultInjector {
  private readonly seen = new Map<string, number>();
  private crashed = false;

  constructor(
    private readonly faults: readonly Fault[],
    private readonly log: string[],
    private readonly counts: Map<string, number>,
  ) {}

  wrap<C extends { send: (...args: never[]) => Promise<unknown> }>(
    client: C,
    boundary: (command: never) => string,
    observe?: (command: unknown, output: unknown) => void,
  ): C {
    const send = client.send.bind(client) as (command: unknown) => Promise<unknown>;
    const wrapped = Object.create(client) as C;
    Object.assign(wrapped, {
      send: (command: unknown) =>
        this.around(boundary(command as never), async () => {
          const output = await send(command);
          observe?.(command, output);
          return output;
        }),
    });
    return wrapped;
  }

  fetch(fetch: typeof globalThis.fetch): typeof globalThis.fetch {
    return (input, init) => this.around('bitrix24:request', () => fetch(input, init));
  }

  private async around<T>(boundary: string, call: () => Promise<T>): Promise<T> {
    if (this.crashed) throw injected('process crashed');
    const n = this.seen.get(boundary) ?? 0;
    this.seen.set(boundary, n + 1);
    this.counts.set(boundary, (this.counts.get(boundary) ?? 0) + 1);
    const fault = this.faults.find((f) => f.boundary === boundary && f.nth === n);
    if (fault === undefined) return call();
    this.log.push(`${boundary}:${fault.kind}`);
    switch (fault.kind) {
      case 'fail':
        throw injected('call failed');
      case 'crash':
        this.crashed = true;
        throw injected('process crashed');
      case 'lost':
        await call();
        throw injected('answer lost');
      case 'crash-after':
        await call();
        this.crashed = true;
        throw injected('process crashed after the call');
    }
  }
}

/** A transient-looking error (retryable for the SNS publisher, like a real timeout). */
function injected(message: string): Error {
  return Object.assign(new Error(`injected: ${message}`), { name: 'TimeoutError' });
}

/** `MODEL_DEBUG=1` prints every sync's report (replaying one seed). */
function debug(seed: number, line: string): void {
  if (globalThis.process.env.MODEL_DEBUG) console.info(`[seed ${seed}] ${line}`);
}

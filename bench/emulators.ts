/**
 * The benchmark's emulators in a child process of their own: the Bitrix24 simulator (HTTP on
 * loopback, rate limit off), dynalite (in memory) and fauxqs (SNS). Keeping them out of the
 * measuring process means its CPU time and RSS are the sync's own, not the portal's or AWS's.
 *
 * Parent ↔ child over the fork IPC channel: the child sends `ready` with the endpoints, then
 * answers `{ id, cmd }` requests (`stats`, `reset`, `churn`, `churnChat`, `rateLimit`, `load`,
 * `advanceClock`, `close`).
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { startEmbeddedDynamoDb } from '../local/runtime/embedded-dynamodb.js';
import { startEmbeddedSnsSqs } from '../local/runtime/embedded-sns-sqs.js';
import { churn, createRandom, startSimulator } from '../local/simulator/start-simulator.js';
import type { GeneratedSeed, RunningSimulator, SimChat } from '../local/simulator/types.js';

export interface EmulatorOptions {
  readonly chats: number;
  readonly members: number;
  readonly large: readonly number[];
  readonly seed: number;
  /** The simulator's `timeScale` (portal seconds per real second). Default 1. */
  readonly timeScale?: number;
  /** Members of the general chat. Default: `members`. */
  readonly generalChatMembers?: number;
  /** The generated chats' type mix (`GeneratedSeed.mix`). Default: all group chats. */
  readonly mix?: GeneratedSeed['mix'];
  /** Gaps between generated chat IDs (`GeneratedSeed.chatIdGap`). Default 1. */
  readonly chatIdGap?: number;
  /** Bitrix24's default general-chat options: joins post a message, leaves do not. */
  readonly portalDefaults?: boolean;
}

/** One change the simulated day makes (`dayTick`); the emulator picks the user. */
export interface DayChangeRequest {
  /** Milliseconds after the tick's start. */
  readonly offsetMs: number;
  readonly kind: 'join' | 'leave' | 'deleteUser';
  /** The chat (join, leave). */
  readonly chatId?: number;
  /** Made by an internal call that posts nothing (the department structure sync). */
  readonly silent: boolean;
}

/** A membership change the day made, as the oracle sees it. */
export interface DayChange {
  readonly chatId: number;
  readonly userId: number;
  readonly change: 'joined' | 'left';
  /** Portal time of the change, epoch ms. */
  readonly atMs: number;
  /** Whether it moved the chat in the integration user's recent list (a hint). */
  readonly messaged: boolean;
}

export interface ChatShape {
  readonly id: number;
  readonly members: number;
  /** Members `im.dialog.users.list` lists (active users only, docs/bitrix24.md §3). */
  readonly activeMembers: number;
  /** What a leave in it posts (local/simulator/types.ts, `SimChatType`). */
  readonly kind: ChatKind;
}

export type ChatKind =
  | 'general'
  | 'group'
  | 'groupLeaveMessagesOff'
  | 'announcement'
  | 'open'
  | 'channel'
  | 'other';

export interface EmulatorsReady {
  readonly type: 'ready';
  readonly webhookUrl: string;
  readonly baseUrl: string;
  readonly dynamoEndpoint: string;
  readonly snsEndpoint: string;
  readonly topicArn: string;
  readonly generalChatId: number;
  readonly chats: readonly ChatShape[];
  readonly seedMs: number;
}

export type EmulatorRequest =
  | { readonly id: number; readonly cmd: 'stats' }
  | { readonly id: number; readonly cmd: 'reset' }
  /** The chats' current member counts (they change with churn). */
  | { readonly id: number; readonly cmd: 'shapes' }
  | {
      readonly id: number;
      readonly cmd: 'churn';
      readonly share: number;
      readonly seed: number;
      /** Share of the changes made without a system message (the hints miss them). */
      readonly silentShare?: number;
    }
  /** Moves the portal's clock forward (15-minute ticks in no time). */
  | { readonly id: number; readonly cmd: 'advanceClock'; readonly ms: number }
  /** The portal's clock, epoch ms. */
  | { readonly id: number; readonly cmd: 'now' }
  /**
   * Moves the clock through one tick of the simulated day, making each change (in time order)
   * at its time; replies with the changes each request made (`DayChange[][]`: none when no
   * user fits, several for a deleted user). A user is changed at most once per chat.
   */
  | {
      readonly id: number;
      readonly cmd: 'dayTick';
      readonly tickMs: number;
      readonly changes: readonly DayChangeRequest[];
    }
  /** Removes `leave` and adds `join` members of one chat (the large-chat churn run). */
  | {
      readonly id: number;
      readonly cmd: 'churnChat';
      readonly chatId: number;
      readonly leave: number;
      readonly join: number;
    }
  /** Switches the portal's leaky bucket (a fresh, empty one) on or off. */
  | {
      readonly id: number;
      readonly cmd: 'rateLimit';
      readonly limit: { readonly burst: number; readonly drainPerSecond: number } | false;
    }
  /** Other integrations' requests per portal second in the bucket. */
  | { readonly id: number; readonly cmd: 'load'; readonly perSecond: number }
  | { readonly id: number; readonly cmd: 'close' };

export interface EmulatorReply {
  readonly id: number;
  readonly ok: boolean;
  readonly value?: unknown;
  readonly error?: string;
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as EmulatorOptions;
  const started = performance.now();
  const sim = await startSimulator({
    seed: {
      chats: options.chats,
      membersPerChat: options.members,
      largeChats: options.large,
      seed: options.seed,
      ...(options.mix ? { mix: options.mix } : {}),
      ...(options.chatIdGap ? { chatIdGap: options.chatIdGap } : {}),
      ...(options.generalChatMembers ? { generalChatMembers: options.generalChatMembers } : {}),
    },
    rateLimit: false,
    tls: false,
    keepProcessAlive: true,
    ...(options.timeScale === undefined ? {} : { timeScale: options.timeScale }),
  });
  const seedMs = performance.now() - started;
  const dynamo = await startEmbeddedDynamoDb(undefined);
  const fauxqs = await startEmbeddedSnsSqs();
  const sns = new SNSClient({
    endpoint: fauxqs.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const topic = await sns.send(new CreateTopicCommand({ Name: 'bench-membership-events' }));
  sns.destroy();
  if (!topic.TopicArn) throw new Error('CreateTopic returned no ARN');

  const admin = sim.admin;
  if (options.portalDefaults) admin.setGeneralChatMessages({ join: true, leave: false });
  const shapes = (): ChatShape[] =>
    admin.chats().map((chat) => {
      let active = 0;
      for (const id of chat.memberIds) if (admin.user(id)?.active !== false) active++;
      return {
        id: chat.id,
        members: chat.memberIds.length,
        activeMembers: active,
        kind: kindOf(chat),
      };
    });
  const chats = shapes();
  const ready: EmulatorsReady = {
    type: 'ready',
    webhookUrl: sim.webhookUrl,
    baseUrl: sim.baseUrl,
    dynamoEndpoint: dynamo.endpoint,
    snsEndpoint: fauxqs.endpoint,
    topicArn: topic.TopicArn,
    generalChatId: admin.generalChatId,
    chats,
    seedMs,
  };
  process.send?.(ready);

  const random = createRandom(options.seed + 1);
  const day = createDayChanges(sim, createRandom(options.seed + 2));
  process.on('message', (message: EmulatorRequest) => {
    const reply = (value: unknown) => process.send?.({ id: message.id, ok: true, value });
    try {
      switch (message.cmd) {
        case 'stats':
          reply(sim.stats());
          return;
        case 'reset':
          sim.resetStats();
          reply(null);
          return;
        case 'shapes':
          reply(shapes());
          return;
        case 'churn':
          reply(
            churn(admin, {
              share: message.share,
              random: createRandom(message.seed),
              ...(message.silentShare === undefined ? {} : { silentShare: message.silentShare }),
            }),
          );
          return;
        case 'churnChat': {
          const chat = admin.chat(message.chatId);
          if (!chat) throw new Error(`no chat ${message.chatId}`);
          const present = new Set(chat.memberIds);
          const removable = chat.memberIds.filter((id) => id !== 1);
          const leave: number[] = [];
          for (let i = 0; i < message.leave && removable.length > 0; i++) {
            const at = Math.floor(random() * removable.length);
            leave.push(removable[at] as number);
            removable[at] = removable[removable.length - 1] as number;
            removable.pop();
          }
          admin.removeMembers(chat.id, leave);
          const fresh = admin.addUsers(message.join).filter((id) => !present.has(id));
          admin.addMembers(chat.id, fresh);
          reply({ left: leave.length, joined: fresh.length });
          return;
        }
        case 'rateLimit':
          sim.setRateLimit(message.limit);
          reply(null);
          return;
        case 'load':
          sim.setCompetingLoad(message.perSecond);
          reply(null);
          return;
        case 'advanceClock':
          sim.advanceClock(message.ms);
          reply(null);
          return;
        case 'now':
          reply(sim.nowMs());
          return;
        case 'dayTick': {
          const made: DayChange[][] = [];
          let elapsed = 0;
          for (const change of message.changes) {
            sim.advanceClock(Math.max(0, change.offsetMs - elapsed));
            elapsed = Math.max(elapsed, change.offsetMs);
            made.push(day.apply(change));
          }
          sim.advanceClock(Math.max(0, message.tickMs - elapsed));
          reply(made);
          return;
        }
        case 'close':
          reply(null);
          void Promise.allSettled([sim.close(), dynamo.stop(), fauxqs.stop()]).then(() =>
            process.exit(0),
          );
          return;
      }
    } catch (error) {
      process.send?.({
        id: message.id,
        ok: false,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  });
  process.on('disconnect', () => process.exit(0));
}

const WEBHOOK_USER = 1;

function kindOf(chat: SimChat): ChatKind {
  if (chat.type === 'general') return 'general';
  if (chat.type === 'open' || chat.type === 'channel') return chat.type;
  if (chat.type !== 'chat') return 'other';
  if (chat.announcement) return 'announcement';
  return chat.leaveMessages ? 'group' : 'groupLeaveMessagesOff';
}

/**
 * The simulated day's changes on the portal: picks the user (never the webhook user, at most
 * one change per user and chat, so no change undoes another before a read could see it) and
 * tells whether the chat moved in the webhook user's recent list.
 */
function createDayChanges(sim: RunningSimulator, random: () => number) {
  const admin = sim.admin;
  const touched = new Set<string>();
  const key = (chatId: number, userId: number) => `${chatId}/${userId}`;
  const pick = <T>(items: readonly T[]): T | undefined =>
    items[Math.floor(random() * items.length)];

  function inChat(change: DayChangeRequest): DayChange[] {
    const chat = change.chatId === undefined ? undefined : admin.chat(change.chatId);
    if (!chat) return [];
    const atMs = sim.nowMs();
    const rowBefore = admin.recentDate(chat.id);
    let userId: number | undefined;
    if (change.kind === 'leave') {
      userId = pick(
        chat.memberIds.filter((id) => id !== WEBHOOK_USER && !touched.has(key(chat.id, id))),
      );
      if (userId === undefined) return [];
      admin.removeMembers(chat.id, [userId], { silent: change.silent, bySelf: random() < 0.5 });
    } else {
      const present = new Set(chat.memberIds);
      const max = admin.userIds().length;
      for (let attempt = 0; attempt < 50 && userId === undefined; attempt++) {
        const candidate = 1 + Math.floor(random() * max);
        const user = admin.user(candidate);
        if (present.has(candidate) || touched.has(key(chat.id, candidate))) continue;
        if (!user?.active || user.bot) continue;
        userId = candidate;
      }
      if (userId === undefined) return [];
      admin.addMembers(chat.id, [userId], { silent: change.silent });
    }
    touched.add(key(chat.id, userId));
    return [
      {
        chatId: chat.id,
        userId,
        change: change.kind === 'leave' ? 'left' : 'joined',
        atMs,
        messaged: admin.recentDate(chat.id) !== rowBefore,
      },
    ];
  }

  return {
    apply(change: DayChangeRequest): DayChange[] {
      if (change.kind !== 'deleteUser') return inChat(change);
      for (let attempt = 0; attempt < 50; attempt++) {
        const userId = 1 + Math.floor(random() * admin.userIds().length);
        if (userId === WEBHOOK_USER || !admin.user(userId)?.active) continue;
        const chatIds = admin
          .chats()
          .filter((chat) => chat.memberIds.includes(userId))
          .map((chat) => chat.id);
        if (chatIds.length === 0 || chatIds.some((id) => touched.has(key(id, userId)))) continue;
        const atMs = sim.nowMs();
        admin.deleteUserRelations(userId);
        for (const chatId of chatIds) touched.add(key(chatId, userId));
        return chatIds.map((chatId) => ({
          chatId,
          userId,
          change: 'left' as const,
          atMs,
          messaged: false,
        }));
      }
      return [];
    },
  };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

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

export interface EmulatorOptions {
  readonly chats: number;
  readonly members: number;
  readonly large: readonly number[];
  readonly seed: number;
  /** The simulator's `timeScale` (portal seconds per real second). Default 1. */
  readonly timeScale?: number;
}

export interface ChatShape {
  readonly id: number;
  readonly members: number;
  /** Members `im.dialog.users.list` lists (active users only, docs/bitrix24.md §3). */
  readonly activeMembers: number;
}

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
  const shapes = (): ChatShape[] =>
    admin.chats().map((chat) => {
      let active = 0;
      for (const id of chat.memberIds) if (admin.user(id)?.active !== false) active++;
      return { id: chat.id, members: chat.memberIds.length, activeMembers: active };
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

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

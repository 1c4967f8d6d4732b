import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createReferenceConsumer,
  type ExportLine,
} from '../../functions/consumer/reference-consumer.js';
import type { CloudEvent } from '../../functions/core/cloud-event.js';
import { createRandom } from '../../local/simulator/seeded-random.js';
import { churn } from '../../local/simulator/seeds.js';
import { startSimulator } from '../../local/simulator/start-simulator.js';
import type { RunningSimulator } from '../../local/simulator/types.js';
import { cli, lines } from '../local/support.js';
import { emulatorClientConfig } from '../support/aws.js';
import { validateEvent } from '../support/event-schemas.js';
import { type FauxqsEndpoint, startFauxqsServer } from '../support/fauxqs-server.js';

/**
 * The downstream story end to end, through the CLI as a user runs it: syncs with churn on the
 * simulator write an events file; an export midway plus the later events give the final truth;
 * `history --at` gives the truth at earlier times, from the file and from an S3 archive; `replay`
 * delivers the same event IDs through SNS (fauxqs) to a subscribed queue.
 */

const SEED = 20_260_303;
// Demo chats the webhook user is in (5 answers Bitrix24's empty "no permission" list), without
// the general chat, whose fallback method leaves dismissed users out of the portal's list.
const CHATS = [2, 3, 4, 6, 7];
const RUNS = 5;
const EXPORT_AFTER = 3;

interface Truth {
  /** A moment after the run finished and before the next churn. */
  readonly time: string;
  readonly members: ReadonlyMap<number, number[]>;
}

let sim: RunningSimulator;
let aws: FauxqsEndpoint;
let dir: string;
let eventsFile: string;
const truths: Truth[] = [];
let exported: ExportLine[] = [];
let eventsBeforeExport = 0;

const membersOf = (chatId: number) =>
  [...(sim.admin.chat(chatId)?.memberIds ?? [])].sort((a, b) => a - b);

function readEvents(text = readFileSync(eventsFile, 'utf8')): CloudEvent[] {
  return lines(text).map((line) => JSON.parse(line) as CloudEvent);
}

beforeAll(async () => {
  sim = await startSimulator({ seed: 'demo', tls: false, rateLimit: false });
  aws = await startFauxqsServer();
  dir = mkdtempSync(join(tmpdir(), 'e2e-downstream-'));
  eventsFile = join(dir, 'events.jsonl');
  const state = join(dir, 'state');
  const random = createRandom(SEED);
  const chatFlags = CHATS.flatMap((id) => ['--chat', String(id)]);
  for (let run = 1; run <= RUNS; run++) {
    if (run > 1) churn(sim.admin, { share: 0.7, random });
    const sync = await cli(
      'sync',
      '--webhook',
      sim.webhookUrl,
      ...chatFlags,
      '--state-dir',
      state,
      '--events',
      eventsFile,
    );
    expect(sync.code, sync.stderr).toBe(0);
    truths.push({
      time: new Date().toISOString(),
      members: new Map(CHATS.map((id) => [id, membersOf(id)])),
    });
    if (run === EXPORT_AFTER) {
      const out = await cli('export', '--webhook', sim.webhookUrl, '--state-dir', state);
      expect(out.code, out.stderr).toBe(0);
      exported = lines(out.stdout).map((line) => JSON.parse(line) as ExportLine);
      eventsBeforeExport = statSync(eventsFile).size;
    }
  }
}, 180_000);

afterAll(async () => {
  await aws?.stop();
  await sim?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe(`downstream (seed ${SEED})`, () => {
  it('writes schema-valid events with churn in every run', () => {
    const events = readEvents();
    for (const event of events) validateEvent(event);
    const changes = events.filter((e) => !e.type.endsWith('baseline.v1'));
    expect(changes.length).toBeGreaterThan(RUNS);
  });

  it('export + the events after it = the final truth: nothing missed, nothing twice', () => {
    // Prepare
    const final = truths.at(-1);
    const source = readEvents()[0]?.source;
    if (!final || !source) throw new Error('no runs');
    expect(exported.map((l) => l.chatId)).toEqual(CHATS);
    const exportedAt = truths[EXPORT_AFTER - 1];
    for (const line of exported) {
      expect(line.source).toBe(source);
      expect(line.members).toEqual(exportedAt?.members.get(line.chatId));
    }
    const later = readEvents(
      readFileSync(eventsFile).subarray(eventsBeforeExport).toString('utf8'),
    );
    expect(later.length).toBeGreaterThan(0);

    for (const [label, events] of [
      ['only the later events', later],
      ['every event, the earlier ones dropped by sequence', readEvents()],
    ] as const) {
      // Act
      const consumer = createReferenceConsumer();
      for (const line of exported) consumer.seed(line);
      for (const event of events) consumer.apply(event);

      // Assess
      for (const chatId of CHATS) {
        const members = [...(consumer.members(source, chatId) ?? [])].sort((a, b) => a - b);
        expect(members, `${label}: chat ${chatId}`).toEqual(final.members.get(chatId));
      }
      expect(consumer.anomalies(), label).toEqual([]);
      expect(
        [...consumer.chats()].every((c) => c.buffered === 0),
        label,
      ).toBe(true);
    }
    // Nothing twice: no later event repeats a sequence the export already holds.
    const exportedSequence = new Map(exported.map((l) => [l.chatId, l.sequence]));
    for (const event of later) {
      const { chatId, sequence } = event.data as { chatId: number; sequence: number };
      expect(sequence).toBeGreaterThan(exportedSequence.get(chatId) ?? 0);
    }
  });

  it('history --at gives the truth at each run', async () => {
    const asked = [
      ...truths.map((truth) => ({ chatId: 2, truth })),
      { chatId: 6, truth: truths[1] as Truth },
    ];
    for (const { chatId, truth } of asked) {
      const out = await cli(
        'history',
        '--from',
        eventsFile,
        '--chat',
        String(chatId),
        '--at',
        truth.time,
        '--json',
      );
      expect(out.code, out.stderr).toBe(0);
      const answer = JSON.parse(out.stdout) as { members: number[]; complete: boolean };
      expect(answer.members, `chat ${chatId} at ${truth.time}`).toEqual(truth.members.get(chatId));
      expect(answer.complete).toBe(true);
    }
  });

  it('history reads an S3 archive like the file, names an unreadable object and still answers', async () => {
    // Prepare: the file as Firehose would write it, in gzip objects by day, plus a broken object
    const s3 = new S3Client({ ...emulatorClientConfig(aws.endpoint), forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: 'archive' }));
    const all = lines(readFileSync(eventsFile, 'utf8'));
    const half = Math.ceil(all.length / 2);
    const put = (Key: string, Body: Uint8Array) =>
      s3.send(new PutObjectCommand({ Bucket: 'archive', Key, Body }));
    await put(
      'events/year=2026/month=03/day=03/a.gz',
      gzipSync(`${all.slice(0, half).join('\n')}\n`),
    );
    await put('events/year=2026/month=03/day=04/b.gz', gzipSync(`${all.slice(half).join('\n')}\n`));
    await put('events/year=2026/month=03/day=04/c.gz', Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x01]));
    s3.destroy();
    const final = truths.at(-1);

    // Act
    const out = await cli(
      'history',
      '--from',
      's3://archive/events/',
      '--s3-endpoint',
      aws.endpoint,
      '--chat',
      '2',
      '--json',
    );

    // Assess
    expect(out.code).toBe(2);
    expect(lines(out.stderr)).toEqual([
      expect.stringMatching(
        /^membership-sync: s3:\/\/archive\/events\/year=2026\/month=03\/day=04\/c\.gz is unreadable, skipped: not readable gzip/,
      ),
    ]);
    expect((JSON.parse(out.stdout) as { members: number[] }).members).toEqual(
      final?.members.get(2),
    );
  });

  it('replay delivers every archived event once, unchanged, with its attributes', async () => {
    // Prepare
    const topicArn = await aws.createTopic('replay-standard');
    const queue = await aws.subscribeQueue(topicArn, 'replay-standard', { raw: true });
    const archived = lines(readFileSync(eventsFile, 'utf8'));

    // Act
    const out = await cli(
      'replay',
      '--from',
      eventsFile,
      '--sns-topic-arn',
      topicArn,
      '--sns-endpoint',
      aws.endpoint,
      '--rate',
      '500',
    );

    // Assess
    expect(out.code, out.stderr).toBe(0);
    expect(out.stderr).toMatch(
      new RegExp(
        `replayed ${archived.length} of ${archived.length} event\\(s\\) of ${CHATS.length} chat\\(s\\)`,
      ),
    );
    const delivered = await aws.drain(queue.queueUrl, { expected: archived.length, idleMs: 1_000 });
    expect(delivered.map((d) => d.message).sort()).toEqual([...archived].sort());
    for (const d of delivered) {
      const event = JSON.parse(d.message) as CloudEvent<{ chatId: number }>;
      expect(d.attributes.type).toBe(event.type);
      expect(d.attributes.chatId).toBe(String(event.data.chatId));
    }
  });

  it('replay to a FIFO topic keeps each chat in sequence order; --chat and --since narrow it', async () => {
    // Prepare
    const topicArn = await aws.createTopic('replay', { fifo: true });
    const queue = await aws.subscribeQueue(topicArn, 'replay', { raw: true });
    const since = truths[1]?.time ?? '';
    const expected = readEvents().filter(
      (e) => (e.data as { chatId: number }).chatId === 2 && e.time >= since,
    );
    expect(expected.length).toBeGreaterThan(0);

    // Act
    const out = await cli(
      'replay',
      '--from',
      eventsFile,
      '--sns-topic-arn',
      topicArn,
      '--sns-endpoint',
      aws.endpoint,
      '--chat',
      '2',
      '--since',
      since,
    );

    // Assess
    expect(out.code, out.stderr).toBe(0);
    const delivered = await aws.drain(queue.queueUrl, { expected: expected.length, idleMs: 1_000 });
    expect(delivered.map((d) => (JSON.parse(d.message) as CloudEvent).id)).toEqual(
      expected.map((e) => e.id),
    );
    const portalId = (expected[0]?.data as { portalId?: string } | undefined)?.portalId;
    expect(new Set(delivered.map((d) => d.groupId))).toEqual(new Set([`${portalId}#2`]));
  });

  it('replay refuses a topic of the other kind', async () => {
    const topicArn = await aws.createTopic('replay-kind');
    const out = await cli(
      'replay',
      '--from',
      eventsFile,
      '--sns-topic-arn',
      topicArn,
      '--sns-endpoint',
      aws.endpoint,
      '--topic-kind',
      'fifo',
    );
    expect(out.code).toBe(2);
    expect(lines(out.stderr)).toEqual([
      `membership-sync: --sns-topic-arn: ${topicArn} is a standard topic, not fifo (--topic-kind); replay to a fifo topic or pass --topic-kind standard`,
    ]);
  });
});

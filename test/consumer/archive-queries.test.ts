import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createReferenceConsumer,
  isMemberChange,
  type ReferenceConsumer,
  type TimelineEntry,
} from '../../functions/consumer/reference-consumer.js';
import type { CloudEvent } from '../../functions/core/cloud-event.js';
import { createRandom } from '../../local/simulator/seeded-random.js';
import { archiveSql, duckDbType, parseTableColumns } from '../support/archive-ddl.js';
import {
  type EventHistory,
  generateHistory,
  HISTORY_SOURCE,
  shuffled,
  withDuplicates,
} from '../support/event-history.js';

/**
 * The queries of docs/archive.md, as written there, against the archive's format: gzip JSON lines
 * in Firehose's `year=/month=/day=` folders, with duplicate deliveries. DuckDB stands in for Athena
 * (both read this SQL); the table's columns are the documented DDL's, translated to DuckDB types.
 */

const SEED = 4242;
const DOC_TIME = '2026-03-03T14:00:00.000Z';
const CHAT = 1307;

let dir: string;
let history: EventHistory;
let consumer: ReferenceConsumer;
let instance: DuckDBInstance;
let db: DuckDBConnection;

beforeAll(async () => {
  const random = createRandom(SEED);
  history = generateHistory(random, { chats: 3, steps: 80, partSize: 3, firstChatId: 1306 });
  consumer = createReferenceConsumer();
  for (const event of history.events) consumer.apply(event);

  // Firehose-like objects: a shuffled, partly duplicated stream cut into gzip objects; some are
  // delivered on the next day (a partition is the delivery date).
  dir = mkdtempSync(join(tmpdir(), 'archive-queries-'));
  const delivered = shuffled(random, withDuplicates(random, history.events, 0.2));
  for (let i = 0, part = 0; i < delivered.length; i += 40, part++) {
    const day = part % 4 === 3 ? '04' : '03';
    const folder = join(dir, 'events', 'year=2026', 'month=03', `day=${day}`);
    mkdirSync(folder, { recursive: true });
    const lines = delivered.slice(i, i + 40).map((e) => `${JSON.stringify(e)}\n`);
    writeFileSync(join(folder, `membership-events-${part}.gz`), gzipSync(lines.join('')));
  }

  // No extension is installed or loaded from the network: json is built into the package.
  instance = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  db = await instance.connect();
  const columns = [...parseTableColumns(archiveSql('ddl'))]
    .map(([name, type]) => `'${name}': '${duckDbType(type).replaceAll("'", "''")}'`)
    .join(', ');
  await db.run(
    `CREATE VIEW membership_events AS SELECT * FROM read_json('${join(dir, 'events')}/**/*.gz',
       format = 'newline_delimited', compression = 'gzip',
       hive_partitioning = true, hive_types_autocast = false, columns = {${columns}})`,
  );
});

afterAll(() => {
  db?.closeSync();
  instance?.closeSync();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function rows(sql: string): Promise<Record<string, unknown>[]> {
  return (await db.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
}

/** For each member at `at`: the window of the fact that (last) made them one. */
function expectedSince(timeline: readonly TimelineEntry[], at: string) {
  const since = new Map<number, { from: string | null; to: string }>();
  for (const entry of timeline) {
    if (entry.window.to > at) continue;
    if (!isMemberChange(entry)) {
      since.clear();
      for (const id of entry.members) since.set(id, entry.window);
    } else if (entry.kind === 'joined') {
      since.set(entry.userId, entry.window);
    } else {
      since.delete(entry.userId);
    }
  }
  return [...since]
    .sort(([a], [b]) => a - b)
    .map(([userId, w]) => ({ user_id: String(userId), since_after: w.from, since_by: w.to }));
}

describe(`archive queries (seed ${SEED})`, () => {
  it('reads every field the archive holds, duplicates included', async () => {
    const [count] = await rows(
      'SELECT count(*) AS n, count(DISTINCT id) AS ids, count(data.members) AS baselines, count(data.breaker.minRemoved) AS held FROM membership_events',
    );
    expect(Number(count?.ids)).toBe(history.events.length);
    expect(Number(count?.n)).toBeGreaterThan(history.events.length);
    expect(Number(count?.baselines)).toBeGreaterThan(0);
    expect(Number(count?.held)).toBeGreaterThan(0);
  });

  it('answers "members of a chat at T" as the reference consumer and the portal did', async () => {
    const documented = archiveSql('members-at');
    expect(documented).toContain(`'${DOC_TIME}'`);
    const observations = history.truth.get(CHAT) ?? [];
    const times = [
      DOC_TIME,
      ...observations.map((o) => o.time),
      // between observations: nothing new is known yet
      ...observations.map((o) => new Date(Date.parse(o.time) + 30_000).toISOString()),
    ];
    for (const at of times) {
      const result = await rows(documented.replaceAll(`'${DOC_TIME}'`, `'${at}'`));
      const truth = observations.filter((o) => o.time <= at).at(-1)?.members ?? [];
      const expected = [...(consumer.membersAt(HISTORY_SOURCE, CHAT, at) ?? [])].sort(
        (a, b) => a - b,
      );
      expect(expected, `truth at ${at}`).toEqual(truth);
      expect(result, `at ${at}`).toEqual(
        expectedSince(consumer.timeline(HISTORY_SOURCE, CHAT), at),
      );
    }
  });

  it('answers "changes in a window" with each join and leave observed in it, once', async () => {
    const result = await rows(archiveSql('changes-in-window'));
    const expected = consumer
      .timeline(HISTORY_SOURCE, CHAT)
      .filter(isMemberChange)
      .filter((e) => e.window.to > '2026-03-03T13:00:00.000Z' && e.window.to <= DOC_TIME);
    expect(expected.length).toBeGreaterThan(3);
    expect(result.map((r) => [Number(r.seq), r.type, Number(r.user_id), r.happened_by])).toEqual(
      expected.map((e) => [e.sequence, typeOf(e), e.userId, e.window.to]),
    );
    const leaves = result.filter((r) => String(r.type).endsWith('left.v1'));
    expect(leaves.every((r) => r.reason === 'unknown')).toBe(true);
  });
});

function typeOf(entry: TimelineEntry): CloudEvent['type'] {
  return entry.kind === 'joined'
    ? 'com.bitrix24.membership-sync.chat.member.joined.v1'
    : 'com.bitrix24.membership-sync.chat.member.left.v1';
}

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toOcsf } from '../../functions/consumer/ocsf.js';
import { buildBaselineEvents, buildMemberEvents } from '../../functions/core/build-events.js';
import type { CloudEvent } from '../../functions/core/cloud-event.js';
import { createRandom } from '../../local/simulator/seeded-random.js';
import { generateHistory, HISTORY_PORTAL } from '../support/event-history.js';
import { checkGroupManagement } from '../support/ocsf-class.js';
import { cli, lines } from './support.js';

/** export/history/replay as a user runs them: bad input gets one line and exit 2. */

let dir: string;
let eventsFile: string;
let events: CloudEvent[];
let lastTime: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cli-downstream-'));
  events = generateHistory(createRandom(5), {
    chats: 2,
    steps: 6,
    start: '2026-03-03T13:00:00.000Z',
  }).events;
  lastTime =
    events
      .map((e) => e.time)
      .sort()
      .at(-1) ?? '';
  eventsFile = join(dir, 'events.jsonl');
  writeFileSync(eventsFile, events.map((e) => `${JSON.stringify(e)}\n`).join(''));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const write = (name: string, items: readonly unknown[]) => {
  const path = join(dir, name);
  writeFileSync(path, items.map((e) => `${JSON.stringify(e)}\n`).join(''));
  return path;
};

describe.concurrent('verify', () => {
  it('passes an untouched events file and fails, naming the chat and sequence, after one event is deleted or edited', async () => {
    const ok = await cli('verify', '--from', eventsFile);
    const victim = events.findIndex((e) => (e.data as { sequence: number }).sequence === 2);
    const target = events[victim] as CloudEvent;
    const deleted = write(
      'deleted.jsonl',
      events.filter((_, i) => i !== victim),
    );
    const edited = write(
      'edited.jsonl',
      events.map((e, i) =>
        i === victim ? { ...e, data: { ...(e.data as object), user: { name: 'Mallory' } } } : e,
      ),
    );
    const chat = (target.data as { chatId: number }).chatId;

    const afterDelete = await cli('verify', '--from', deleted);
    const afterEdit = await cli('verify', '--from', edited);

    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.stdout).toContain('complete and unaltered');
    expect(afterDelete.code).toBe(1);
    expect(afterDelete.stdout).toContain(`chat ${chat} (`);
    expect(afterDelete.stdout).toMatch(/sequence 3: missing: sequence 2 missing/);
    expect(afterEdit.code).toBe(1);
    expect(afterEdit.stdout).toMatch(new RegExp(`chat ${chat} .* sequence 2: altered`));
  });
});

describe('ocsf', () => {
  it('writes one valid OCSF Group Management line per membership change of the chat, in sequence order', async () => {
    const out = await cli('ocsf', '--from', eventsFile, '--chat', '1');
    const emitted = lines(out.stdout).map((l) => JSON.parse(l) as Record<string, unknown>);
    const expected = events
      .filter((e) => (e.data as { chatId: number }).chatId === 1)
      .flatMap((e) => toOcsf(e, { name: 'x', vendorName: 'x', version: 'x' }));

    expect(out.code, out.stderr).toBe(0);
    expect(emitted.map((e) => (e.metadata as { uid: string }).uid)).toEqual(
      expected.map((e) => e.metadata.uid),
    );
    for (const e of emitted) expect(checkGroupManagement(e)).toEqual([]);
  });
});

describe.concurrent('history, export and replay on bad input', () => {
  it('history names an unknown chat', async () => {
    const out = await cli('history', '--from', eventsFile, '--chat', '99');
    expect(out.code).toBe(2);
    expect(lines(out.stderr)).toEqual([
      `membership-sync: --chat 99: no events of this chat in ${eventsFile}`,
    ]);
  });

  it('history refuses a time in the future and a time that is not one', async () => {
    const future = await cli(
      'history',
      '--from',
      eventsFile,
      '--chat',
      '1',
      '--at',
      '2999-01-01T00:00:00Z',
    );
    expect(future.code).toBe(2);
    expect(lines(future.stderr)).toEqual([
      expect.stringMatching(
        /^membership-sync: --at: 2999-01-01T00:00:00\.000Z is in the future \(now .+\)$/,
      ),
    ]);
    const garbage = await cli(
      'history',
      '--from',
      eventsFile,
      '--chat',
      '1',
      '--at',
      'last tuesday',
    );
    expect(garbage.code).toBe(2);
    expect(lines(garbage.stderr)).toEqual([
      'membership-sync: --at: "last tuesday" is not an ISO 8601 time, e.g. 2026-03-03T14:00:00Z',
    ]);
  });

  it('history refuses a file that is not events, naming the line', async () => {
    const notEvents = write('other.jsonl', [events[0], { hello: 'world' }]);
    const out = await cli('history', '--from', notEvents, '--chat', '1');
    expect(out.code).toBe(2);
    expect(lines(out.stderr)).toEqual([
      `membership-sync: --from ${notEvents}:2: not a membership event (specversion is not "1.0")`,
    ]);
    expect(out.stdout).toBe('');
  });

  it('history answers up to a missing event, says what is missing and exits 1', async () => {
    // Prepare: chat 1 without its second event
    const chat1 = events.filter((e) => (e.data as { chatId: number }).chatId === 1);
    const missing = chat1[1];
    const gap = write(
      'gap.jsonl',
      chat1.filter((e) => e !== missing),
    );

    // Act
    const out = await cli('history', '--from', gap, '--chat', '1', '--json');

    // Assess
    expect(out.code).toBe(1);
    expect(JSON.parse(out.stdout)).toMatchObject({ complete: false, lastSequence: 1 });
    expect(lines(out.stderr)).toEqual([
      expect.stringMatching(
        /^membership-sync: chat 1: \d+ event\(s\) wait for a missing sequence 2; nothing after .+ is known$/,
      ),
    ]);
  });

  it('history places a join at its system message time and a silent leave in its window, saying which', async () => {
    // Prepare: members 1, 2 read at 13:00; read again 13:00–13:10, finding 3 joined (invited at
    // 13:01 by 1, per the chat's message) and 1 gone without a message.
    const ctx = {
      portal: HISTORY_PORTAL,
      chatId: 7,
      baseVersion: 0,
      previousSequence: 0,
      previousObservedAt: null,
      observedAt: '2026-03-03T13:00:00.000Z',
    };
    const attribution = new Map([
      [3, { actorId: 1, at: '2026-03-03T13:01:00.000Z', how: 'invited' as const, messageId: 9 }],
      [1, null],
    ]);
    const file = write(
      'attributed.jsonl',
      [
        ...buildBaselineEvents(ctx, [1, 2], 'im.chat.user.list'),
        ...buildMemberEvents(
          {
            ...ctx,
            baseVersion: 1,
            previousSequence: 1,
            previousObservedAt: ctx.observedAt,
            observedAt: '2026-03-03T13:10:00.000Z',
          },
          { joined: [3], left: [1] },
          { method: 'im.chat.user.list', details: undefined, attribution },
        ),
      ].map((e) => e.event),
    );

    // Act
    const history = ['history', '--from', file, '--chat', '7', '--at', '2026-03-03T13:05:00Z'];
    const out = await cli(...history, '--json');
    const human = await cli(...history);

    // Assess
    expect(out.code).toBe(0);
    const answer = JSON.parse(out.stdout);
    expect(answer.members).toEqual([1, 2, 3]);
    expect(answer.since.find((s: { userId: number }) => s.userId === 3)).toMatchObject({
      via: 'joined',
      at: '2026-03-03T13:01:00.000Z',
      basis: 'attribution',
    });
    expect(answer.uncertain).toEqual([
      expect.objectContaining({ change: 'left', userId: 1, basis: 'window' }),
    ]);
    expect(answer.timeline.at(-1)).toMatchObject({
      change: 'joined',
      userId: 3,
      basis: 'attribution',
      actorId: 1,
      how: 'invited',
    });
    expect(human.stdout).toContain('joined at 2026-03-03T13:01:00.000Z (system message)');
  });

  it('history asks which portal when the chat ID is on several', async () => {
    const other = events.map((e) => ({
      ...e,
      source: 'https://other.bitrix24.com',
      data: { ...(e.data as object), portalId: 'other', portal: 'https://other.bitrix24.com' },
    }));
    const both = write('two-portals.jsonl', [...events, ...other]);
    const out = await cli('history', '--from', both, '--chat', '1');
    expect(out.code).toBe(2);
    expect(lines(out.stderr)).toEqual([
      'membership-sync: chat 1 is on several portals: acme (https://acme.bitrix24.com), other (https://other.bitrix24.com); name one with --portal',
    ]);
    const named = await cli(
      'history',
      '--from',
      both,
      '--chat',
      '1',
      '--portal',
      'other',
      '--at',
      lastTime,
    );
    expect(named.code, named.stderr).toBe(0);
    expect(named.stdout).toMatch(
      /^chat 1 on https:\/\/other\.bitrix24\.com \(other\) at .+: \d+ member\(s\)/,
    );
    expect(named.stdout).toContain('member since');
  });

  it('replay refuses a --since in the future before touching SNS', async () => {
    const out = await cli(
      'replay',
      '--from',
      eventsFile,
      '--sns-topic-arn',
      'arn:aws:sns:us-east-1:000000000000:t',
      '--since',
      '2999-01-01T00:00:00Z',
    );
    expect(out.code).toBe(2);
    expect(lines(out.stderr)).toEqual([
      expect.stringMatching(
        /^membership-sync: --since: 2999-01-01T00:00:00\.000Z is in the future/,
      ),
    ]);
  });

  it('export refuses an unknown format and exports an empty store as nothing', async () => {
    const bad = await cli(
      'export',
      '--portal',
      'acme',
      '--format',
      'xml',
      '--state-dir',
      join(dir, 'state'),
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("argument 'xml' is invalid");
    const empty = await cli(
      'export',
      '--portal',
      'acme',
      '--format',
      'csv',
      '--state-dir',
      join(dir, 'state'),
    );
    expect(empty.code, empty.stderr).toBe(0);
    expect(lines(empty.stdout)).toEqual([
      'portalId,source,chatId,version,sequence,observedAt,memberCount,members,accessLostAt,retiredAt,heldSince,inFlightFromSequence,inFlightToSequence,inFlightPublished,readStartedAt',
    ]);
  });
});

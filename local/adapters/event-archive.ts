import { createReadStream } from 'node:fs';
import { pipeline, Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { GetObjectCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { type CloudEvent, EVENT_TYPE_PREFIX } from '../../functions/core/cloud-event.js';

/**
 * Where archived events come from: a JSON-lines file as `sync --events` writes it (gzip allowed),
 * or an S3 prefix of the audit archive, whose objects Firehose writes as gzip JSON lines under
 * `events/year=YYYY/month=MM/day=DD/` (docs/archive.md).
 */
export type EventArchive =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 's3'; readonly bucket: string; readonly prefix: string };

/** `--from` could not be used at all (missing file, a file that is not events, an unlistable bucket). */
export class EventArchiveError extends Error {
  override readonly name = 'EventArchiveError';
}

/** One archive object that could not be read; the others still were. */
export interface UnreadableObject {
  /** `s3://bucket/key`. */
  readonly object: string;
  readonly reason: string;
}

export interface ArchiveContents {
  readonly events: CloudEvent[];
  readonly unreadable: readonly UnreadableObject[];
  /** Objects (or files) read. */
  readonly objects: number;
}

export interface ReadArchiveOptions {
  /** Needed for an S3 archive. */
  readonly s3?: S3Client;
  /** Keeps only matching events (the rest are parsed, checked and dropped). */
  readonly keep?: (event: CloudEvent) => boolean;
  /**
   * Skips S3 objects delivered on a day (UTC partition) before this time's day: an event is
   * delivered after it was observed, so nothing at or after `since` is in them.
   */
  readonly since?: Date;
  /** S3 objects fetched at once. @default 8 */
  readonly concurrency?: number;
}

export function parseArchiveLocation(from: string): EventArchive {
  if (!from.startsWith('s3://')) return { kind: 'file', path: from };
  const rest = from.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  if (bucket === '') throw new EventArchiveError(`--from ${from}: expected s3://bucket/prefix`);
  return { kind: 's3', bucket, prefix: slash === -1 ? '' : rest.slice(slash + 1) };
}

export async function readArchive(
  archive: EventArchive,
  options: ReadArchiveOptions = {},
): Promise<ArchiveContents> {
  const keep = options.keep ?? (() => true);
  if (archive.kind === 'file') {
    try {
      const events = await eventsOf(createReadStream(archive.path), keep);
      return { events, unreadable: [], objects: 1 };
    } catch (error) {
      const at = error instanceof BadLineError ? `:${error.line}` : '';
      throw new EventArchiveError(`--from ${archive.path}${at}: ${messageOf(error)}`);
    }
  }
  return readS3Archive(archive, keep, options);
}

async function readS3Archive(
  archive: Extract<EventArchive, { kind: 's3' }>,
  keep: (event: CloudEvent) => boolean,
  options: ReadArchiveOptions,
): Promise<ArchiveContents> {
  const { s3 } = options;
  if (s3 === undefined) throw new TypeError('an S3 archive needs an S3 client');
  const where = `s3://${archive.bucket}/${archive.prefix}`;
  const keys: string[] = [];
  try {
    for await (const page of paginateListObjectsV2(
      { client: s3 },
      { Bucket: archive.bucket, Prefix: archive.prefix },
    )) {
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined || object.Key.endsWith('/')) continue;
        if (options.since !== undefined && deliveredBefore(object.Key, options.since)) continue;
        keys.push(object.Key);
      }
    }
  } catch (error) {
    throw new EventArchiveError(`--from ${where}: ${messageOf(error)}`);
  }

  const events: CloudEvent[] = [];
  const unreadable: UnreadableObject[] = [];
  let next = 0;
  const worker = async () => {
    for (let key = keys[next++]; key !== undefined; key = keys[next++]) {
      const object = `s3://${archive.bucket}/${key}`;
      try {
        const out = await s3.send(new GetObjectCommand({ Bucket: archive.bucket, Key: key }));
        if (!(out.Body instanceof Readable)) throw new Error('no body');
        events.push(...(await eventsOf(out.Body, keep)));
      } catch (error) {
        const at = error instanceof BadLineError ? `line ${error.line}: ` : '';
        unreadable.push({ object, reason: `${at}${messageOf(error)}` });
      }
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(options.concurrency ?? 8, keys.length) }, worker),
  );
  unreadable.sort((a, b) => a.object.localeCompare(b.object));
  return { events, unreadable, objects: keys.length };
}

const PARTITION = /(?:^|\/)year=(\d{4})\/month=(\d{2})\/day=(\d{2})\//;

function deliveredBefore(key: string, since: Date): boolean {
  const match = PARTITION.exec(key);
  if (match === null) return false;
  const [, year, month, day] = match;
  return `${year}-${month}-${day}` < since.toISOString().slice(0, 10);
}

class BadLineError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Every line of a JSON-lines body (gzip or not) as a checked event, streamed (a local file may be
 * large); throws naming the first bad line.
 */
async function eventsOf(
  body: Readable,
  keep: (event: CloudEvent) => boolean,
): Promise<CloudEvent[]> {
  const events: CloudEvent[] = [];
  let number = 0;
  for await (const raw of linesOf(body)) {
    number++;
    const line = raw.trim();
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new BadLineError(number, 'not JSON, so not a membership event');
    }
    const problem = eventProblem(value);
    if (problem !== undefined) {
      throw new BadLineError(number, `not a membership event (${problem})`);
    }
    if (keep(value as CloudEvent)) events.push(value as CloudEvent);
  }
  return events;
}

/** The body's lines; gunzipped first when it starts with the gzip magic bytes. */
async function* linesOf(body: Readable): AsyncGenerator<string> {
  const chunks = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await chunks.next();
  if (first.done) return;
  const head = first.value;
  const all = Readable.from(
    (async function* () {
      try {
        yield head;
        for (let next = await chunks.next(); !next.done; next = await chunks.next()) {
          yield next.value;
        }
      } finally {
        // Stopped early (a bad line, broken gzip): release the file or connection.
        await chunks.return?.();
      }
    })(),
  );
  let text: AsyncIterable<Buffer> = all;
  if (head[0] === 0x1f && head[1] === 0x8b) {
    const gunzip = createGunzip();
    // Errors of either side end the iteration below with that error.
    pipeline(all, gunzip, () => {});
    text = gunzip;
  }
  const decoder = new StringDecoder('utf8');
  let carry = '';
  try {
    for await (const chunk of text) {
      const parts = (carry + decoder.write(chunk)).split('\n');
      carry = parts.pop() ?? '';
      yield* parts;
    }
  } catch (error) {
    const zlib = String((error as { code?: unknown }).code).startsWith('Z_');
    throw zlib ? new Error(`not readable gzip (${messageOf(error)})`) : error;
  }
  carry += decoder.end();
  if (carry !== '') yield carry;
}

/** What keeps a value from being an event of this contract; undefined when it is one. */
export function eventProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'not an object';
  const event = value as Partial<Record<keyof CloudEvent, unknown>>;
  if (event.specversion !== '1.0') return 'specversion is not "1.0"';
  for (const field of ['id', 'source', 'time'] as const) {
    if (typeof event[field] !== 'string') return `no ${field}`;
  }
  if (typeof event.type !== 'string' || !event.type.startsWith(`${EVENT_TYPE_PREFIX}.`)) {
    return `type is not ${EVENT_TYPE_PREFIX}.*`;
  }
  const data = event.data as Record<string, unknown> | null | undefined;
  if (typeof data !== 'object' || data === null) return 'no data';
  if (!Number.isSafeInteger(data.chatId)) return 'no data.chatId';
  if (!Number.isSafeInteger(data.sequence) || (data.sequence as number) < 1) {
    return 'no data.sequence';
  }
  const window = data.window as Record<string, unknown> | null | undefined;
  if (typeof window?.to !== 'string' || Number.isNaN(Date.parse(window.to))) {
    return 'no data.window.to';
  }
  return undefined;
}

function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.message || error.name;
}

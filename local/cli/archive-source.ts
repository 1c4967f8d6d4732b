import { S3Client } from '@aws-sdk/client-s3';
import type { CloudEvent } from '../../functions/core/cloud-event.js';
import {
  type ArchiveContents,
  parseArchiveLocation,
  readArchive,
} from '../adapters/event-archive.js';
import { localAwsConfig } from '../runtime/local-aws-config.js';
import { UsageError } from './resolve-run-config.js';

/** Flags `history` and `replay` share to name their event source. */
export interface ArchiveFlags {
  readonly from: string;
  readonly s3Endpoint?: string;
}

/**
 * Reads `--from` (a file or `s3://bucket/prefix`). An S3 archive is reached with the usual AWS
 * credential chain, or at `--s3-endpoint` (an emulator, path-style, fixed local credentials).
 * Unreadable objects are reported on stderr, one line each, and returned for the exit code.
 */
export async function readEventsFrom(
  flags: ArchiveFlags,
  options: { keep?: (event: CloudEvent) => boolean; since?: Date } = {},
): Promise<ArchiveContents> {
  const archive = parseArchiveLocation(flags.from);
  const s3 =
    archive.kind === 's3'
      ? new S3Client(
          flags.s3Endpoint ? { ...localAwsConfig(flags.s3Endpoint), forcePathStyle: true } : {},
        )
      : undefined;
  try {
    const contents = await readArchive(archive, {
      ...(s3 ? { s3 } : {}),
      ...(options.keep ? { keep: options.keep } : {}),
      ...(options.since ? { since: options.since } : {}),
    });
    for (const { object, reason } of contents.unreadable) {
      process.stderr.write(`membership-sync: ${object} is unreadable, skipped: ${reason}\n`);
    }
    return contents;
  } finally {
    s3?.destroy();
  }
}

/**
 * A point in time given on the command line: ISO 8601 (`2026-03-03T14:00:00Z`; without an offset,
 * local time), never in the future.
 */
export function parsePastTime(flag: string, value: string, now: Date = new Date()): Date {
  const ms = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new UsageError(`${flag}: "${value}" is not an ISO 8601 time, e.g. 2026-03-03T14:00:00Z`);
  }
  if (ms > now.getTime()) {
    throw new UsageError(
      `${flag}: ${new Date(ms).toISOString()} is in the future (now ${now.toISOString()})`,
    );
  }
  return new Date(ms);
}

export function chatIdOf(event: CloudEvent): number {
  return (event.data as { chatId: number }).chatId;
}

export function sequenceOf(event: CloudEvent): number {
  return (event.data as { sequence: number }).sequence;
}

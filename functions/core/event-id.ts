import { createHash } from 'node:crypto';
import type { EventType } from './cloud-event.js';
import type { ChatId, UserId } from './model.js';

export interface EventIdInput {
  /** The CloudEvents `source` (portal origin). */
  readonly source: string;
  readonly chatId: ChatId;
  /** Member events only; chat-level events hash `-` in its place. */
  readonly userId?: UserId;
  readonly type: EventType;
  /** Version of the snapshot the event was derived from; 0 before the first snapshot. */
  readonly baseVersion: number;
  /**
   * Distinguishes several chat-level events of one type on one base version: the part number and
   * member-list hash of a baseline, the hash of a held leave set. Omitted for everything else.
   */
  readonly discriminator?: string;
}

/**
 * Deterministic event ID (docs/design.md, guarantee 4): sha256 hex of
 * `source \n chatId \n userId|'-' \n type \n baseVersion [\n discriminator]`.
 * Re-running the same diff against the same base version yields the same IDs, so a re-publish
 * after a crash or by the loser of two overlapping runs is a duplicate consumers drop on
 * `source` + `id`. 64 hex characters also fit SNS FIFO's 128-character deduplication ID.
 */
export function eventId(input: EventIdInput): string {
  const parts = [
    input.source,
    String(input.chatId),
    input.userId === undefined ? '-' : String(input.userId),
    input.type,
    String(input.baseVersion),
  ];
  if (input.discriminator !== undefined) parts.push(input.discriminator);
  return createHash('sha256').update(parts.join('\n')).digest('hex');
}

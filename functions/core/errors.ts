import type { ChatId, Snapshot } from './model.js';

/** A member-ID list from Bitrix24 held something that is not a positive integer user ID. */
export class InvalidMemberIdError extends Error {
  override readonly name = 'InvalidMemberIdError';
  constructor(readonly value: unknown) {
    super(`member list holds an invalid user ID: ${JSON.stringify(value) ?? String(value)}`);
  }
}

/** A conditional snapshot write found another state stored than the one it expected. */
export class SnapshotConflictError extends Error {
  override readonly name = 'SnapshotConflictError';
  constructor(
    readonly portalId: string,
    readonly chatId: ChatId,
    readonly expectedVersion: number | undefined,
    options?: ErrorOptions,
  ) {
    super(
      `snapshot of chat ${chatId} on portal ${portalId} changed since version ${expectedVersion ?? 'none'} was read`,
      options,
    );
  }
}

/**
 * Some stored snapshots of a `loadMany` exist but cannot be read back. Such a chat is neither
 * absent (that would re-baseline it) nor readable (nothing to diff against): it must fail alone.
 */
export class SnapshotUnreadableError extends Error {
  override readonly name = 'SnapshotUnreadableError';
  constructor(
    /** The snapshots that were read; chats absent here and from `unreadable` were never synced. */
    readonly readable: ReadonlyMap<ChatId, Snapshot>,
    /** Per unreadable chat, why (no member IDs or secrets). */
    readonly unreadable: ReadonlyMap<ChatId, string>,
  ) {
    super(
      `${unreadable.size} stored snapshot(s) cannot be read: ${[...unreadable.values()]
        .slice(0, 3)
        .join('; ')}`,
    );
  }
}

export class PublishError extends Error {
  override readonly name = 'PublishError';
  constructor(
    message: string,
    /** IDs of the events that were not acknowledged. */
    readonly failedEventIds: readonly string[],
    options?: ErrorOptions & {
      /** Some events were not sent (or not retried) because the deadline came first. */
      readonly deadlineReached?: boolean;
    },
  ) {
    super(message, options);
    this.deadlineReached = options?.deadlineReached === true;
  }
  readonly deadlineReached: boolean;
}

/** Another planner saved the portal's hint state since it was loaded. */
export class HintStateConflictError extends Error {
  override readonly name = 'HintStateConflictError';
  constructor(readonly portalId: string) {
    super(`the hint state of portal ${portalId} changed since it was loaded`);
  }
}

/** A release was asked for a chat that holds no mass change. */
export class NothingHeldError extends Error {
  override readonly name = 'NothingHeldError';
  constructor(
    readonly portalId: string,
    readonly chatId: number,
  ) {
    super(`chat ${chatId} on portal ${portalId} has no held mass change to release`);
  }
}

/** The chat has a change in flight; releasing now would race the sync that finishes it. */
export class ChangePendingError extends Error {
  override readonly name = 'ChangePendingError';
  constructor(
    readonly portalId: string,
    readonly chatId: number,
    readonly pendingSince: string,
  ) {
    super(
      `chat ${chatId} on portal ${portalId} has a change in flight since ${pendingSince}; the next sync finishes it, then release again if a change is still held`,
    );
  }
}

const URL_PATTERN = /\bhttps?:\/\/[^\s"'<>]+/gi;
const MAX_MESSAGE_LENGTH = 500;

/**
 * Error text fit for a report or a log line: every URL cut to its origin (a webhook URL carries
 * its secret code in the path; docs/design.md, guarantee 7), capped in length.
 */
export function safeMessage(cause: unknown): string {
  const text = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
  return text
    .replace(URL_PATTERN, (url) => {
      try {
        return new URL(url).origin;
      } catch {
        return '[url]';
      }
    })
    .slice(0, MAX_MESSAGE_LENGTH);
}

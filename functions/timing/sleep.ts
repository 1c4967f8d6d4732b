import { setTimeout } from 'node:timers/promises';

/**
 * Resolves after `ms`: the one sleep of `functions/`. Components whose waits tests need to
 * observe (the Bitrix24 client, the OAuth session, the SQS work queue) take a `sleep` option
 * defaulting to this; the others call it directly.
 */
export function sleep(ms: number): Promise<void> {
  return setTimeout(ms);
}

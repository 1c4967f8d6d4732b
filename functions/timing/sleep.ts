import { setTimeout } from 'node:timers/promises';

/**
 * Resolves after `ms`: the one sleep of `functions/`. Components that wait take a `sleep`
 * option defaulting to this, so tests can record waits instead of sitting through them.
 */
export function sleep(ms: number): Promise<void> {
  return setTimeout(ms);
}

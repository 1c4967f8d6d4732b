import type { Snapshot } from './model.js';

export class NothingHeldError extends Error {
  override readonly name = 'NothingHeldError';
  constructor(
    readonly portalId: string,
    readonly chatId: number,
  ) {
    super(`chat ${chatId} on portal ${portalId} has no held mass change to release`);
  }
}

/**
 * An operator's approval of a held mass change (DESIGN invariant 3). The next sync applies the
 * change once, provided every member it removes was among the held leaves (`decideBreaker`).
 * The result is saved conditionally on `snapshot.version` like any other write, so a release
 * racing a sync loses cleanly instead of approving a change nobody looked at.
 */
export function releaseHeldChange(snapshot: Snapshot): Snapshot {
  if (!snapshot.held) throw new NothingHeldError(snapshot.portalId, snapshot.chatId);
  return { ...snapshot, version: snapshot.version + 1, held: { ...snapshot.held, released: true } };
}

import { ChangePendingError, NothingHeldError } from './errors.js';
import type { Snapshot } from './model.js';

/**
 * An operator's approval of a held mass change (docs/design.md, guarantee 3). The next sync applies the
 * change once, provided every member it removes was among the held leaves (`decideBreaker`).
 * The result is saved conditionally on `snapshot.version` (and no pending change) like any other
 * write, so a release racing a sync loses cleanly instead of approving a change nobody looked at.
 * A chat with a change in flight is refused: the outbox must finish that change unchanged first.
 */
export function releaseHeldChange(snapshot: Snapshot): Snapshot {
  if (snapshot.pending) {
    throw new ChangePendingError(snapshot.portalId, snapshot.chatId, snapshot.pending.observedAt);
  }
  if (!snapshot.held) throw new NothingHeldError(snapshot.portalId, snapshot.chatId);
  return { ...snapshot, version: snapshot.version + 1, held: { ...snapshot.held, released: true } };
}

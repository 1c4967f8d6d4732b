import { SnapshotUnreadableError } from './errors.js';
import type { ChatId, Snapshot } from './model.js';
import type { SnapshotStore } from './ports.js';

/** What the planner reads of the stored snapshots. */
export type StoredChats = Pick<SnapshotStore, 'listChatIds' | 'loadMany'>;

/**
 * Whether a chat that left the configured or discovered set still owes subscribers its last
 * word: a pending change to finish, or the news that it is no longer covered (`chat.access_lost`
 * when it cannot be read, `chat.retired` when it can). A chat with nothing committed owes nothing.
 */
export function owesLastWord(snapshot: Snapshot): boolean {
  if (snapshot.pending !== undefined) return true;
  if (snapshot.version === 0) return false;
  return snapshot.retiredAt === undefined && snapshot.accessLostAt === undefined;
}

/**
 * The chats of `known` (stored, or remembered by the planner) that are not in `current` and
 * still owe their last word, ascending. A chat whose snapshot cannot be read back counts: its
 * read then fails visibly (`snapshot_unreadable`) instead of the chat dropping out unheard.
 */
export async function departedChats(
  store: StoredChats,
  portalId: string,
  known: Iterable<ChatId>,
  current: readonly ChatId[],
): Promise<ChatId[]> {
  const inSet = new Set(current);
  const candidates = [...new Set(known)].filter((id) => !inSet.has(id)).sort((a, b) => a - b);
  if (candidates.length === 0) return [];
  let loaded: ReadonlyMap<ChatId, Snapshot>;
  let unreadable: ReadonlyMap<ChatId, string> = new Map();
  try {
    loaded = await store.loadMany(portalId, candidates);
  } catch (error) {
    if (!(error instanceof SnapshotUnreadableError)) throw error;
    loaded = error.readable;
    unreadable = error.unreadable;
  }
  return candidates.filter((id) => {
    const snapshot = loaded.get(id);
    return snapshot ? owesLastWord(snapshot) : unreadable.has(id);
  });
}

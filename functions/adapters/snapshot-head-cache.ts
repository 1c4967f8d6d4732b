import type { ShardRef } from './snapshot-item-codec.js';

/** What a snapshot store remembers of a head it loaded or saved (~200 bytes). */
export interface CachedHead {
  readonly version: number;
  readonly pendingId: string | undefined;
  /** `stateKey` of the stored snapshot. */
  readonly state: string;
  readonly bodyHash: string;
  readonly shards: ShardRef | undefined;
}

/** Heads by partition key, at most `size` of them; the least recently used is dropped first. */
export interface HeadCache {
  get(pk: string): CachedHead | undefined;
  set(pk: string, head: CachedHead): void;
  delete(pk: string): void;
}

export function createHeadCache(size: number): HeadCache {
  // A Map iterates in insertion order: re-inserting on every use keeps the oldest first.
  const heads = new Map<string, CachedHead>();
  return {
    get(pk) {
      const hit = heads.get(pk);
      if (hit) {
        heads.delete(pk);
        heads.set(pk, hit);
      }
      return hit;
    },
    set(pk, head) {
      heads.delete(pk);
      heads.set(pk, head);
      if (heads.size > size) heads.delete(heads.keys().next().value as string);
    },
    delete(pk) {
      heads.delete(pk);
    },
  };
}

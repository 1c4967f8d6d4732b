/**
 * CPU of the per-chat hot path on one large chat, in isolation: core `normalizeMemberIds`,
 * `diffMembers`, `contentHash`, and the store's codec (`encodeIdLists` + `compress`, and back).
 * Input: `members` sparse IDs out of 1..10,000,000 (mean gap 50), a read with 0.5 % left and
 * 0.5 % joined, handed over in random order (as `im.chat.user.list` has no ORDER BY).
 */
import {
  compress,
  decodeIdLists,
  decompress,
  encodeIdLists,
} from '../functions/adapters/id-list-codec.js';
import { diffMembers } from '../functions/core/diff-members.js';
import { contentHash, normalizeMemberIds } from '../functions/core/member-set.js';
import { createRandom } from '../local/simulator/seeded-random.js';
import { median, round } from './harness.js';

export interface LargeMicroResult {
  readonly members: number;
  readonly iterations: number;
  /** Median ms (CPU time of this thread: process.cpuUsage user+system). */
  readonly normalizeUnsortedMs: number;
  readonly normalizeSortedMs: number;
  readonly diffMs: number;
  readonly hashMs: number;
  /** encodeIdLists + brotli(5) compress. */
  readonly encodeMs: number;
  /** decompress + decodeIdLists. */
  readonly decodeMs: number;
  /** normalize (unsorted read) + diff + hash + encode: what one changed large chat costs. */
  readonly cpuMs: number;
  readonly rawBytes: number;
  readonly storedBytes: number;
  readonly joined: number;
  readonly left: number;
}

function cpuMs<T>(fn: () => T): { value: T; ms: number } {
  const start = process.cpuUsage();
  const value = fn();
  const used = process.cpuUsage(start);
  return { value, ms: (used.user + used.system) / 1000 };
}

function sparseIds(count: number, random: () => number): number[] {
  const ids = new Set<number>();
  while (ids.size < count) ids.add(1 + Math.floor(random() * 10_000_000));
  return [...ids].sort((a, b) => a - b);
}

export function runLargeMicro(members: number, iterations = 7): LargeMicroResult {
  const random = createRandom(42);
  const previous = sparseIds(members, random);
  const churned = Math.max(1, Math.round(members * 0.005));
  const current = new Set(previous);
  for (let i = 0; i < churned; i++) {
    current.delete(previous[Math.floor(random() * previous.length)] as number);
  }
  while (current.size < members) current.add(1 + Math.floor(random() * 10_000_000));
  const read = [...current];
  for (let i = read.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [read[i], read[j]] = [read[j] as number, read[i] as number];
  }

  const samples = {
    normalizeUnsorted: [] as number[],
    normalizeSorted: [] as number[],
    diff: [] as number[],
    hash: [] as number[],
    encode: [] as number[],
    decode: [] as number[],
    total: [] as number[],
  };
  let rawBytes = 0;
  let storedBytes = 0;
  let joined = 0;
  let left = 0;
  for (let i = 0; i < iterations; i++) {
    const normalized = cpuMs(() => normalizeMemberIds(read));
    const canonical = normalized.value;
    const sorted = cpuMs(() => normalizeMemberIds(canonical));
    const diff = cpuMs(() => diffMembers(previous, canonical));
    const hash = cpuMs(() => contentHash(canonical));
    const encoded = cpuMs(() => {
      const raw = encodeIdLists([canonical, [], []]);
      return { raw, body: compress(raw, { compression: 'brotli', brotliQuality: 5 }) };
    });
    const decoded = cpuMs(() =>
      decodeIdLists(decompress(encoded.value.body.bytes, encoded.value.body.compression)),
    );
    if (decoded.value[0]?.length !== canonical.length) throw new Error('codec round trip failed');
    samples.normalizeUnsorted.push(normalized.ms);
    samples.normalizeSorted.push(sorted.ms);
    samples.diff.push(diff.ms);
    samples.hash.push(hash.ms);
    samples.encode.push(encoded.ms);
    samples.decode.push(decoded.ms);
    samples.total.push(normalized.ms + diff.ms + hash.ms + encoded.ms);
    rawBytes = encoded.value.raw.length;
    storedBytes = encoded.value.body.bytes.length;
    joined = diff.value.joined.length;
    left = diff.value.left.length;
  }
  const m = (xs: number[]) => round(median(xs), 2);
  return {
    members,
    iterations,
    normalizeUnsortedMs: m(samples.normalizeUnsorted),
    normalizeSortedMs: m(samples.normalizeSorted),
    diffMs: m(samples.diff),
    hashMs: m(samples.hash),
    encodeMs: m(samples.encode),
    decodeMs: m(samples.decode),
    cpuMs: m(samples.total),
    rawBytes,
    storedBytes,
    joined,
    left,
  };
}

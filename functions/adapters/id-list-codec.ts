import {
  brotliCompressSync,
  brotliDecompressSync,
  deflateRawSync,
  inflateRawSync,
  constants as zlibConstants,
} from 'node:zlib';

/**
 * Compact binary encoding of lists of positive integer IDs, used for snapshot bodies.
 *
 * Layout (before compression): `FORMAT` byte, varint list count, then per list a varint length
 * followed by the ascending IDs as delta varints (first value absolute, then differences, all ≥ 1).
 * Varints are unsigned LEB128 computed with arithmetic, not bit operations, so IDs up to
 * `Number.MAX_SAFE_INTEGER` survive (bitwise operators would truncate at 2^31).
 *
 * Random sparse IDs (200,000 out of 1..10,000,000, mean gap 50) take ~1.08 bytes per ID raw;
 * dense IDs take ~1 byte per ID raw and compress to a few hundred bytes.
 */
const FORMAT = 1;

export type Compression = 'none' | 'deflate' | 'brotli';

export class IdListDecodeError extends Error {
  override readonly name = 'IdListDecodeError';
}

/** Encodes lists that must each be strictly ascending positive safe integers. */
export function encodeIdLists(lists: readonly (readonly number[])[]): Uint8Array {
  let bound = 1 + 10;
  for (const list of lists) bound += 10 + list.length * 8;
  const out = new Uint8Array(bound);
  let at = 0;
  const put = (value: number): void => {
    let v = value;
    while (v >= 0x80) {
      out[at++] = (v % 0x80) + 0x80;
      v = Math.floor(v / 0x80);
    }
    out[at++] = v;
  };
  out[at++] = FORMAT;
  put(lists.length);
  for (const list of lists) {
    put(list.length);
    let previous = 0;
    for (const id of list) {
      if (!Number.isSafeInteger(id) || id <= previous) {
        throw new RangeError('ID lists must be strictly ascending positive safe integers');
      }
      put(id - previous);
      previous = id;
    }
  }
  return out.slice(0, at);
}

export function decodeIdLists(bytes: Uint8Array): number[][] {
  let at = 0;
  const take = (): number => {
    let value = 0;
    let scale = 1;
    for (;;) {
      const byte = bytes[at++];
      if (byte === undefined) throw new IdListDecodeError('truncated ID list body');
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 0x80;
      if (scale > 2 ** 56) throw new IdListDecodeError('varint too long');
    }
  };
  if (bytes[at++] !== FORMAT) throw new IdListDecodeError('unknown ID list format');
  const listCount = take();
  const lists: number[][] = [];
  for (let l = 0; l < listCount; l++) {
    const length = take();
    if (length > bytes.length) throw new IdListDecodeError('ID list length exceeds body');
    const list = new Array<number>(length);
    let previous = 0;
    for (let i = 0; i < length; i++) {
      previous += take();
      list[i] = previous;
    }
    lists.push(list);
  }
  if (at !== bytes.length) throw new IdListDecodeError('trailing bytes after ID lists');
  return lists;
}

export interface CompressOptions {
  /** Preferred algorithm; the raw bytes are kept when compression does not make them smaller. */
  readonly compression: Compression;
  /**
   * Brotli quality 0–11. Default 5: measured on 200,000 sparse IDs it is within 1 % of quality 9
   * in size at a fifth of the CPU time; 11 saves another 1 % for ~150× the time.
   */
  readonly brotliQuality?: number | undefined;
}

export function compress(
  raw: Uint8Array,
  options: CompressOptions,
): { bytes: Uint8Array; compression: Compression } {
  let packed: Uint8Array | undefined;
  if (options.compression === 'brotli') {
    packed = brotliCompressSync(raw, {
      params: {
        [zlibConstants.BROTLI_PARAM_QUALITY]: options.brotliQuality ?? 5,
        [zlibConstants.BROTLI_PARAM_SIZE_HINT]: raw.length,
      },
    });
  } else if (options.compression === 'deflate') {
    packed = deflateRawSync(raw, { level: 9 });
  }
  if (packed !== undefined && packed.length < raw.length) {
    return {
      bytes: new Uint8Array(packed.buffer, packed.byteOffset, packed.length),
      compression: options.compression,
    };
  }
  return { bytes: raw, compression: 'none' };
}

export function decompress(bytes: Uint8Array, compression: Compression): Uint8Array {
  switch (compression) {
    case 'none':
      return bytes;
    case 'deflate':
      return inflateRawSync(bytes);
    case 'brotli':
      return brotliDecompressSync(bytes);
  }
}

import { describe, expect, it } from 'vitest';
import {
  compress,
  decodeIdLists,
  decompress,
  encodeIdLists,
  IdListDecodeError,
} from '../../functions/adapters/id-list-codec.js';

describe('id-list codec', () => {
  it('round-trips several lists, empty ones and IDs up to Number.MAX_SAFE_INTEGER', () => {
    const lists = [
      [1, 2, 3, 127, 128, 16_384, 2 ** 31, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER],
      [],
      [5],
    ];

    expect(decodeIdLists(encodeIdLists(lists))).toEqual(lists);
  });

  it.each(['none', 'deflate', 'brotli'] as const)('round-trips through %s', (compression) => {
    const ids = Array.from({ length: 5_000 }, (_, i) => 1 + i * 3);
    const packed = compress(encodeIdLists([ids]), { compression });

    expect(decodeIdLists(decompress(packed.bytes, packed.compression))).toEqual([ids]);
  });

  it('keeps raw bytes when compression would not shrink them', () => {
    expect(compress(encodeIdLists([[7]]), { compression: 'brotli' }).compression).toBe('none');
  });

  it.each([
    ['unsorted', [3, 2]],
    ['duplicate', [2, 2]],
    ['zero', [0, 1]],
    ['fractional', [1.5]],
    ['unsafe', [2 ** 53]],
  ])('rejects %s IDs', (_case, ids) => {
    expect(() => encodeIdLists([ids])).toThrow(RangeError);
  });

  it('detects truncated and trailing bytes', () => {
    const bytes = encodeIdLists([[1, 300, 70_000]]);

    expect(() => decodeIdLists(bytes.subarray(0, bytes.length - 1))).toThrow(IdListDecodeError);
    expect(() => decodeIdLists(new Uint8Array([...bytes, 0]))).toThrow(IdListDecodeError);
  });
});

import { describe, expect, it } from 'vitest';
import { buildPhpQuery } from '../../functions/bitrix24/php-query.js';

describe('PHP-style query building', () => {
  it('encodes scalars', () => {
    expect(buildPhpQuery({ CHAT_ID: 42, DIALOG_ID: 'chat42', SKIP_EXTERNAL: 'Y' })).toBe(
      'CHAT_ID=42&DIALOG_ID=chat42&SKIP_EXTERNAL=Y',
    );
  });

  it('repeats list keys with empty brackets', () => {
    expect(buildPhpQuery({ ID: [1, 2, 3] })).toBe('ID[]=1&ID[]=2&ID[]=3');
  });

  it('nests object keys in brackets and encodes them', () => {
    expect(buildPhpQuery({ FILTER: { '>ID': 5, NAME: 'a b&c' } })).toBe(
      'FILTER[%3EID]=5&FILTER[NAME]=a%20b%26c',
    );
  });

  it('indexes arrays of objects so each object stays one element', () => {
    expect(buildPhpQuery({ A: [{ x: 1, y: 2 }, { x: 3 }] })).toBe('A[0][x]=1&A[0][y]=2&A[1][x]=3');
  });

  it('drops null and undefined and writes booleans as 1/0 like http_build_query', () => {
    expect(buildPhpQuery({ a: null, b: undefined, c: true, d: false, e: 0 })).toBe('c=1&d=0&e=0');
  });

  it('encodes unicode and reserved characters in values', () => {
    expect(buildPhpQuery({ Q: 'Привет=?' })).toBe(`Q=${encodeURIComponent('Привет=?')}`);
  });
});

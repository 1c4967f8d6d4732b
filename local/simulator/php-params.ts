/**
 * PHP-style request parameters: `ID[]=1&ID[]=2`, `ID[0]=1`, `cmd[k]=...`, `FILTER[>ID]=5`
 * (docs/bitrix24.md §6, data-encoding.md). Pairs are folded into ordered PHP arrays, then into
 * plain values: a PHP array whose keys are exactly 0..n-1 in order becomes a JS array, any other an
 * object.
 */

export type ParamValue = string | number | boolean | null | ParamValue[] | ParamObject;
export interface ParamObject {
  [key: string]: ParamValue;
}
export type Params = Record<string, ParamValue>;

class PhpArray {
  readonly entries = new Map<string, string | PhpArray>();
  private nextIndex = 0;

  key(segment: string): string {
    if (segment === '') return String(this.nextIndex++);
    if (/^(0|-?[1-9]\d*)$/.test(segment)) {
      const index = Number(segment);
      if (index >= this.nextIndex) this.nextIndex = index + 1;
    }
    return segment;
  }
}

function splitKey(rawKey: string): [string, string[]] {
  const open = rawKey.indexOf('[');
  if (open <= 0 || !rawKey.includes(']', open)) return [rawKey, []];
  const segments: string[] = [];
  const pattern = /\[([^\]]*)\]/y;
  pattern.lastIndex = open;
  for (let match = pattern.exec(rawKey); match; match = pattern.exec(rawKey)) {
    segments.push(match[1] ?? '');
  }
  return [rawKey.slice(0, open), segments];
}

function toPlain(array: PhpArray): ParamValue {
  let sequential = true;
  let expected = 0;
  for (const key of array.entries.keys()) {
    if (key !== String(expected++)) {
      sequential = false;
      break;
    }
  }
  const convert = (value: string | PhpArray): ParamValue =>
    typeof value === 'string' ? value : toPlain(value);
  if (sequential) return Array.from(array.entries.values(), convert);
  return Object.fromEntries(Array.from(array.entries, ([k, v]) => [k, convert(v)]));
}

/** Folds decoded key/value pairs the way PHP's `parse_str` does (last plain key wins). */
export function parsePhpPairs(pairs: Iterable<readonly [string, string]>): Params {
  const root = new PhpArray();
  for (const [rawKey, value] of pairs) {
    const [base, segments] = splitKey(rawKey);
    if (base === '') continue;
    let container = root;
    let key = base;
    for (const segment of segments) {
      let child = container.entries.get(key);
      if (!(child instanceof PhpArray)) {
        child = new PhpArray();
        container.entries.set(key, child);
      }
      container = child;
      key = container.key(segment);
    }
    container.entries.set(key, value);
  }
  const plain = toPlain(root);
  if (Array.isArray(plain)) return Object.fromEntries(plain.map((value, i) => [String(i), value]));
  return plain as Params;
}

/** Parses a URL-encoded query string (`+` is a space, as in PHP). */
export function parsePhpQuery(query: string): Params {
  return parsePhpPairs(new URLSearchParams(query));
}

/** PHP `intval` on a request value: leading integer of a string, 0 otherwise. */
export function intval(value: unknown): number {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : 0;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string') {
    const match = /^\s*[+-]?\d+/.exec(value);
    return match ? Number.parseInt(match[0], 10) : 0;
  }
  return 0;
}

/** PHP truthiness of a request value (`"0"` and `""` are false, `"false"` is true). */
export function phpTruthy(value: unknown): boolean {
  if (value === undefined || value === null || value === false) return false;
  if (value === 0 || value === '' || value === '0') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

/** `isset()`: present and not null. */
export function isSet(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** `array_change_key_case(..., CASE_UPPER)`: im.* methods read their parameters upper-cased. */
export function upperCaseKeys(params: Params): Params {
  const upper: Params = {};
  for (const [key, value] of Object.entries(params)) upper[key.toUpperCase()] = value;
  return upper;
}

/**
 * PHP-style query strings for `batch` commands (docs/bitrix24.md §6: `method?query`, parsed by
 * PHP's `parse_str`). Arrays of scalars become `ID[]=1&ID[]=2`; arrays holding objects get explicit
 * indexes (`A[0][x]=1`) so each object stays one element; objects become `FILTER[>ID]=5`.
 * `null`/`undefined` are omitted and booleans become `1`/`0`, as `http_build_query` does. Brackets
 * stay literal (PHP accepts both); keys and values are percent-encoded. The command travels inside
 * a JSON body, so no second encoding is needed.
 */

export type QueryValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | readonly QueryValue[]
  | { readonly [key: string]: QueryValue };

export function buildPhpQuery(params: Readonly<Record<string, QueryValue>>): string {
  const pairs: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    appendPairs(pairs, encodeURIComponent(key), value);
  }
  return pairs.join('&');
}

function appendPairs(pairs: string[], prefix: string, value: QueryValue): void {
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) {
    const indexed = value.some((item) => typeof item === 'object' && item !== null);
    value.forEach((item: QueryValue, index) => {
      appendPairs(pairs, indexed ? `${prefix}[${index}]` : `${prefix}[]`, item);
    });
    return;
  }
  if (typeof value === 'object') {
    for (const [key, item] of Object.entries(value as Record<string, QueryValue>)) {
      appendPairs(pairs, `${prefix}[${encodeURIComponent(key)}]`, item);
    }
    return;
  }
  const scalar = typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
  pairs.push(`${prefix}=${encodeURIComponent(scalar)}`);
}

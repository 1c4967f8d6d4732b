/**
 * PHP's `json_encode` of an ordered PHP array: keys exactly 0..n-1 in order become a JSON list,
 * an empty array becomes `[]` (never `{}`), anything else an object. Batch maps rely on this
 * (docs/bitrix24.md §6: "an empty map serialises as `[]`").
 */
export function phpArrayJson(entries: ReadonlyMap<string, unknown>): unknown {
  if (entries.size === 0) return [];
  let expected = 0;
  for (const key of entries.keys()) {
    if (key !== String(expected++)) return Object.fromEntries(entries);
  }
  return Array.from(entries.values());
}

/**
 * `DIALOG_ID` forms (docs/bitrix24.md §3, §5): `chatN` (chat N), `sgN` (workgroup N's chat),
 * `crmN`, or a bare user ID `N` (the private dialog with that user). Source regex
 * `^([0-9]+|(chat|sg|crm)[0-9]+)$`, case-insensitive.
 */
export type DialogRef =
  | { readonly kind: 'chat'; readonly chatId: number }
  | { readonly kind: 'private'; readonly userId: number }
  | { readonly kind: 'entity'; readonly prefix: 'sg' | 'crm'; readonly entityId: number };

export function parseDialogId(value: unknown): DialogRef | undefined {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string') return undefined;
  const match = /^(?:([0-9]+)|(chat|sg|crm)([0-9]+))$/i.exec(text.trim());
  if (!match) return undefined;
  if (match[1] !== undefined) return { kind: 'private', userId: Number(match[1]) };
  const prefix = (match[2] ?? '').toLowerCase();
  const id = Number(match[3]);
  if (prefix === 'chat') return { kind: 'chat', chatId: id };
  return { kind: 'entity', prefix: prefix === 'sg' ? 'sg' : 'crm', entityId: id };
}

/**
 * Whether a DynamoDB write was refused by its condition expression. Compared by name, not by
 * class: the document client and the low-level client may come from different SDK copies.
 */
export function isConditionalCheckFailed(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

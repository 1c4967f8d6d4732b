import { z } from 'zod';
import { MAX_CHATS_PER_WORK_ITEM, type WorkItem } from '../core/model.js';

/** A work item as it arrives in an SQS body; anything else is rejected with the field named. */
export const workItemSchema = z.strictObject({
  portalId: z.string().min(1),
  chatIds: z.array(z.number().int().positive()).min(1).max(MAX_CHATS_PER_WORK_ITEM),
  scheduledAt: z.iso.datetime(),
}) satisfies z.ZodType<WorkItem>;

export function parseWorkItem(body: string): WorkItem {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new Error('work item: body is not JSON');
  }
  const result = workItemSchema.safeParse(json);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new Error(`work item: ${issues.join('; ')}`);
}

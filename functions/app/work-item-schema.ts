import { z } from 'zod';
import { MAX_CHATS_PER_WORK_ITEM, type WorkItem } from '../core/model.js';

/** A work item as it arrives in an SQS body; anything else is rejected with the field named. */
const chatIdList = z.array(z.number().int().positive()).max(MAX_CHATS_PER_WORK_ITEM);

export const workItemSchema = z
  .strictObject({
    portalId: z.string().min(1),
    chatIds: chatIdList.min(1),
    scheduledAt: z.iso.datetime(),
    reasons: z
      .strictObject({
        hint: chatIdList.exactOptional(),
        new: chatIdList.exactOptional(),
        retry: chatIdList.exactOptional(),
        reconcile: chatIdList.exactOptional(),
        learned: chatIdList.exactOptional(),
        full: chatIdList.exactOptional(),
      })
      .exactOptional(),
    departed: chatIdList.exactOptional(),
  })
  .refine((item) => (item.departed ?? []).every((id) => item.chatIds.includes(id)), {
    message: 'a departed chat is not in chatIds',
    path: ['departed'],
  })
  .refine(
    (item) => {
      const listed = new Set(item.chatIds);
      return Object.values(item.reasons ?? {}).every((ids) => ids.every((id) => listed.has(id)));
    },
    { message: 'a chat in reasons is not in chatIds', path: ['reasons'] },
  ) satisfies z.ZodType<WorkItem>;

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

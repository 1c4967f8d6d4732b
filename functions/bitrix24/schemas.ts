import { z } from 'zod';

/**
 * Response shapes (docs/bitrix24.md §2, §3, §4, §6). Objects are loose: Bitrix24 adds fields over
 * time, and we only depend on the ones named here.
 */

/**
 * `time`; `operating*` appear only while the cloud load limiter is active (docs/bitrix24.md §2).
 */
export const timeSchema = z.looseObject({
  start: z.number().optional(),
  finish: z.number().optional(),
  duration: z.number().optional(),
  operating: z.number().optional(),
  operating_reset_at: z.number().optional(),
});
export type ResponseTime = z.infer<typeof timeSchema>;

/** Success envelope; `total`/`next` are moved out of `result` by the server for list methods. */
export const envelopeSchema = z.object({
  result: z.unknown().refine((value) => value !== undefined, 'result is missing'),
  time: timeSchema,
  total: z.number().int().optional(),
  next: z.number().int().optional(),
});

export const errorBodySchema = z.looseObject({
  error: z.string().min(1),
  error_description: z.string().optional(),
});

/**
 * A PHP associative array as JSON: an object, or `[]` when empty (docs/bitrix24.md §6). A PHP array
 * whose keys happen to be 0..n-1 also serialises as a list; both become a string-keyed record.
 */
export function phpMap<T extends z.ZodType>(value: T) {
  return z
    .union([z.record(z.string(), value), z.array(value)])
    .transform(
      (input): Record<string, z.infer<T>> =>
        Array.isArray(input)
          ? Object.fromEntries(input.map((item, i) => [String(i), item]))
          : input,
    );
}

export const batchResultSchema = z.object({
  result: phpMap(z.unknown()),
  result_error: phpMap(errorBodySchema).optional(),
  result_total: phpMap(z.number().int()).optional(),
  result_next: phpMap(z.number().int()).optional(),
  result_time: phpMap(z.unknown()).optional(),
});

/**
 * `im.chat.user.list`: a flat int array; `[]` = no permission (docs/bitrix24.md §4). Duplicates are
 * tolerated.
 */
export const chatUserListSchema = z.array(z.number().int().positive());

/** `im.dialog.users.list` item; only `id` is needed for membership. */
export const dialogUserSchema = z.looseObject({ id: z.number().int().positive() });
export const dialogUsersListSchema = z.array(dialogUserSchema);

/** `im.user.list.get` item (docs/bitrix24.md §9); unknown IDs map to `null`. */
export const imUserSchema = z.looseObject({
  id: z.number().int().positive(),
  name: z.string().optional(),
  first_name: z.string().optional(),
  last_name: z.string().optional(),
  work_position: z.string().nullable().optional(),
  active: z.boolean().optional(),
  bot: z.boolean().optional(),
  extranet: z.boolean().optional(),
  network: z.boolean().optional(),
  connector: z.boolean().optional(),
  external_auth_id: z.string().nullable().optional(),
  type: z.string().optional(),
});
export const imUserListSchema = phpMap(imUserSchema.nullable());

/** `im.recent.list` (docs `im-recent-list.md`): `{items, hasMore, hasMorePages (deprecated)}`. */
export const recentListSchema = z.looseObject({
  items: z.array(
    z.looseObject({
      id: z.union([z.string(), z.number()]),
      chat_id: z.number().int().nonnegative().optional(),
      type: z.string(),
      chat: z.looseObject({ type: z.string().optional() }).nullable().optional(),
    }),
  ),
  hasMore: z.boolean().optional(),
  hasMorePages: z.boolean().optional(),
});

/** OAuth server answer to `grant_type=refresh_token` (docs/bitrix24.md §1). */
export const tokenResponseSchema = z.looseObject({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1),
  expires: z.number().optional(),
  expires_in: z.number().optional(),
  client_endpoint: z.string().optional(),
});

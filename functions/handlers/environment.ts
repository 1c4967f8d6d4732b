import { z } from 'zod';

/**
 * Environment contract between the CDK stack (`infra/`) and the Lambda handlers.
 * The config itself travels as a JSON file bundled next to the handler (too big for env vars:
 * Lambda caps all variables at 4 KB, and 20,000 chat IDs do not fit).
 */
const secretArns = z.string().transform((s, ctx) => {
  try {
    return z.record(z.string(), z.string().min(1)).parse(JSON.parse(s));
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be a JSON object of portal id → secret ARN' });
    return z.NEVER;
  }
});

export const plannerEnvironmentSchema = z.object({
  /** Path of the bundled config JSON. */
  CONFIG_PATH: z.string().default('config.json'),
  WORK_QUEUE_URL: z.url(),
  /** `{"<portalId>": "<secret arn>"}`; needed for chat discovery (`im.recent.list`). */
  SECRET_ARNS: secretArns,
  /** The snapshot table: the planner uses only the portals' OAuth refresh leases in it. */
  TABLE_NAME: z.string().min(1),
});

export const workerEnvironmentSchema = z.object({
  CONFIG_PATH: z.string().default('config.json'),
  /** The work queue the worker consumes: failed items get a short retry backoff on it. */
  WORK_QUEUE_URL: z.url(),
  TABLE_NAME: z.string().min(1),
  TOPIC_ARN: z.string().startsWith('arn:'),
  SECRET_ARNS: secretArns,
});

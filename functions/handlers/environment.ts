import { z } from 'zod';

/**
 * Environment contract between the CDK stack (`infra/`) and the Lambda handlers. It does not grow
 * with the number of portals (Lambda caps all variables at 4 KB): the config travels as a JSON
 * file bundled next to the handler, and it names each portal's secret (docs/scale.md).
 */
export const plannerEnvironmentSchema = z.object({
  /** Path of the bundled config JSON. */
  CONFIG_PATH: z.string().default('config.json'),
  WORK_QUEUE_URL: z.url(),
  /**
   * The snapshot table: the portals' OAuth refresh leases, and each portal's hint state (and
   * shared rate budget) for hinted reads.
   */
  TABLE_NAME: z.string().min(1),
});

export const workerEnvironmentSchema = z.object({
  CONFIG_PATH: z.string().default('config.json'),
  /** The work queue the worker consumes: failed items get a short retry backoff on it. */
  WORK_QUEUE_URL: z.url(),
  TABLE_NAME: z.string().min(1),
  TOPIC_ARN: z.string().startsWith('arn:'),
});

import { z } from 'zod';
import { METRICS_NAMESPACE, SERVICE_NAME } from './metric-names.js';

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

const handlerEnvironmentSchemas = {
  planner: plannerEnvironmentSchema,
  worker: workerEnvironmentSchema,
} as const;

export type HandlerName = keyof typeof handlerEnvironmentSchemas;

/**
 * What the stack must set for a handler: every variable its schema reads, those with a default
 * included (the stack decides them), and nothing else. `infra/sync-function.ts` requires it, so a
 * variable added to a schema but not set by the stack fails `tsc`.
 */
export type HandlerEnvironment<H extends HandlerName> = {
  readonly [K in keyof z.input<(typeof handlerEnvironmentSchemas)[H]>]-?: string;
};

/**
 * Read by Powertools itself, set by the stack on every function. The handlers pass the same
 * values in code; these keep anything that reads Powertools' defaults in agreement.
 */
export const POWERTOOLS_ENVIRONMENT = {
  POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
  POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
  /**
   * The Tracer must never record Bitrix24 URLs: a webhook URL holds its secret in the path. The
   * tracer is created with `captureHTTPsRequests: false` too (functions/app/tracing.ts).
   */
  POWERTOOLS_TRACER_CAPTURE_HTTPS_REQUESTS: 'false',
} as const;

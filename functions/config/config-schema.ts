import { z } from 'zod';
import { HINT_WINDOW_MS } from '../core/hints.js';

/**
 * The one typed config (docs/deploy.md, "1. Write the config"). Validated at synth time, at Lambda start-up
 * and by the local CLI; errors name the field (see `parseConfig`).
 */

const positiveInt = z.number().int().positive();

/** EventBridge Scheduler `rate(...)` or `cron(...)` (six fields) expression. */
const scheduleExpression = z
  .string()
  .refine(
    (s) =>
      /^rate\(\s*[1-9]\d*\s+(minute|minutes|hour|hours|day|days)\s*\)$/.test(s) ||
      /^cron\(\s*\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+\s*\)$/.test(s),
    { message: 'must be rate(N unit) or cron(min hour day-of-month month day-of-week year)' },
  )
  .refine(
    (s) =>
      !/^rate\(\s*1\s+(minutes|hours|days)\s*\)$/.test(s) &&
      !/^rate\(\s*([2-9]|\d{2,})\s+(minute|hour|day)\s*\)$/.test(s),
    {
      message: 'singular unit for 1 (rate(1 minute)), plural otherwise (rate(5 minutes))',
    },
  );

const timeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be an IANA time zone such as UTC or Europe/Berlin' },
);

/** Each field overrides the plan's (`PLAN_RATE_LIMITS`); see docs/bitrix24-rate-limits.md. */
export const rateLimitSchema = z.strictObject({
  /** Leaky-bucket capacity X. Bitrix24: 50 on most plans, 250 on Enterprise. */
  burst: positiveInt.optional(),
  /** Leaky-bucket drain Y per second. Bitrix24: 2 on most plans, 5 on Enterprise. */
  drainPerSecond: z.number().positive().optional(),
  /**
   * Share of the portal's bucket (burst and drain) this job may use, leaving the rest to the
   * portal's other integrations. Default 1.
   */
  share: z.number().gt(0, 'must be more than 0').lte(1, 'must be at most 1').optional(),
});

export const PLAN_RATE_LIMITS = {
  standard: { burst: 50, drainPerSecond: 2 },
  enterprise: { burst: 250, drainPerSecond: 5 },
} as const;

export const breakerSchema = z.strictObject({
  /** Hold a sync that removes more than this share of a chat's members ... */
  maxRemovedShare: z.number().gt(0).lte(1).default(0.5),
  /** ... and more than this many members. */
  minRemoved: z.number().int().nonnegative().default(5),
});

/**
 * How a tick reads a portal's chats. `hinted` (default): one recent-list read names the chats
 * that may have changed, only those are read, and every chat is also fully re-read once per
 * `reconcileMinutes` on a rolling schedule (docs/bitrix24.md, "Recent list as change hints").
 * `full`: every chat on every tick.
 */
export const DEFAULT_READS = {
  mode: 'hinted',
  reconcileMinutes: 60,
  learnedReconcile: true,
} as const;

export const readsSchema = z.discriminatedUnion(
  'mode',
  [
    z.strictObject({
      mode: z.literal('hinted'),
      /** Every chat is fully re-read at least this often, silent changes found within it. */
      reconcileMinutes: positiveInt
        .max(HINT_WINDOW_MS / 60_000, 'at most 7 days (the hint window)')
        .default(DEFAULT_READS.reconcileMinutes),
      /**
       * Learned reconcile: chats where reconcile reads found changes the hints missed are also
       * read in the slots a tick's last batch leaves empty (no extra request). false: uniform.
       */
      learnedReconcile: z.boolean().default(DEFAULT_READS.learnedReconcile),
    }),
    z.strictObject({ mode: z.literal('full') }),
  ],
  { error: 'required: { "mode": "hinted", "reconcileMinutes": N } or { "mode": "full" }' },
);

const secretRef = z.union(
  [
    z.strictObject({
      arn: z
        .string()
        .regex(
          /^arn:aws[\w-]*:secretsmanager:[\w-]+:\d{12}:secret:.+$/,
          'must be a Secrets Manager secret ARN',
        ),
    }),
    z.strictObject({
      name: z.string().regex(/^[\w/+=.@-]{1,512}$/, 'must be a Secrets Manager secret name'),
    }),
  ],
  { error: 'required: { "arn": "arn:aws:secretsmanager:..." } or { "name": "..." }' },
);

const chatsSchema = z.union(
  [
    z.array(positiveInt).min(1, 'list at least one chat ID, or use { "discover": true }'),
    z.strictObject({
      /** Every group chat the integration user belongs to (`im.recent.list`). */
      discover: z.literal(true),
      exclude: z.array(positiveInt).default([]),
    }),
  ],
  { error: 'required: a list of chat IDs, or { "discover": true }' },
);

const baseUrl = z
  .url({ protocol: /^https?$/ })
  .refine((u) => new URL(u).pathname === '/' || new URL(u).pathname === '', {
    message: 'must be the portal base URL without a path (the webhook goes into the secret)',
  })
  .transform((u) => new URL(u).origin);

export const portalSchema = z.strictObject({
  /** Slug used in keys, logs and message groups. */
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a lower-case slug (a-z, 0-9, -)'),
  /** Portal base URL: https, no path. The CloudEvents `source` unless `source` is set. */
  url: baseUrl,
  /**
   * The events' `source`, the portal's identity for consumers (default: `url`). When the portal
   * moves to a new domain, change `url` and set `source` to the old URL: event IDs, sequences and
   * every consumer's (`source`, chat) keys then continue (docs/operations.md, "A portal's new domain").
   */
  source: baseUrl.optional(),
  /**
   * Secrets Manager secret holding the webhook URL or OAuth credentials.
   * Default: the secret named `<secrets.prefix><id>` (see `portalSecretId`).
   */
  secret: secretRef.optional(),
  plan: z.enum(['standard', 'enterprise']).default('standard'),
  /** Overrides the plan's leaky bucket. */
  rateLimit: rateLimitSchema.optional(),
  chats: chatsSchema,
  breaker: breakerSchema.partial().optional(),
  /** Overrides the global `reads` for this portal. */
  reads: readsSchema.optional(),
});

/** AWS account IDs: 12 digits. */
const accountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account ID');

/**
 * Where portals' secrets live by default. Ends in `/` so that the one IAM grant on
 * `<prefix>*` covers this job's secrets and no secret that merely shares a name stem.
 */
const secretPrefix = z
  .string()
  .regex(/^[\w/+=.@-]{1,400}\/$/, 'must be a Secrets Manager name prefix ending in "/"');

export const DEFAULT_SECRET_PREFIX = 'membership-sync/';

/**
 * Secrets outside `secrets.prefix` are granted one ARN each, in one IAM statement that cannot be
 * split, so their ARNs together must stay well under IAM's 6,144-character managed-policy limit
 * (docs/scale.md): 5,000 characters are about 50 ARNs of usual length.
 */
export const MAX_SECRET_ARN_CHARS_OUTSIDE_PREFIX = 5000;

/** An ARN's length for a secret named `name`: the longest partition, region and suffix. */
const secretArnLength = (secretId: string) =>
  secretId.startsWith('arn:')
    ? secretId.length
    : 'arn:aws-us-gov:secretsmanager:ap-southeast-2:123456789012:secret:'.length +
      secretId.length +
      '-??????'.length;

export const configSchema = z
  .strictObject({
    /** Editors' JSON Schema hint (`config/config.schema.json`); ignored. */
    $schema: z.string().optional(),
    portals: z
      .array(portalSchema)
      .min(1, 'configure at least one portal')
      .refine((ps) => new Set(ps.map((p) => p.id)).size === ps.length, {
        message: 'portal ids must be unique',
      }),
    schedule: z
      .strictObject({
        expression: scheduleExpression.default('rate(15 minutes)'),
        timeZone: timeZone.default('UTC'),
      })
      .default({ expression: 'rate(15 minutes)', timeZone: 'UTC' }),
    breaker: breakerSchema.default({ maxRemovedShare: 0.5, minRemoved: 5 }),
    reads: readsSchema.default(DEFAULT_READS),
    secrets: z
      .strictObject({ prefix: secretPrefix.default(DEFAULT_SECRET_PREFIX) })
      .default({ prefix: DEFAULT_SECRET_PREFIX }),
    topic: z
      .strictObject({
        kind: z.enum(['standard', 'fifo']).default('standard'),
        /** Other AWS accounts allowed to subscribe to the event topic. */
        subscriberAccounts: z
          .array(accountId)
          .default([])
          .refine((ids) => new Set(ids).size === ids.length, {
            message: 'account IDs must be unique',
          }),
      })
      .default({ kind: 'standard', subscriberAccounts: [] }),
    archive: z
      .strictObject({
        enabled: z.boolean().default(false),
        /**
         * S3 Object Lock on the archive bucket: every event file is kept unaltered for
         * `retentionDays`. `governance` (default) lets a principal with
         * `s3:BypassGovernanceRetention` remove a file; `compliance` lets no one, not even the
         * account root, until the retention ends.
         */
        objectLock: z
          .strictObject({
            mode: z.enum(['governance', 'compliance']).default('governance'),
            retentionDays: z.number().int().min(1).max(36_500).default(365),
          })
          .default({ mode: 'governance', retentionDays: 365 }),
        /** `kms`: the archive bucket under a customer-managed KMS key instead of SSE-S3. */
        encryption: z.enum(['s3', 'kms']).default('s3'),
      })
      .default({
        enabled: false,
        objectLock: { mode: 'governance', retentionDays: 365 },
        encryption: 's3',
      }),
    logs: z
      .strictObject({
        /** `kms`: the functions' and Firehose's log groups under a customer-managed KMS key. */
        encryption: z.enum(['aws', 'kms']).default('aws'),
      })
      .default({ encryption: 'aws' }),
    alarms: z
      .strictObject({
        /**
         * A portal reported awaiting credentials (no secret, or the placeholder) in every hour of
         * this many hours raises the AwaitingCredentials alarm: a first deploy is calm, a
         * forgotten secret is not. At most a week (CloudWatch's longest evaluation).
         */
        awaitingCredentialsHours: z.number().int().min(1).max(168).default(24),
      })
      .default({ awaitingCredentialsHours: 24 }),
  })
  .superRefine((config, ctx) => {
    const outside = config.portals
      .map((p) => portalSecretId(config, p))
      .filter((id) => !id.startsWith(config.secrets.prefix));
    // Quotes and a comma around each ARN in the policy JSON.
    const chars = outside.reduce((sum, id) => sum + secretArnLength(id) + 3, 0);
    if (chars > MAX_SECRET_ARN_CHARS_OUTSIDE_PREFIX) {
      ctx.addIssue({
        code: 'custom',
        path: ['portals'],
        message: `${outside.length} portals name a secret outside secrets.prefix "${config.secrets.prefix}" (${chars} characters of ARNs; at most ${MAX_SECRET_ARN_CHARS_OUTSIDE_PREFIX} fit the IAM policy size limit): move their secrets to <prefix><portal id> and drop their "secret"`,
      });
    }
  });

export type Config = z.output<typeof configSchema>;

/** The portal's stable event `source`: `source` when set, else its `url`. */
export function portalSource(portal: Pick<PortalConfig, 'url' | 'source'>): string {
  return portal.source ?? portal.url;
}
export type ConfigInput = z.input<typeof configSchema>;
export type PortalConfig = z.output<typeof portalSchema>;
export interface RateLimit {
  readonly burst: number;
  readonly drainPerSecond: number;
  readonly share: number;
}
export type Reads = z.output<typeof readsSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly issues: readonly { readonly path: string; readonly message: string }[],
    origin: string,
  ) {
    super(
      `invalid config (${origin}):\n${issues.map((i) => `  - ${i.path}: ${i.message}`).join('\n')}`,
    );
  }
}

/** Validates a parsed config object; throws {@link ConfigError} naming each bad field. */
export function parseConfig(input: unknown, origin = 'config'): Config {
  const result = configSchema.safeParse(input);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.flatMap((issue) => describe(issue, [])),
    origin,
  );
}

type Issue = z.core.$ZodIssue;

/** A union's own message is "Invalid input"; report the branch that came closest instead. */
function describe(issue: Issue, prefix: PropertyKey[]): { path: string; message: string }[] {
  const path = [...prefix, ...issue.path];
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const closest =
      [...issue.errors].sort((a, b) => depth(b) - depth(a) || a.length - b.length)[0] ?? [];
    if (depth(closest) > 0) {
      return closest.flatMap((branchIssue) => describe(branchIssue, path));
    }
  }
  return [
    { path: path.length === 0 ? '(root)' : path.map(String).join('.'), message: issue.message },
  ];
}

function depth(issues: readonly Issue[]): number {
  return Math.max(0, ...issues.map((i) => i.path.length));
}

/** The portal's bucket: the plan's, with the fields `rateLimit` sets. */
export function rateLimitOf(portal: PortalConfig): RateLimit {
  const plan = PLAN_RATE_LIMITS[portal.plan];
  return {
    burst: portal.rateLimit?.burst ?? plan.burst,
    drainPerSecond: portal.rateLimit?.drainPerSecond ?? plan.drainPerSecond,
    share: portal.rateLimit?.share ?? 1,
  };
}

export function readsOf(config: Config, portal: PortalConfig): Reads {
  return portal.reads ?? config.reads;
}

/**
 * Whether the planner calls Bitrix24 for the portal (discovery, or the recent list's hints): only
 * then does it read the portal's secret, take up its rate budget and possibly refresh its tokens.
 */
export function plannerCallsBitrix24(config: Config, portal: PortalConfig): boolean {
  return 'discover' in portal.chats || readsOf(config, portal).mode === 'hinted';
}

/**
 * The `SecretId` of a portal's credentials: the configured ARN or name, else the naming
 * convention `<secrets.prefix><portal id>` (docs/deploy.md, "Secrets").
 */
export function portalSecretId(
  config: Pick<Config, 'secrets'>,
  portal: Pick<PortalConfig, 'id' | 'secret'>,
): string {
  if (portal.secret === undefined) return `${config.secrets.prefix}${portal.id}`;
  return 'arn' in portal.secret ? portal.secret.arn : portal.secret.name;
}

const UNIT_MS: Readonly<Record<string, number>> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
};

/**
 * The time between two ticks of a schedule expression: exact for `rate(…)`; for `cron(…)` the
 * step of an every-N-minutes minute field, an hour for a fixed minute of every hour, else a day.
 */
export function scheduleIntervalMs(expression: string): number {
  const rate = /^rate\(\s*(\d+)\s+(minute|hour|day)s?\s*\)$/.exec(expression);
  if (rate?.[1] !== undefined && rate[2] !== undefined) {
    return Number(rate[1]) * (UNIT_MS[rate[2]] ?? 60_000);
  }
  const [minute = '', hour = ''] =
    /^cron\((.*)\)$/.exec(expression)?.[1]?.trim().split(/\s+/) ?? [];
  const everyN = /^(?:\*|0)\/(\d+)$/.exec(minute)?.[1];
  if (hour === '*' && everyN !== undefined) return Number(everyN) * 60_000;
  if (hour === '*' && /^\d+$/.test(minute)) return 3_600_000;
  return 86_400_000;
}

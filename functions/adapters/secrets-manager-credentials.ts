import { randomUUID } from 'node:crypto';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import {
  type Bitrix24Credentials,
  type CredentialStore,
  CredentialsAwaitingError,
  type TokenPair,
} from '../bitrix24/credentials.js';
import { isSecureUrl } from '../bitrix24/secure-url.js';

/**
 * CredentialStore on one Secrets Manager secret per portal. The SecretString is JSON, either
 *   {"type":"webhook","webhookUrl":"https://<portal>/rest/<user>/<code>/"}
 * or
 *   {"type":"oauth","clientId","clientSecret","accessToken","refreshToken","clientEndpoint",
 *    "tokenEndpoint"?,"expiresAt"?}
 * Unknown keys are kept when tokens are written back. A secret that does not exist yet, or holds
 * the placeholder {@link AWAITING_CREDENTIALS_PLACEHOLDER}, makes `load()` throw
 * `CredentialsAwaitingError` (the portal awaits credentials; not a failure).
 *
 * `saveTokens` is a compare-and-set on the secret's AWSCURRENT version:
 *   1. read AWSCURRENT (version V); if its refresh token is not the replaced one, another process
 *      already refreshed: keep it, return false;
 *   2. PutSecretValue the new pair under a fresh ClientRequestToken (version N) with only the
 *      AWSPENDING label, so readers keep seeing V;
 *   3. UpdateSecretVersionStage AWSCURRENT → N with RemoveFromVersionId = V. Secrets Manager
 *      refuses the move when AWSCURRENT is no longer on V ("If the label is attached and you
 *      either do not specify this parameter, or the version ID does not match, then the operation
 *      fails", API reference), so of two concurrent refreshes of the same pair exactly one wins;
 *      the loser returns false and leaves the winner's pair current. A plain re-read-and-compare
 *      before PutSecretValue would leave a window in which the loser overwrites the newer pair.
 * AWSPREVIOUS follows automatically to V. The loser's version keeps no label (it is deprecated
 * and Secrets Manager may delete it).
 *
 * Errors never contain secret values: validation errors name the field and the rule only.
 */
export interface SecretsManagerCredentialStoreOptions {
  readonly client: SecretsManagerClient;
  /** Secret name or ARN. */
  readonly secretId: string;
  /**
   * How long `load()` reuses what it read. Refreshed tokens replace the cache immediately.
   * @default 300_000
   */
  readonly cacheTtlMs?: number | undefined;
  readonly now?: (() => number) | undefined;
}

/** What an operator may store in a portal's secret before the real credentials exist. */
export const AWAITING_CREDENTIALS_PLACEHOLDER = { type: 'unset' } as const;

/** The secret is unreadable or invalid. Names the secret and the field, never values. */
export class CredentialSecretError extends Error {
  override readonly name = 'CredentialSecretError';
  constructor(
    readonly secretId: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`Bitrix24 credentials secret ${secretId}: ${detail}`, options);
  }
}

const nonEmpty = z
  .string({ error: 'must be a non-empty string' })
  .min(1, 'must be a non-empty string');

/** HTTPS everywhere except loopback, as the Bitrix24 client requires. */
const secureUrl = z
  .string({ error: 'must be a URL' })
  .refine((value) => URL.canParse(value) && isSecureUrl(new URL(value)), 'must be an https URL');

export const credentialSecretSchema = z.discriminatedUnion(
  'type',
  [
    z.object({
      type: z.literal('webhook'),
      webhookUrl: secureUrl.refine(
        (value) => URL.canParse(value) && /^\/rest\/\d+\/[^/]+\/$/.test(new URL(value).pathname),
        'must look like https://<portal>/rest/<user id>/<code>/ (with the trailing slash)',
      ),
    }),
    z.object({
      type: z.literal('oauth'),
      clientId: nonEmpty,
      clientSecret: nonEmpty,
      accessToken: nonEmpty,
      refreshToken: nonEmpty,
      clientEndpoint: secureUrl,
      tokenEndpoint: secureUrl.optional(),
      expiresAt: z.string().optional(),
    }),
  ],
  { error: 'must be "webhook" or "oauth"' },
);

interface Loaded {
  readonly versionId: string;
  readonly raw: Record<string, unknown>;
  readonly credentials: Bitrix24Credentials;
  readonly loadedAt: number;
}

export function createSecretsManagerCredentialStore(
  options: SecretsManagerCredentialStoreOptions,
): CredentialStore {
  const { client, secretId } = options;
  const cacheTtlMs = options.cacheTtlMs ?? 300_000;
  const now = options.now ?? Date.now;
  let cached: Promise<Loaded> | undefined;

  async function read(): Promise<Loaded> {
    const arnRegion = secretId.startsWith('arn:') ? secretId.split(':')[3] : undefined;
    if (arnRegion !== undefined) {
      // Secrets Manager answers "not found" for another region's ARN: say what is wrong instead.
      const region = await client.config.region();
      if (arnRegion !== region) {
        throw new CredentialSecretError(
          secretId,
          `is in region ${arnRegion}; this function reads secrets in ${region} (replicate the secret there and name the replica's ARN)`,
        );
      }
    }
    const out = await client
      .send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' }))
      .catch((error: unknown) => {
        if (error instanceof ResourceNotFoundException) {
          // A secret named by the convention may not exist yet: awaiting. An explicit ARN can
          // only have been copied from an existing secret, so only a missing value awaits;
          // a missing secret is a configuration error that fails and alarms.
          if (arnRegion === undefined || /secret value/.test(error.message)) {
            throw new CredentialsAwaitingError(secretId, 'not_found');
          }
          throw new CredentialSecretError(
            secretId,
            'does not exist (deleted, or the ARN names another account or secret)',
            { cause: error },
          );
        }
        throw error;
      });
    if (out.SecretString === undefined || out.VersionId === undefined) {
      throw new CredentialSecretError(secretId, 'has no SecretString (a JSON object is expected)');
    }
    return { versionId: out.VersionId, ...parse(secretId, out.SecretString), loadedAt: now() };
  }

  function current(): Promise<Loaded> {
    const hit = cached;
    if (hit) {
      return hit.then((l) => (now() - l.loadedAt < cacheTtlMs ? l : refreshCache()));
    }
    return refreshCache();
  }

  function refreshCache(): Promise<Loaded> {
    const pending = read();
    cached = pending;
    // A failed read must not stick: the next load() tries again.
    pending.catch(() => {
      if (cached === pending) cached = undefined;
    });
    return pending;
  }

  async function load(options?: { readonly fresh?: boolean }): Promise<Bitrix24Credentials> {
    return (await (options?.fresh ? refreshCache() : current())).credentials;
  }

  async function saveTokens(replacedRefreshToken: string, next: TokenPair): Promise<boolean> {
    const base = await refreshCache();
    if (base.credentials.kind !== 'oauth') {
      throw new CredentialSecretError(
        secretId,
        'holds webhook credentials; tokens cannot be saved',
      );
    }
    if (base.credentials.refreshToken !== replacedRefreshToken) return false;

    const { expiresAt: _stale, ...rest } = base.raw;
    const raw: Record<string, unknown> = {
      ...rest,
      accessToken: next.accessToken,
      refreshToken: next.refreshToken,
      ...(next.expiresAt === undefined ? {} : { expiresAt: next.expiresAt }),
    };
    const put = await client.send(
      new PutSecretValueCommand({
        SecretId: secretId,
        ClientRequestToken: randomUUID(),
        SecretString: JSON.stringify(raw),
        VersionStages: ['AWSPENDING'],
      }),
    );
    const versionId = put.VersionId;
    if (versionId === undefined)
      throw new CredentialSecretError(secretId, 'PutSecretValue returned no version');
    try {
      await client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: secretId,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: versionId,
          RemoveFromVersionId: base.versionId,
        }),
      );
    } catch (error) {
      // Lost the race only if AWSCURRENT really moved elsewhere; anything else is a real failure.
      const after = await refreshCache();
      if (after.versionId !== base.versionId && after.versionId !== versionId) {
        await dropPendingLabel(versionId);
        return false;
      }
      if (after.versionId === versionId) return true;
      throw error;
    }
    const { expiresAt: _previous, ...stored } = base.credentials;
    cached = Promise.resolve({
      versionId,
      raw,
      credentials: {
        ...stored,
        accessToken: next.accessToken,
        refreshToken: next.refreshToken,
        ...(next.expiresAt === undefined ? {} : { expiresAt: next.expiresAt }),
      },
      loadedAt: now(),
    });
    return true;
  }

  /** Best effort: a losing version without labels is deprecated and may be cleaned up by AWS. */
  async function dropPendingLabel(versionId: string): Promise<void> {
    try {
      await client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: secretId,
          VersionStage: 'AWSPENDING',
          RemoveFromVersionId: versionId,
        }),
      );
    } catch {
      // Another writer may have taken AWSPENDING already; nothing to clean.
    }
  }

  return { load, saveTokens };
}

function parse(
  secretId: string,
  secretString: string,
): { raw: Record<string, unknown>; credentials: Bitrix24Credentials } {
  let raw: unknown;
  try {
    raw = JSON.parse(secretString);
  } catch {
    // No cause: JSON.parse messages quote the input.
    throw new CredentialSecretError(secretId, 'is not valid JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new CredentialSecretError(secretId, 'must be a JSON object');
  }
  if ((raw as { type?: unknown }).type === AWAITING_CREDENTIALS_PLACEHOLDER.type) {
    throw new CredentialsAwaitingError(secretId, 'placeholder');
  }
  const result = credentialSecretSchema.safeParse(raw);
  if (!result.success) {
    // Only paths and rule messages; zod issues are not attached (they could carry input).
    const detail = result.error.issues
      .map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`)
      .join('; ');
    throw new CredentialSecretError(secretId, `is invalid: ${detail}`);
  }
  const s = result.data;
  const credentials: Bitrix24Credentials =
    s.type === 'webhook'
      ? { kind: 'webhook', webhookUrl: s.webhookUrl }
      : {
          kind: 'oauth',
          clientId: s.clientId,
          clientSecret: s.clientSecret,
          accessToken: s.accessToken,
          refreshToken: s.refreshToken,
          clientEndpoint: s.clientEndpoint,
          ...(s.tokenEndpoint === undefined ? {} : { tokenEndpoint: s.tokenEndpoint }),
          ...(s.expiresAt === undefined ? {} : { expiresAt: s.expiresAt }),
        };
  return { raw: raw as Record<string, unknown>, credentials };
}

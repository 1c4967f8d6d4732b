/**
 * How the client authenticates, and where refreshed OAuth tokens go. Implemented for AWS by
 * `functions/adapters/secrets-manager-credentials.ts` and locally by an in-memory store.
 * Values of this type are secrets: never log, serialize into errors or events.
 */
export type Bitrix24Credentials =
  | {
      readonly kind: 'webhook';
      /** Incoming webhook base, e.g. `https://portal.bitrix24.com/rest/1/abc123/` (path carries the code). */
      readonly webhookUrl: string;
    }
  | {
      readonly kind: 'oauth';
      readonly clientId: string;
      readonly clientSecret: string;
      readonly accessToken: string;
      readonly refreshToken: string;
      /** The portal's REST endpoint, e.g. `https://portal.bitrix24.com/rest/`. */
      readonly clientEndpoint: string;
      /** OAuth token endpoint. Default `https://oauth.bitrix.info/oauth/token/`. */
      readonly tokenEndpoint?: string;
      /** ISO time the access token expires, when the token endpoint said. */
      readonly expiresAt?: string;
    };

export type OAuthCredentials = Extract<Bitrix24Credentials, { kind: 'oauth' }>;

export interface TokenPair {
  readonly accessToken: string;
  readonly refreshToken: string;
  /** ISO time the access token expires, when the server said (`expires`). */
  readonly expiresAt?: string;
}

export interface CredentialStore {
  /**
   * The stored credentials. May answer from a cache unless `fresh` is set: the client asks for a
   * fresh read before it refreshes tokens (another process may have refreshed already) and after
   * the token endpoint refused a refresh token.
   */
  load(options?: { readonly fresh?: boolean }): Promise<Bitrix24Credentials>;
  /**
   * Persists a refreshed pair. Bitrix24 invalidates the old refresh token on every refresh, so this
   * must be a compare-and-set on `replacedRefreshToken`: if the stored pair is no longer the one
   * that was refreshed (another process refreshed first), keep the stored (newer) pair and return
   * `false`. Throws when the store cannot be written; the caller keeps the pair and retries.
   */
  saveTokens(replacedRefreshToken: string, next: TokenPair): Promise<boolean>;
}

/**
 * Mutual exclusion, across processes, for refreshing one portal's OAuth tokens: only the holder
 * calls the token endpoint, so no two processes spend the same refresh token (the loser would get
 * `invalid_grant`). A lease expires on its own, so a holder that dies blocks the others for at
 * most its time to live. Implemented for AWS by `functions/adapters/dynamodb-refresh-lease.ts`.
 */
export interface RefreshLease {
  /** Takes the lease for `ttlMs`, or returns undefined while another holder's lease is live. */
  tryAcquire(ttlMs: number): Promise<HeldLease | undefined>;
}

export interface HeldLease {
  /** Gives the lease up early; a no-op once it has expired and someone else holds it. */
  release(): Promise<void>;
}

export const DEFAULT_OAUTH_TOKEN_ENDPOINT = 'https://oauth.bitrix.info/oauth/token/';

/**
 * The portal's credentials have not been written yet: its secret does not exist, or still holds
 * the placeholder `{"type":"unset"}` (docs/deploy.md, "Secrets"). Not a failure: the portal is
 * reported as awaiting credentials and skipped until they are there.
 */
export class CredentialsAwaitingError extends Error {
  override readonly name = 'CredentialsAwaitingError';
  constructor(
    readonly secretId: string,
    readonly reason: 'not_found' | 'placeholder',
  ) {
    super(
      `Bitrix24 credentials secret ${secretId}: awaiting credentials (${reason === 'not_found' ? 'no secret or no value yet' : 'it holds the placeholder'})`,
    );
  }
}

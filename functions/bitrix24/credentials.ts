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
    };

export interface TokenPair {
  readonly accessToken: string;
  readonly refreshToken: string;
  /** ISO time the access token expires, when the server said (`expires`). */
  readonly expiresAt?: string;
}

export interface CredentialStore {
  load(): Promise<Bitrix24Credentials>;
  /**
   * Persists a refreshed pair. Bitrix24 invalidates the old refresh token on every refresh, so this
   * must be a compare-and-set on `replacedRefreshToken`: if the stored pair is no longer the one
   * that was refreshed (another process refreshed first), keep the stored (newer) pair and return
   * `false`.
   */
  saveTokens(replacedRefreshToken: string, next: TokenPair): Promise<boolean>;
}

export const DEFAULT_OAUTH_TOKEN_ENDPOINT = 'https://oauth.bitrix.info/oauth/token/';

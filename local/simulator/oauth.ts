import type { ServerResponse } from 'node:http';
import { type Authenticator, randomSecret } from './auth.js';
import type { SimClock } from './bitrix-time.js';
import type { Params } from './php-params.js';
import type { OAuthApp } from './types.js';

/** docs/bitrix24.md §1: a refresh token lives 180 days (portal time). */
const REFRESH_TOKEN_TTL_SECONDS = 180 * 24 * 3600;

interface RefreshToken {
  readonly userId: number;
  readonly expiresAtMs: number;
}

export interface OAuthServerSettings {
  readonly baseUrl: string;
  readonly accessTokenTtlSeconds: number;
  readonly memberId: string;
}

export interface TokenPair {
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly expiresIn: number;
}

/**
 * The OAuth server (stands in for https://oauth.bitrix.info/oauth/token/, docs/bitrix24.md §1).
 * Each refresh returns a new pair and invalidates the refresh token used: reuse is `invalid_grant`.
 */
export class OAuthServer implements OAuthApp {
  readonly clientId = `local.${randomSecret(14)}.${randomSecret(8)}`;
  readonly clientSecret = randomSecret(50);
  private readonly refreshTokens = new Map<string, RefreshToken>();

  constructor(
    private readonly auth: Authenticator,
    private readonly clock: SimClock,
    private readonly settings: OAuthServerSettings,
  ) {}

  get tokenEndpoint(): string {
    return `${this.settings.baseUrl}/oauth/token/`;
  }

  /**
   * `expires_in` is in real seconds (at least 1): a client scheduling by it sees the same
   * shortened lifetime the simulator enforces.
   */
  private expiresIn(): number {
    return Math.max(1, Math.round(this.clock.realMs(this.settings.accessTokenTtlSeconds) / 1000));
  }

  issueTokens(userId: number): TokenPair {
    const accessToken = this.auth.issueAccessToken(
      userId,
      this.clientId,
      this.settings.accessTokenTtlSeconds,
    );
    const refreshToken = randomSecret();
    this.refreshTokens.set(refreshToken, {
      userId,
      expiresAtMs: this.clock.nowMs() + this.clock.realMs(REFRESH_TOKEN_TTL_SECONDS),
    });
    return { accessToken, refreshToken, expiresIn: this.expiresIn() };
  }

  /** Answers `GET|POST /oauth/token/` (form, query or JSON parameters). */
  handle(params: Params, res: ServerResponse): void {
    const [status, body] = this.refresh(params);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  }

  private refresh(params: Params): [number, unknown] {
    const fail = (status: number, error: string, description: string): [number, unknown] => [
      status,
      { error, error_description: description },
    ];
    if (params.grant_type !== 'refresh_token') {
      return fail(400, 'invalid_request', 'Only grant_type=refresh_token is supported');
    }
    if (params.client_id !== this.clientId || params.client_secret !== this.clientSecret) {
      return fail(401, 'invalid_client', 'Invalid client credentials');
    }
    const presented = typeof params.refresh_token === 'string' ? params.refresh_token : '';
    const stored = this.refreshTokens.get(presented);
    if (!stored || this.clock.nowMs() >= stored.expiresAtMs) {
      return fail(400, 'invalid_grant', 'Invalid refresh token');
    }
    this.refreshTokens.delete(presented);
    const pair = this.issueTokens(stored.userId);
    return [
      200,
      {
        access_token: pair.accessToken,
        client_endpoint: `${this.settings.baseUrl}/rest/`,
        domain: new URL(this.settings.baseUrl).host,
        expires: Math.floor(this.clock.nowMs() / 1000) + pair.expiresIn,
        expires_in: pair.expiresIn,
        member_id: this.settings.memberId,
        refresh_token: pair.refreshToken,
        scope: 'im',
        server_endpoint: `${this.settings.baseUrl}/rest/`,
        status: 'L',
        user_id: stored.userId,
      },
    ];
  }
}

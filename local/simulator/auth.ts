import { randomBytes } from 'node:crypto';
import type { SimClock } from './bitrix-time.js';
import { RestError } from './rest-error.js';

/**
 * Who a REST call runs as; `principal` keys the operating budget (per app or webhook,
 * docs/bitrix24.md §7).
 */
export interface Caller {
  readonly userId: number;
  readonly principal: string;
  /** Scopes ticked on the webhook; undefined = every scope. */
  readonly scopes?: ReadonlySet<string>;
}

interface Webhook {
  readonly userId: number;
  readonly scopes?: ReadonlySet<string>;
}

interface AccessToken {
  readonly userId: number;
  readonly clientId: string;
  expiresAtMs: number;
}

/** The credential a request carried, before it is checked. */
export type Credential =
  | { readonly kind: 'webhook'; readonly userId: string; readonly code: string }
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'none' };

/** Bitrix24-looking secrets: lower-case alphanumerics. */
export function randomSecret(length = 32): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += alphabet[byte % alphabet.length];
  return out;
}

export interface AuthSettings {
  /** Conflicting status (docs/bitrix24.md §2): docs 403, source 401. */
  readonly invalidCredentialsStatus: 401 | 403;
  /** Conflicting status (docs/bitrix24.md §2): docs 403, source 401. */
  readonly insufficientScopeStatus: 401 | 403;
}

/**
 * Incoming webhooks and OAuth access tokens (docs/bitrix24.md §1). Every auth failure is an
 * `OAuthException` in the source, hence 401 unless the conflict setting says otherwise
 * (docs/bitrix24.md §2).
 */
export class Authenticator {
  private readonly webhooks = new Map<string, Webhook>();
  private readonly accessTokens = new Map<string, AccessToken>();

  constructor(
    private readonly clock: SimClock,
    private readonly settings: AuthSettings,
  ) {}

  addWebhook(userId: number, scopes?: readonly string[], code = randomSecret(16)): string {
    this.webhooks.set(code, scopes ? { userId, scopes: new Set(scopes) } : { userId });
    return code;
  }

  /**
   * docs/bitrix24.md §1: a webhook runs only with the scopes ticked on it; the failure is an auth
   * failure (docs/bitrix24.md §2).
   */
  requireScope(caller: Caller, scope: string): void {
    if (caller.scopes && !caller.scopes.has(scope)) {
      throw new RestError(
        this.settings.insufficientScopeStatus,
        'insufficient_scope',
        'The request requires higher privileges than provided by the webhook token',
      );
    }
  }

  issueAccessToken(userId: number, clientId: string, ttlSeconds: number): string {
    const token = randomSecret();
    this.accessTokens.set(token, {
      userId,
      clientId,
      expiresAtMs: this.clock.nowMs() + this.clock.realMs(ttlSeconds),
    });
    return token;
  }

  /** The expire-tokens fault: every access token issued so far stops working. */
  expireAll(): void {
    const now = this.clock.nowMs();
    for (const token of this.accessTokens.values())
      token.expiresAtMs = Math.min(token.expiresAtMs, now);
  }

  authenticate(credential: Credential): Caller {
    if (credential.kind === 'webhook') {
      const webhook = this.webhooks.get(credential.code);
      if (webhook === undefined || String(webhook.userId) !== credential.userId) {
        throw new RestError(
          this.settings.invalidCredentialsStatus,
          'INVALID_CREDENTIALS',
          'Invalid request credentials',
        );
      }
      return {
        userId: webhook.userId,
        principal: `webhook:${credential.code}`,
        ...(webhook.scopes ? { scopes: webhook.scopes } : {}),
      };
    }
    if (credential.kind === 'token') {
      const token = this.accessTokens.get(credential.token);
      if (!token) {
        throw new RestError(401, 'invalid_token', 'Unable to get application by token');
      }
      if (this.clock.nowMs() >= token.expiresAtMs) {
        throw new RestError(401, 'expired_token', 'The access token provided has expired');
      }
      return { userId: token.userId, principal: `app:${token.clientId}` };
    }
    throw new RestError(401, 'NO_AUTH_FOUND', 'Wrong authorization data');
  }
}

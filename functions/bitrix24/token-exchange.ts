import ky from 'ky';
import {
  DEFAULT_OAUTH_TOKEN_ENDPOINT,
  type OAuthCredentials,
  type TokenPair,
} from './credentials.js';
import {
  Bitrix24AuthError,
  Bitrix24DeadlineError,
  Bitrix24MalformedResponseError,
  Bitrix24TransportError,
} from './errors.js';
import { sanitizeError } from './redact.js';
import { errorBodySchema, tokenResponseSchema } from './schemas.js';
import { describeNetworkError, parseJson } from './transport.js';

/** The name token-endpoint failures carry as their `method`. */
export const TOKEN_REFRESH_METHOD = 'oauth.token.refresh';

export interface TokenExchangeOptions {
  /** Default: global fetch. */
  readonly fetch?: typeof globalThis.fetch | undefined;
  /** Including reading the body. */
  readonly timeoutMs: number;
  /** Redacts text that may reach an error message. */
  readonly scrub: (text: string) => string;
  /**
   * Ms left until the caller's deadline (undefined: none). The exchange waits at most that long
   * and does not start with less than `minRequestMs` left.
   */
  readonly timeLeftMs?: (() => number | undefined) | undefined;
  readonly minRequestMs?: number | undefined;
}

/**
 * One call of the OAuth token endpoint: trades the refresh token of the credentials for a new
 * pair. Using and storing that pair (redactable first) is `oauth-session.ts`'s job. Refusals are
 * {@link Bitrix24AuthError}s.
 */
export function createTokenExchange(
  options: TokenExchangeOptions,
): (current: OAuthCredentials) => Promise<TokenPair> {
  const { timeoutMs, scrub } = options;
  return async (current) => {
    const endpoint = current.tokenEndpoint ?? DEFAULT_OAUTH_TOKEN_ENDPOINT;
    const method = TOKEN_REFRESH_METHOD;
    const left = options.timeLeftMs?.();
    // Not started without time for an answer: a refresh cut off in flight may have spent the
    // refresh token (the lease then expires and the next process adopts or refreshes again).
    if (left !== undefined && left < (options.minRequestMs ?? 0)) throw deadlineExceeded();
    const limitMs = left === undefined ? timeoutMs : Math.min(timeoutMs, left);
    const signal = AbortSignal.timeout(limitMs);
    let text: string;
    let status: number;
    try {
      // Form POST, as the JS SDK does (docs/bitrix24.md §1): keeps the secrets out of the URL.
      const response = await ky.post(endpoint, {
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          client_id: current.clientId,
          client_secret: current.clientSecret,
          refresh_token: current.refreshToken,
        }),
        retry: 0,
        // As for REST calls: a signal, not ky's timeout, so that reading the body is covered too.
        timeout: false,
        signal,
        throwHttpErrors: false,
        redirect: 'manual',
        ...(options.fetch ? { fetch: options.fetch } : {}),
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      if (signal.aborted && limitMs < timeoutMs) throw deadlineExceeded();
      throw new Bitrix24TransportError({
        code: 'NETWORK_ERROR',
        method,
        description: scrub(describeNetworkError(error)),
        cause: sanitizeError(error, scrub),
      });
    }
    const body = parseJson(text);
    const errorBody = errorBodySchema.safeParse(body);
    if (errorBody.success) {
      // Any refresh refusal (invalid_grant, invalid_client...) means re-authorisation is needed.
      throw new Bitrix24AuthError({
        code: errorBody.data.error,
        method,
        status,
        description: scrub(errorBody.data.error_description ?? ''),
      });
    }
    const tokens = tokenResponseSchema.safeParse(body);
    if (!tokens.success) {
      throw body === undefined || status >= 500
        ? new Bitrix24TransportError({ code: `HTTP_${status}`, method, status })
        : new Bitrix24MalformedResponseError({ code: 'MALFORMED_RESPONSE', method, status });
    }
    return {
      accessToken: tokens.data.access_token,
      refreshToken: tokens.data.refresh_token,
      ...(tokens.data.expires === undefined
        ? {}
        : { expiresAt: new Date(tokens.data.expires * 1000).toISOString() }),
    };
  };
}

function deadlineExceeded(): Bitrix24DeadlineError {
  return new Bitrix24DeadlineError({
    code: 'DEADLINE_EXCEEDED',
    method: TOKEN_REFRESH_METHOD,
    description: 'the token refresh would not end by the deadline',
  });
}

import { describe, expect, it } from 'vitest';
import type { OAuthCredentials } from '../../functions/bitrix24/credentials.js';
import { Bitrix24DeadlineError, Bitrix24TransportError } from '../../functions/bitrix24/errors.js';
import { createTokenExchange } from '../../functions/bitrix24/token-exchange.js';

const CREDENTIALS: OAuthCredentials = {
  kind: 'oauth',
  clientEndpoint: 'https://acme.bitrix24.com/rest/',
  clientId: 'app.1',
  clientSecret: 'client-secret-value',
  accessToken: 'access-token-value',
  refreshToken: 'refresh-token-value',
  tokenEndpoint: 'https://oauth.example.test/oauth/token/',
};

/** A token endpoint that never answers; it gives up only when the request is aborted. */
let calls = 0;
const silentEndpoint: typeof fetch = (input, init) => {
  calls += 1;
  const signal = init?.signal ?? (input instanceof Request ? input.signal : undefined);
  return new Promise((_, reject) => {
    signal?.addEventListener('abort', () => reject(signal.reason));
  });
};

describe('the token exchange under a deadline', () => {
  it('waits only the time left before the deadline, not its whole timeout', async () => {
    const exchange = createTokenExchange({
      fetch: silentEndpoint,
      timeoutMs: 60_000,
      scrub: (text) => text,
      timeLeftMs: () => 300,
      minRequestMs: 100,
    });
    const started = Date.now();
    const error = await exchange(CREDENTIALS).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Bitrix24DeadlineError);
    expect((error as Bitrix24DeadlineError).code).toBe('DEADLINE_EXCEEDED');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('does not call the endpoint when less than a request is left', async () => {
    calls = 0;
    const exchange = createTokenExchange({
      fetch: silentEndpoint,
      timeoutMs: 60_000,
      scrub: (text) => text,
      timeLeftMs: () => 50,
      minRequestMs: 100,
    });
    await expect(exchange(CREDENTIALS)).rejects.toBeInstanceOf(Bitrix24DeadlineError);
    expect(calls).toBe(0);
  });

  it('reports its own timeout as a transport failure when no deadline is near', async () => {
    const exchange = createTokenExchange({
      fetch: silentEndpoint,
      timeoutMs: 200,
      scrub: (text) => text,
      timeLeftMs: () => undefined,
    });
    await expect(exchange(CREDENTIALS)).rejects.toBeInstanceOf(Bitrix24TransportError);
  });
});

import { describe, expect, it } from 'vitest';
import { createBitrix24Client } from '../../functions/bitrix24/bitrix24-client.js';
import type { Bitrix24ClientOptions } from '../../functions/bitrix24/client-types.js';
import type { RefreshLease } from '../../functions/bitrix24/credentials.js';
import { Bitrix24AuthError } from '../../functions/bitrix24/errors.js';
import { LEASE_WAIT_MS } from '../../functions/bitrix24/oauth-session.js';
import { chatUserListSchema } from '../../functions/bitrix24/schemas.js';
import { caught, memoryOAuthStore } from './support/fixtures.js';
import { useSimulator } from './support/simulator.js';

describe('OAuth token refresh against the simulator', () => {
  const sim = useSimulator({ seed: 'demo' });

  function setup(overrides: Partial<Bitrix24ClientOptions> = {}) {
    const pair = sim().oauth.issueTokens(1);
    const store = memoryOAuthStore({
      kind: 'oauth',
      clientId: sim().oauth.clientId,
      clientSecret: sim().oauth.clientSecret,
      accessToken: pair.accessToken,
      refreshToken: pair.refreshToken,
      clientEndpoint: `${sim().baseUrl}/rest/`,
      tokenEndpoint: sim().oauth.tokenEndpoint,
    });
    const refreshes: string[] = [];
    /** Runs once, as the next refresh request is sent. */
    let onRefresh: (() => void) | undefined;
    const countingFetch: typeof fetch = (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (url.includes('/oauth/token/')) {
        refreshes.push(url);
        onRefresh?.();
        onRefresh = undefined;
      }
      return fetch(input, init);
    };
    const client = createBitrix24Client({
      credentials: store.store,
      rateLimit: { burst: 1_000, drainPerSecond: 1_000 },
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
      fetch: countingFetch,
      ...overrides,
    });
    const list = () => client.call('im.chat.user.list', { CHAT_ID: 2 }, chatUserListSchema);
    return {
      pair,
      store,
      refreshes,
      client,
      list,
      set onRefresh(hook: () => void) {
        onRefresh = hook;
      },
    };
  }

  it('refreshes exactly once for ten concurrent calls with an expired token', async () => {
    const { store, refreshes, list, pair } = setup();
    await list();
    sim().faults.inject({ kind: 'expire-tokens' });
    const results = await Promise.all(Array.from({ length: 10 }, list));
    expect(results.every(({ result }) => result.length === 6)).toBe(true);
    expect(refreshes).toHaveLength(1);
    expect(store.saves).toHaveLength(1);
    expect(store.saves[0]).toMatchObject({ replaced: pair.refreshToken, accepted: true });
    expect(store.current().accessToken).not.toBe(pair.accessToken);
  });

  it('uses the pair another process stored instead of refreshing its own stale one', async () => {
    const { store, refreshes, list } = setup();
    await list();
    // Expire every token issued so far; any request consumes the fault.
    sim().faults.inject({ kind: 'expire-tokens' });
    await fetch(`${sim().webhookUrl}im.chat.user.list`, { method: 'POST' });
    // Another process refreshed and stored its pair; this client still holds the old one.
    const elsewhere = sim().oauth.issueTokens(1);
    store.replace({ accessToken: elsewhere.accessToken, refreshToken: elsewhere.refreshToken });
    const { result } = await list();
    expect(result).toHaveLength(6);
    expect(refreshes).toHaveLength(0);
    expect(store.saves).toHaveLength(0);
  });

  it('keeps the pair stored while its own refresh was under way when its save is refused', async () => {
    const setupResult = setup();
    const { store, refreshes, list } = setupResult;
    await list();
    sim().faults.inject({ kind: 'expire-tokens' });
    await fetch(`${sim().webhookUrl}im.chat.user.list`, { method: 'POST' });
    // Another process refreshes while this one's refresh is under way, and stores first.
    const elsewhere = sim().oauth.issueTokens(1);
    setupResult.onRefresh = () =>
      store.replace({ accessToken: elsewhere.accessToken, refreshToken: elsewhere.refreshToken });
    const { result } = await list();
    expect(result).toHaveLength(6);
    expect(refreshes).toHaveLength(1);
    expect(store.saves).toHaveLength(1);
    expect(store.saves[0]?.accepted).toBe(false);
    expect(store.current().refreshToken).toBe(elsewhere.refreshToken);
    expect((await list()).result).toHaveLength(6);
  });

  it('refreshes at most once per call', async () => {
    const { refreshes, list } = setup();
    sim().faults.inject({ kind: 'expire-tokens', times: 2 });
    const error = await caught(list());
    expect(error).toBeInstanceOf(Bitrix24AuthError);
    expect(error).toMatchObject({ code: 'expired_token' });
    expect(refreshes).toHaveLength(1);
  });

  it('fails with an auth error when the refresh token is no longer valid', async () => {
    const { store, list } = setup();
    store.replace({ refreshToken: 'revokedrefreshtoken000' });
    sim().faults.inject({ kind: 'expire-tokens' });
    const error = await caught(list());
    expect(error).toBeInstanceOf(Bitrix24AuthError);
    expect(error).toMatchObject({ code: 'invalid_grant', method: 'oauth.token.refresh' });
  });

  it('reports an unknown access token without refreshing more than once', async () => {
    const { store, refreshes, list } = setup();
    store.replace({ accessToken: 'neverissuedtoken0000' });
    const { result } = await list();
    expect(result).toHaveLength(6);
    expect(refreshes).toHaveLength(1);
  });

  describe('while another process holds the refresh lease', () => {
    const heldElsewhere: RefreshLease = { tryAcquire: async () => undefined };
    /** A clock that only sleeping moves: waits are counted, not spent. */
    function virtualTime() {
      let clock = 1_000_000;
      const slept: number[] = [];
      return {
        start: clock,
        slept,
        now: () => clock,
        sleep: async (ms: number) => {
          slept.push(ms);
          clock += ms;
        },
      };
    }

    it('uses the pair the holder stores, without refreshing', async () => {
      const time = virtualTime();
      const holder: { store?: (next: { accessToken: string; refreshToken: string }) => void } = {};
      const { store, refreshes, list } = setup({
        refreshLease: heldElsewhere,
        now: time.now,
        sleep: async (ms) => {
          await time.sleep(ms);
          // The holder stores its pair during the second wait.
          if (time.slept.length === 2) holder.store?.(sim().oauth.issueTokens(1));
        },
      });
      holder.store = (next) =>
        store.replace({ accessToken: next.accessToken, refreshToken: next.refreshToken });
      await list();
      sim().faults.inject({ kind: 'expire-tokens' });
      await fetch(`${sim().webhookUrl}im.chat.user.list`, { method: 'POST' });

      const { result } = await list();

      expect(result).toHaveLength(6);
      expect(refreshes).toHaveLength(0);
      expect(time.slept).toHaveLength(2);
    });

    it('gives up at the deadline with a retryable DEADLINE_EXCEEDED', async () => {
      const time = virtualTime();
      const { list } = setup({
        refreshLease: heldElsewhere,
        now: time.now,
        sleep: time.sleep,
        deadlineAt: () => time.start + 2_000,
      });
      sim().faults.inject({ kind: 'expire-tokens' });

      const error = await caught(list());

      expect(error).toMatchObject({ code: 'DEADLINE_EXCEEDED', retryable: true });
      expect(time.now() - time.start).toBeLessThanOrEqual(2_000);
      expect(time.slept.length).toBeGreaterThan(1);
    });

    it('gives up after a fixed cap when no deadline is known', async () => {
      const time = virtualTime();
      const { list } = setup({ refreshLease: heldElsewhere, now: time.now, sleep: time.sleep });
      sim().faults.inject({ kind: 'expire-tokens' });

      const error = await caught(list());

      expect(error).toMatchObject({ code: 'TOKEN_REFRESH_BUSY', retryable: true });
      expect(time.now() - time.start).toBeLessThanOrEqual(LEASE_WAIT_MS);
      expect(time.now() - time.start).toBeGreaterThan(LEASE_WAIT_MS - 1_000);
    });
  });
});

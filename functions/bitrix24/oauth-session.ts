import { backoffCeiling } from '../timing/backoff.js';
import type { Bitrix24Logger } from './client-types.js';
import type {
  Bitrix24Credentials,
  CredentialStore,
  HeldLease,
  OAuthCredentials,
  RefreshLease,
  TokenPair,
} from './credentials.js';
import {
  Bitrix24AuthError,
  Bitrix24DeadlineError,
  type Bitrix24Error,
  Bitrix24TransportError,
} from './errors.js';
import { TOKEN_REFRESH_METHOD } from './token-exchange.js';

/**
 * The credentials a Bitrix24 client sends, and their OAuth renewal when several processes share
 * one stored pair (docs/oauth-token-refresh.md). Bitrix24 spends a refresh token on its first use,
 * so the pair lives in exactly one place, the store, and:
 *
 * - before calling the token endpoint, the stored pair is re-read: a process whose cached pair is
 *   stale uses (or refreshes) the newer stored one instead of a spent refresh token;
 * - with a {@link RefreshLease}, one process at a time calls the token endpoint; the others wait
 *   (bounded) and then find the new pair in the store;
 * - `invalid_grant` reloads the store once: a pair stored meanwhile is used, otherwise the error
 *   says that re-authorisation is needed;
 * - a pair the store refused to take (write failure) stays in use in memory and its save is
 *   retried, a few times at once and then on later calls; the lease is kept until it expires, so
 *   no one refreshes the spent stored token meanwhile.
 */
export interface OAuthSessionOptions {
  readonly store: CredentialStore;
  /** Without a lease, only the calls within this process are coordinated. */
  readonly lease?: RefreshLease | undefined;
  /** Trades the refresh token of `credentials` for a new pair; refusals are {@link Bitrix24AuthError}s. */
  readonly exchange: (credentials: OAuthCredentials) => Promise<TokenPair>;
  /** The exchange's own timeout: a lease outlives it, so a slow holder keeps its lease. */
  readonly exchangeTimeoutMs: number;
  /** Sees every credential before it is used or can appear anywhere (redaction, validation). */
  readonly accept: (credentials: Bitrix24Credentials) => void;
  readonly logger?: Bitrix24Logger | undefined;
  /**
   * Epoch ms by which the call must return (the client's option): waiting for another process's
   * refresh ends there with `DEADLINE_EXCEEDED` when that comes before {@link LEASE_WAIT_MS}.
   */
  readonly deadlineAt?: (() => number | undefined) | undefined;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
  readonly random: () => number;
}

/** `refreshed`: this renewal called the token endpoint; `adopted`: it found a newer pair. */
export type Renewal = 'adopted' | 'refreshed';

export interface OAuthSession {
  /** Credentials for the next request: loaded once, then kept; retries a pending token save first. */
  current(): Promise<Bitrix24Credentials>;
  /** After `rejected`'s access token was refused (expired or invalid): makes a newer pair current. */
  renew(rejected: OAuthCredentials): Promise<Renewal>;
}

/** Longest wait for another process's refresh, unless the deadline comes first. */
export const LEASE_WAIT_MS = 30_000;
/** Lease time beyond the exchange's timeout: the bounded save retries below fit in it. */
const LEASE_SAVE_MARGIN_MS = 15_000;
/** Between polls of a held lease, ± half of it at random so waiters do not move in step. */
const LEASE_POLL_MS = 250;
/**
 * Save attempts right after a refresh, 200 ms apart, then doubling. No jitter: only the lease
 * holder saves, so there is no crowd of writers to spread out, and the retries must fit in
 * {@link LEASE_SAVE_MARGIN_MS} whatever the draw.
 */
const SAVE_ATTEMPTS = 3;
const SAVE_BACKOFF = { base: 200, max: 1_000 };
/** A save still pending is retried on a later call once this long has passed since the last try. */
const SAVE_RETRY_INTERVAL_MS = 5_000;

export function createOAuthSession(options: OAuthSessionOptions): OAuthSession {
  const { store, lease, logger, sleep, now } = options;
  const leaseTtlMs = options.exchangeTimeoutMs + LEASE_SAVE_MARGIN_MS;

  let credentials: Promise<Bitrix24Credentials> | undefined;
  let renewing: Promise<Renewal> | undefined;
  let saving: Promise<void> | undefined;
  /** The pair in use is not in the store yet; the store still holds `replaced` as refresh token. */
  let unsaved: { readonly replaced: string; readonly pair: TokenPair } | undefined;
  let lastSaveAt = Number.NEGATIVE_INFINITY;
  /** Held while `unsaved`: released once the pair is stored, or left to expire. */
  let keptLease: HeldLease | undefined;

  async function read(fresh: boolean): Promise<Bitrix24Credentials> {
    const loaded = await store.load(fresh ? { fresh } : undefined);
    options.accept(loaded);
    return loaded;
  }

  function held(): Promise<Bitrix24Credentials> {
    credentials ??= read(false).catch((error: unknown) => {
      credentials = undefined;
      throw error;
    });
    return credentials;
  }

  function use(next: Bitrix24Credentials): void {
    credentials = Promise.resolve(next);
  }

  async function reload(): Promise<OAuthCredentials> {
    const stored = await read(true);
    if (stored.kind !== 'oauth') {
      throw new Bitrix24AuthError({
        code: 'CREDENTIALS_CHANGED',
        method: TOKEN_REFRESH_METHOD,
        description: 'the stored credentials are no longer OAuth',
      });
    }
    return stored;
  }

  /** A pair other than the rejected one, not known to have expired. */
  function usable(stored: OAuthCredentials, rejected: OAuthCredentials): boolean {
    if (stored.accessToken === rejected.accessToken) return false;
    return stored.expiresAt === undefined || Date.parse(stored.expiresAt) > now();
  }

  async function current(): Promise<Bitrix24Credentials> {
    if (unsaved && !renewing && now() - lastSaveAt >= SAVE_RETRY_INTERVAL_MS) await save(1);
    return held();
  }

  async function renew(rejected: OAuthCredentials): Promise<Renewal> {
    if (renewing) return renewing;
    const mine = await held();
    if (renewing) return renewing;
    // Another call of this process renewed since `rejected` was sent.
    if (mine.kind === 'oauth' && mine.accessToken !== rejected.accessToken) return 'adopted';
    renewing = renewOnce(rejected).finally(() => {
      renewing = undefined;
    });
    return renewing;
  }

  async function renewOnce(rejected: OAuthCredentials): Promise<Renewal> {
    if (unsaved) await save(1);
    const pending = unsaved;
    if (pending) {
      // The store still holds the refresh token this process spent: only this process holds
      // the live one, so it refreshes without the lease (no one else can spend it).
      const mine = (await held()) as OAuthCredentials;
      await refresh(mine, pending.replaced);
      return 'refreshed';
    }
    const { stored, lease: holding } = await takeLease(rejected);
    try {
      if (usable(stored, rejected)) {
        use(stored);
        return 'adopted';
      }
      return await refreshOrReload(stored);
    } finally {
      if (holding && unsaved) keptLease = holding;
      else if (holding) await release(holding);
    }
  }

  /**
   * Holds the lease (or there is none) and has re-read the store since taking it; or returns,
   * without the lease, a usable pair another process stored while this one waited.
   */
  async function takeLease(
    rejected: OAuthCredentials,
  ): Promise<{ stored: OAuthCredentials; lease?: HeldLease }> {
    if (!lease) return { stored: await reload() };
    const started = now();
    const capAt = started + LEASE_WAIT_MS;
    for (;;) {
      const taken = await lease.tryAcquire(leaseTtlMs);
      const stored = await reload();
      if (taken) return { stored, lease: taken };
      if (usable(stored, rejected)) return { stored };
      const resumeAt = now() + LEASE_POLL_MS * (0.5 + options.random());
      const deadline = options.deadlineAt?.();
      if (deadline !== undefined && resumeAt > deadline && deadline < capAt) {
        throw new Bitrix24DeadlineError({
          code: 'DEADLINE_EXCEEDED',
          method: TOKEN_REFRESH_METHOD,
          description: "waiting for another process's token refresh would not end by the deadline",
        });
      }
      if (resumeAt > capAt) {
        throw new Bitrix24TransportError({
          code: 'TOKEN_REFRESH_BUSY',
          method: TOKEN_REFRESH_METHOD,
          description: `another process held the token refresh lease for ${Math.round(now() - started)} ms`,
        });
      }
      await sleep(resumeAt - now());
    }
  }

  /** Refreshes the stored pair; on `invalid_grant`, uses a pair stored meanwhile or explains. */
  async function refreshOrReload(stored: OAuthCredentials): Promise<Renewal> {
    try {
      await refresh(stored, stored.refreshToken);
      return 'refreshed';
    } catch (error) {
      if (!(error instanceof Bitrix24AuthError) || error.code.toLowerCase() !== 'invalid_grant') {
        throw error;
      }
      const again = await reload();
      if (again.refreshToken !== stored.refreshToken) {
        // Another process (without the lease, or after it expired) refreshed first and stored
        // its pair: use it; a call it fails renews again from the store.
        use(again);
        return 'adopted';
      }
      throw new Bitrix24AuthError({
        code: error.code,
        method: TOKEN_REFRESH_METHOD,
        status: error.status,
        description:
          'the token endpoint refused the stored refresh token (spent, expired or revoked) and the store holds no newer one; re-authorise the application and store the new pair',
        cause: error,
      });
    }
  }

  /** Exchanges `from`'s refresh token, uses the new pair at once, then stores it. */
  async function refresh(from: OAuthCredentials, storedRefreshToken: string): Promise<void> {
    const pair = await options.exchange(from);
    const next: OAuthCredentials = {
      ...from,
      accessToken: pair.accessToken,
      refreshToken: pair.refreshToken,
      ...(pair.expiresAt === undefined ? {} : { expiresAt: pair.expiresAt }),
    };
    options.accept(next);
    use(next);
    unsaved = { replaced: storedRefreshToken, pair };
    await save(SAVE_ATTEMPTS);
  }

  /** Stores the pending pair, trying up to `attempts` times now; concurrent callers share one try. */
  function save(attempts: number): Promise<void> {
    saving ??= saveNow(attempts).finally(() => {
      saving = undefined;
    });
    return saving;
  }

  async function saveNow(attempts: number): Promise<void> {
    const pending = unsaved;
    if (!pending) return;
    for (let attempt = 1; ; attempt += 1) {
      lastSaveAt = now();
      try {
        const accepted = await store.saveTokens(pending.replaced, pending.pair);
        if (unsaved !== pending) return;
        unsaved = undefined;
        const kept = keptLease;
        keptLease = undefined;
        if (kept) await release(kept);
        if (accepted) {
          logger?.info('Bitrix24 OAuth tokens refreshed and stored', {
            method: TOKEN_REFRESH_METHOD,
          });
        } else {
          // The store holds a pair this process did not write (an operator re-authorised, or a
          // process refreshed after this one's lease expired): every process converges on it.
          use(await reload());
          logger?.info('Bitrix24 OAuth tokens stored elsewhere meanwhile; using those', {
            method: TOKEN_REFRESH_METHOD,
          });
        }
        return;
      } catch (error) {
        const delayMs = backoffCeiling(attempt, SAVE_BACKOFF);
        const deadline = options.deadlineAt?.();
        const last = attempt >= attempts || (deadline !== undefined && now() + delayMs > deadline);
        // The error's name only: messages may quote request parameters.
        logger?.warn('could not store refreshed Bitrix24 OAuth tokens; keeping them in memory', {
          method: TOKEN_REFRESH_METHOD,
          attempt,
          error: nameOf(error),
          retry: last ? `on a call after ${SAVE_RETRY_INTERVAL_MS} ms` : 'now',
        });
        if (last) return;
        await sleep(delayMs);
      }
    }
  }

  async function release(holding: HeldLease): Promise<void> {
    try {
      await holding.release();
    } catch (error) {
      // It expires on its own; until then other processes wait and read the store.
      logger?.warn('could not release the Bitrix24 OAuth refresh lease', {
        method: TOKEN_REFRESH_METHOD,
        error: nameOf(error),
      });
    }
  }

  return { current, renew };
}

/**
 * A refusal of the access token itself: 401 `expired_token` (the JS SDK also renews on
 * `invalid_token`); every other auth error needs an operator (docs/oauth-token-refresh.md).
 */
export function isTokenExpiry(error: Bitrix24Error): boolean {
  return error instanceof Bitrix24AuthError && TOKEN_EXPIRY_CODES.has(error.code.toUpperCase());
}

/**
 * Whether a call may renew once more after `renewals`: at most one refresh per call, but a pair
 * adopted from the store may be stale too, and then one refresh still follows.
 */
export function mayRenew(renewals: readonly Renewal[]): boolean {
  return renewals.length < 3 && !renewals.includes('refreshed');
}

const TOKEN_EXPIRY_CODES = new Set(['EXPIRED_TOKEN', 'INVALID_TOKEN']);

function nameOf(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

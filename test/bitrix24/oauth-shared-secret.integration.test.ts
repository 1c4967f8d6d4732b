import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { createDynamoDbRefreshLease } from '../../functions/adapters/dynamodb-refresh-lease.js';
import { createSecretsManagerCredentialStore } from '../../functions/adapters/secrets-manager-credentials.js';
import { createBitrix24Client } from '../../functions/bitrix24/bitrix24-client.js';
import { Bitrix24AuthError } from '../../functions/bitrix24/errors.js';
import { chatUserListSchema } from '../../functions/bitrix24/schemas.js';
import { createRandom } from '../../local/simulator/seeded-random.js';
import type { RunningSimulator } from '../../local/simulator/types.js';
import { connectDynamo, type DynamoEndpoint } from '../support/dynalite-server.js';
import {
  type FakeSecretsManager,
  startFakeSecretsManager,
} from '../support/fake-secrets-manager.js';
import { captureLogger, caught, errorText } from './support/fixtures.js';
import { startPlainSimulator } from './support/simulator.js';

/**
 * Processes sharing one portal secret, as the planner and warm worker containers do in AWS: each
 * has its own Secrets Manager credential store and Bitrix24 client over one (fake) secret, one
 * DynamoDB Local lease table and one simulated portal. Access tokens live one second on the
 * portal of the concurrency test; the others expire them on cue (`expire-tokens`).
 */
describe('OAuth refresh by processes sharing one secret', () => {
  let sim: RunningSimulator;
  let shortLived: RunningSimulator;
  let secrets: FakeSecretsManager;
  let dynamo: DynamoEndpoint;
  let tableName: string;
  let n = 0;

  beforeAll(async () => {
    [sim, shortLived, secrets] = await Promise.all([
      startPlainSimulator({ seed: 'demo' }),
      startPlainSimulator({ seed: 'demo', accessTokenTtlSeconds: 1 }),
      startFakeSecretsManager(),
    ]);
    dynamo = connectDynamo(inject('dynamoDbLocalEndpoint'));
    tableName = await dynamo.createSnapshotTable('oauth');
  });
  afterAll(async () => {
    await Promise.all([sim?.close(), shortLived?.close(), secrets?.stop(), dynamo?.stop()]);
  });
  beforeEach(() => {
    sim.faults.clear();
    secrets.beforeOperation = undefined;
  });

  /** A portal secret holding a freshly issued pair, and what the token endpoint saw for it. */
  function portal(options: { refreshToken?: string; sim?: RunningSimulator } = {}) {
    const portalSim = options.sim ?? sim;
    const portalId = `portal-${++n}`;
    const pair = portalSim.oauth.issueTokens(1);
    const secretId = secrets.createSecret(`membership-sync/${portalId}`, {
      type: 'oauth',
      clientId: portalSim.oauth.clientId,
      clientSecret: portalSim.oauth.clientSecret,
      accessToken: pair.accessToken,
      refreshToken: options.refreshToken ?? pair.refreshToken,
      clientEndpoint: `${portalSim.baseUrl}/rest/`,
      tokenEndpoint: portalSim.oauth.tokenEndpoint,
    });
    /** Every refresh token presented to the token endpoint, and the answers' error codes. */
    const presented: string[] = [];
    const refused: string[] = [];
    /** Every token the portal issued or held: none may reach a log or an error. */
    const issued = new Set([pair.accessToken, pair.refreshToken, portalSim.oauth.clientSecret]);
    /** Runs before a refresh request reaches the token endpoint (tests interleave other processes). */
    let beforeRefresh: (() => Promise<void>) | undefined;
    const watchingFetch: typeof fetch = async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (!url.includes('/oauth/token/')) return fetch(input, init);
      const form = input instanceof Request ? await input.clone().text() : String(init?.body);
      presented.push(new URLSearchParams(form).get('refresh_token') ?? '');
      const hook = beforeRefresh;
      beforeRefresh = undefined;
      await hook?.();
      const response = await fetch(input, init);
      const body = (await response.clone().json()) as Record<string, unknown>;
      if (typeof body.error === 'string') refused.push(body.error);
      for (const key of ['access_token', 'refresh_token']) {
        if (typeof body[key] === 'string') issued.add(body[key]);
      }
      return response;
    };
    const logger = captureLogger();

    function process(
      options: { lease?: boolean; now?: () => number } = {},
    ): ReturnType<typeof createBitrix24Client> {
      return createBitrix24Client({
        credentials: createSecretsManagerCredentialStore({ client: secrets.client, secretId }),
        ...(options.lease === false
          ? {}
          : {
              refreshLease: lease(),
            }),
        rateLimit: { burst: 1_000_000, drainPerSecond: 1_000_000 },
        retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
        fetch: watchingFetch,
        logger,
        ...(options.now ? { now: options.now } : {}),
      });
    }
    const list = (client: ReturnType<typeof createBitrix24Client>) =>
      client.call('im.chat.user.list', { CHAT_ID: 2 }, chatUserListSchema);
    const stored = () =>
      JSON.parse(secrets.version(secretId)?.secretString ?? '{}') as Record<string, string>;
    const leaked = (text: string) => [...issued].filter((secret) => text.includes(secret));
    const lease = () =>
      createDynamoDbRefreshLease({ client: dynamo.documentClient, tableName, portalId });
    return {
      secretId,
      lease,
      pair,
      presented,
      refused,
      logger,
      process,
      list,
      stored,
      leaked,
      set beforeRefresh(hook: () => Promise<void>) {
        beforeRefresh = hook;
      },
    };
  }

  it('never shows invalid_grant to two processes calling concurrently across token expiries', async () => {
    const seed = Number(process.env.OAUTH_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const random = createRandom(seed);
    const p = portal({ sim: shortLived });
    const processes = [p.process(), p.process()];
    const failures: unknown[] = [];
    let calls = 0;
    const refreshes = () => p.presented.length;
    const pause = () => new Promise((r) => setTimeout(r, Math.floor(random() * 60)));

    // Each process runs bursts of concurrent calls until the portal has rotated the pair four
    // times (four expiries of the one-second access token).
    await Promise.all(
      processes.map(async (client) => {
        for (let round = 0; refreshes() - p.refused.length < 4 && round < 400; round++) {
          const burst = 1 + Math.floor(random() * 3);
          const results = await Promise.allSettled(
            Array.from({ length: burst }, () => p.list(client)),
          );
          calls += burst;
          for (const r of results) if (r.status === 'rejected') failures.push(r.reason);
          await pause();
        }
      }),
    );

    const context = `seed ${seed} (rerun with OAUTH_SEED=${seed})`;
    expect(p.refused, context).toEqual([]);
    expect(
      failures.map((f) => errorText(f).split('\n')[1]),
      context,
    ).toEqual([]);
    expect(refreshes(), context).toBeGreaterThanOrEqual(4);
    expect(calls, context).toBeGreaterThan(8);
    // The stored pair works: a new process reads it and calls (refreshing with it if it expired).
    const { result } = await p.list(p.process());
    expect(result).toHaveLength(6);
    expect(p.refused, context).toEqual([]);
    expect(p.leaked(p.logger.lines.join('\n'))).toEqual([]);
  });

  it('lets a warm process whose cached pair is stale refresh with the stored, newer pair', async () => {
    const p = portal();
    const warm = p.process();
    const other = p.process();
    await p.list(warm);
    await p.list(other);
    // The other process refreshes and stores the new pair; the warm one still caches the first.
    sim.faults.inject({ kind: 'expire-tokens' });
    await p.list(other);
    const rotated = p.stored().refreshToken;
    expect(rotated).not.toBe(p.pair.refreshToken);
    sim.faults.inject({ kind: 'expire-tokens' });

    const { result } = await p.list(warm);

    expect(result).toHaveLength(6);
    expect(p.presented).toEqual([p.pair.refreshToken, rotated]);
    expect(p.refused).toEqual([]);
  });

  it('keeps a refreshed pair in memory when the secret cannot be written, and stores it later', async () => {
    const p = portal();
    let clock = Date.now();
    const client = p.process({ now: () => Math.max(clock, Date.now()) });
    await p.list(client);
    const failWrites = (times: number) => {
      let left = times;
      secrets.beforeOperation = (op) => {
        if (op === 'PutSecretValue' && left-- > 0) throw new Error('injected write failure');
      };
    };
    failWrites(100);
    sim.faults.inject({ kind: 'expire-tokens' });

    const { result } = await p.list(client);

    expect(result).toHaveLength(6);
    expect(p.presented).toHaveLength(1);
    expect(p.stored().refreshToken).toBe(p.pair.refreshToken);
    expect(p.logger.lines.some((l) => l.startsWith('warn') && /could not store/i.test(l))).toBe(
      true,
    );
    // The process goes on with the pair only it holds, and keeps the lease meanwhile: no other
    // process may refresh with the spent token still in the secret.
    expect((await p.list(client)).result).toHaveLength(6);
    expect(await p.lease().tryAcquire(1_000)).toBeUndefined();

    // Secrets Manager works again: a later call stores the pair, without another refresh.
    secrets.beforeOperation = undefined;
    clock = Date.now() + 60_000;
    await p.list(client);
    expect(p.presented).toHaveLength(1);
    expect(p.stored().refreshToken).not.toBe(p.pair.refreshToken);
    const free = await p.lease().tryAcquire(1_000);
    expect(free).toBeDefined();
    await free?.release();
    const { result: fromStored } = await p.list(p.process());
    expect(fromStored).toHaveLength(6);
    sim.faults.inject({ kind: 'expire-tokens' });
    expect((await p.list(p.process())).result).toHaveLength(6);
    expect(p.refused).toEqual([]);
    expect(p.leaked(p.logger.lines.join('\n'))).toEqual([]);
  });

  it('reloads the secret once after invalid_grant and uses the pair another process stored', async () => {
    const p = portal();
    // No lease: a process that refreshes with the same stored token at the same moment.
    const client = p.process({ lease: false });
    await p.list(client);
    sim.faults.inject({ kind: 'expire-tokens' });
    // Just before this process's refresh reaches the endpoint, another one spends the same
    // refresh token and stores its new pair.
    p.beforeRefresh = async () => {
      const answer = await fetch(sim.oauth.tokenEndpoint, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          client_id: sim.oauth.clientId,
          client_secret: sim.oauth.clientSecret,
          refresh_token: p.pair.refreshToken,
        }),
      });
      const next = (await answer.json()) as { access_token: string; refresh_token: string };
      await secrets.client.send(
        new PutSecretValueCommand({
          SecretId: p.secretId,
          SecretString: JSON.stringify({
            ...p.stored(),
            accessToken: next.access_token,
            refreshToken: next.refresh_token,
          }),
        }),
      );
    };

    const { result } = await p.list(client);

    expect(result).toHaveLength(6);
    expect(p.refused).toEqual(['invalid_grant']);
    expect(p.presented).toEqual([p.pair.refreshToken]);
  });

  it('fails clearly, naming invalid_grant and no secret, when the reloaded pair is the refused one', async () => {
    const p = portal({ refreshToken: 'revokedrefreshtoken000' });
    const client = p.process();
    sim.faults.inject({ kind: 'expire-tokens' });
    const readsBefore = secrets.requests.filter((r) => r.op === 'GetSecretValue').length;

    const error = await caught(p.list(client));

    expect(error).toBeInstanceOf(Bitrix24AuthError);
    expect(error).toMatchObject({ code: 'invalid_grant', method: 'oauth.token.refresh' });
    expect((error as Error).message).toMatch(/re-authori[sz]e/);
    expect(p.presented).toEqual(['revokedrefreshtoken000']);
    // Initial load, the re-read before refreshing, the reload after the refusal.
    const reads = secrets.requests.filter((r) => r.op === 'GetSecretValue').length - readsBefore;
    expect(reads).toBe(3);
    const text = errorText(error) + p.logger.lines.join('\n');
    expect(p.leaked(text)).toEqual([]);
    expect(text).not.toContain('revokedrefreshtoken000');
  });
});

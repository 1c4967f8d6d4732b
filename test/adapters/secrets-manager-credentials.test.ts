import { DescribeSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AWAITING_CREDENTIALS_PLACEHOLDER,
  CredentialSecretError,
  createSecretsManagerCredentialStore,
} from '../../functions/adapters/secrets-manager-credentials.js';
import { CredentialsAwaitingError } from '../../functions/bitrix24/credentials.js';
import {
  type FakeSecretsManager,
  startFakeSecretsManager,
} from '../support/fake-secrets-manager.js';

const oauthSecret = {
  type: 'oauth',
  clientId: 'local.app.123',
  clientSecret: 'client-secret-SENTINEL',
  accessToken: 'access-0',
  refreshToken: 'refresh-0',
  clientEndpoint: 'https://example.bitrix24.com/rest/',
  operatorNote: 'kept on rewrite',
};

describe('SecretsManagerCredentialStore', () => {
  let fake: FakeSecretsManager;
  let n = 0;
  const uniqueName = () => `portal/${++n}`;
  const storeFor = (secretId: string) =>
    createSecretsManagerCredentialStore({ client: fake.client, secretId });

  beforeAll(async () => {
    fake = await startFakeSecretsManager();
  });
  beforeEach(() => {
    fake.beforeOperation = undefined;
  });
  afterAll(async () => {
    await fake?.stop();
  });

  it('loads a webhook secret once per store', async () => {
    const arn = fake.createSecret(uniqueName(), {
      type: 'webhook',
      webhookUrl: 'https://example.bitrix24.com/rest/1/abc123def/',
    });
    const store = storeFor(arn);
    const before = fake.requests.length;

    expect(await store.load()).toEqual({
      kind: 'webhook',
      webhookUrl: 'https://example.bitrix24.com/rest/1/abc123def/',
    });
    await store.load();
    expect(fake.requests.length - before).toBe(1);
  });

  it('loads an OAuth secret by name', async () => {
    const name = uniqueName();
    fake.createSecret(name, {
      ...oauthSecret,
      tokenEndpoint: 'https://oauth.bitrix.info/oauth/token/',
    });

    expect(await storeFor(name).load()).toEqual({
      kind: 'oauth',
      clientId: 'local.app.123',
      clientSecret: 'client-secret-SENTINEL',
      accessToken: 'access-0',
      refreshToken: 'refresh-0',
      clientEndpoint: 'https://example.bitrix24.com/rest/',
      tokenEndpoint: 'https://oauth.bitrix.info/oauth/token/',
    });
  });

  it('reads the secret again for a fresh load, seeing what another process wrote', async () => {
    const name = uniqueName();
    fake.createSecret(name, oauthSecret);
    const store = storeFor(name);
    await store.load();
    await fake.client.send(
      new PutSecretValueCommand({
        SecretId: name,
        SecretString: JSON.stringify({ ...oauthSecret, refreshToken: 'refresh-elsewhere' }),
      }),
    );

    expect(await store.load()).toMatchObject({ refreshToken: 'refresh-0' });
    expect(await store.load({ fresh: true })).toMatchObject({ refreshToken: 'refresh-elsewhere' });
    expect(await store.load()).toMatchObject({ refreshToken: 'refresh-elsewhere' });
  });

  it('tells when the stored access token expires, and forgets it with a pair of unknown expiry', async () => {
    const name = uniqueName();
    fake.createSecret(name, { ...oauthSecret, expiresAt: '2026-11-21T10:00:00.000Z' });
    const store = storeFor(name);
    expect(await store.load()).toMatchObject({ expiresAt: '2026-11-21T10:00:00.000Z' });

    await store.saveTokens('refresh-0', { accessToken: 'access-1', refreshToken: 'refresh-1' });

    expect(await store.load()).not.toHaveProperty('expiresAt');
    expect(await store.load({ fresh: true })).not.toHaveProperty('expiresAt');
  });

  it.each([
    [
      'a webhook URL over plain http',
      { type: 'webhook', webhookUrl: 'http://example.bitrix24.com/rest/1/SENTINEL-code/' },
      'webhookUrl: must be an https URL',
    ],
    [
      'a webhook URL without the trailing slash',
      { type: 'webhook', webhookUrl: 'https://example.bitrix24.com/rest/1/SENTINEL-code' },
      'webhookUrl: must look like',
    ],
    [
      'a missing refresh token',
      { ...oauthSecret, refreshToken: undefined },
      'refreshToken: must be a non-empty string',
    ],
    [
      'an empty access token',
      { ...oauthSecret, accessToken: '' },
      'accessToken: must be a non-empty string',
    ],
    [
      'an unknown type',
      { type: 'password', password: 'SENTINEL' },
      'type: must be "webhook" or "oauth"',
    ],
    ['invalid JSON', '{"type":"webhook","webhookUrl":"SENTINEL', 'is not valid JSON'],
  ])('rejects %s, naming the field and no value', async (_case, secret, expected) => {
    const name = uniqueName();
    fake.createSecret(name, secret);

    const error = await storeFor(name)
      .load()
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(CredentialSecretError);
    const text = `${(error as Error).message} ${JSON.stringify(error)} ${String((error as Error).cause)}`;
    expect((error as Error).message).toContain(name);
    expect((error as Error).message).toContain(expected);
    expect(text).not.toContain('SENTINEL');
    expect((error as Error).cause).toBeUndefined();
  });

  it('saves a refreshed pair as the new AWSCURRENT and keeps the old one as AWSPREVIOUS', async () => {
    const name = uniqueName();
    fake.createSecret(name, oauthSecret);
    const store = storeFor(name);
    await store.load();
    const previous = fake.version(name)?.versionId;

    const saved = await store.saveTokens('refresh-0', {
      accessToken: 'access-1',
      refreshToken: 'refresh-1',
      expiresAt: '2026-11-21T11:00:00.000Z',
    });

    expect(saved).toBe(true);
    expect(JSON.parse(fake.version(name)?.secretString ?? '')).toEqual({
      ...oauthSecret,
      accessToken: 'access-1',
      refreshToken: 'refresh-1',
      expiresAt: '2026-11-21T11:00:00.000Z',
    });
    expect(fake.version(name, 'AWSPREVIOUS')?.versionId).toBe(previous);
    const requests = fake.requests.length;
    expect(await store.load()).toMatchObject({
      accessToken: 'access-1',
      refreshToken: 'refresh-1',
    });
    expect(fake.requests.length).toBe(requests);
  });

  it('returns false and keeps the stored pair when it is not the one that was refreshed', async () => {
    const name = uniqueName();
    fake.createSecret(name, { ...oauthSecret, refreshToken: 'refresh-newer' });
    const before = fake.version(name);

    const saved = await storeFor(name).saveTokens('refresh-0', {
      accessToken: 'a',
      refreshToken: 'r',
    });

    expect(saved).toBe(false);
    expect(fake.version(name)).toEqual(before);
  });

  it('lets exactly one of two concurrent refreshes win; the loser keeps the winner pair', async () => {
    const name = uniqueName();
    fake.createSecret(name, oauthSecret);
    const original = fake.version(name)?.versionId;
    const a = storeFor(name);
    const b = storeFor(name);
    await Promise.all([a.load(), b.load()]);
    const firstRequest = fake.requests.length;
    // Hold both saveTokens reads until each has read version 0: both then pass the token
    // comparison, and only the stage move (RemoveFromVersionId) can tell them apart.
    const held: (() => void)[] = [];
    fake.beforeOperation = (op) =>
      op === 'GetSecretValue' && held.length < 2
        ? new Promise<void>((release) => {
            held.push(release);
            if (held.length === 2) for (const r of held) r();
          })
        : undefined;

    const [savedA, savedB] = await Promise.all([
      a.saveTokens('refresh-0', { accessToken: 'access-A', refreshToken: 'refresh-A' }),
      b.saveTokens('refresh-0', { accessToken: 'access-B', refreshToken: 'refresh-B' }),
    ]);

    expect([savedA, savedB].sort()).toEqual([false, true]);
    const ops = fake.requests
      .slice(firstRequest)
      .map((r) => `${r.op}:${r.input.VersionStage ?? ''}`);
    expect(ops.filter((op) => op === 'PutSecretValue:')).toHaveLength(2);
    expect(ops.filter((op) => op === 'UpdateSecretVersionStage:AWSCURRENT')).toHaveLength(2);
    const winner = savedA ? 'A' : 'B';
    const stored = JSON.parse(fake.version(name)?.secretString ?? '');
    expect(stored).toMatchObject({
      accessToken: `access-${winner}`,
      refreshToken: `refresh-${winner}`,
    });
    expect(fake.version(name, 'AWSPREVIOUS')?.versionId).toBe(original);
    expect(fake.version(name, 'AWSPENDING')).toBeUndefined();
    const loser = savedA ? b : a;
    expect(await loser.load()).toMatchObject({ refreshToken: `refresh-${winner}` });
    const { VersionIdsToStages = {} } = await fake.client.send(
      new DescribeSecretCommand({ SecretId: name }),
    );
    expect(Object.values(VersionIdsToStages).map((s) => s.sort())).toEqual(
      expect.arrayContaining([['AWSCURRENT'], ['AWSPREVIOUS'], []]),
    );
  });

  it('refuses to save tokens into a webhook secret', async () => {
    const name = uniqueName();
    fake.createSecret(name, {
      type: 'webhook',
      webhookUrl: 'https://example.bitrix24.com/rest/1/abc/',
    });

    await expect(
      storeFor(name).saveTokens('x', { accessToken: 'a', refreshToken: 'r' }),
    ).rejects.toThrow(CredentialSecretError);
  });

  it('reports a secret that does not exist yet as awaiting credentials', async () => {
    const error = await storeFor('no/such/secret')
      .load()
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(CredentialsAwaitingError);
    expect(error).toMatchObject({ secretId: 'no/such/secret', reason: 'not_found' });
  });

  it('fails, naming the secret, when an explicit ARN names no secret: an error that alarms, not awaiting', async () => {
    const arn = fake
      .createSecret(uniqueName(), AWAITING_CREDENTIALS_PLACEHOLDER)
      .replace(/-[0-9a-f]{6}$/, '-000000');

    const error = await storeFor(arn)
      .load()
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(CredentialSecretError);
    expect(String(error)).toContain('does not exist');
  });

  it('fails at once, without asking, for an ARN in another region', async () => {
    const arn = fake.createSecret(uniqueName(), AWAITING_CREDENTIALS_PLACEHOLDER);
    const foreign = arn.replace(/^(arn:aws:secretsmanager:)[^:]+/, '$1ap-southeast-2');
    const before = fake.requests.length;

    const error = await storeFor(foreign)
      .load()
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(CredentialSecretError);
    expect(String(error)).toMatch(/is in region ap-southeast-2; this function reads secrets in /);
    expect(fake.requests.length).toBe(before);
  });

  it('reports a secret holding the placeholder as awaiting credentials, then loads the real value', async () => {
    const name = uniqueName();
    fake.createSecret(name, { ...AWAITING_CREDENTIALS_PLACEHOLDER, note: 'write the webhook' });
    const store = storeFor(name);

    await expect(store.load()).rejects.toMatchObject({
      name: 'CredentialsAwaitingError',
      reason: 'placeholder',
    });
    await fake.client.send(
      new PutSecretValueCommand({
        SecretId: name,
        SecretString: JSON.stringify({
          type: 'webhook',
          webhookUrl: 'https://example.bitrix24.com/rest/1/abc/',
        }),
      }),
    );
    expect(await store.load()).toMatchObject({ kind: 'webhook' });
  });
});

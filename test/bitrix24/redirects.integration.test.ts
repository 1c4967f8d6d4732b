import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createBitrix24Client } from '../../functions/bitrix24/bitrix24-client.js';
import { Bitrix24ConfigurationError } from '../../functions/bitrix24/errors.js';
import { chatUserListSchema } from '../../functions/bitrix24/schemas.js';
import { caught, errorText, memoryOAuthStore, webhookStore } from './support/fixtures.js';

const servers: Server[] = [];

async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((s) => {
      const closed = new Promise((r) => s.close(r));
      s.closeAllConnections();
      return closed;
    }),
  );
});

/** A portal whose every call answers 401 `expired_token`, with an OAuth store refreshing at `tokenEndpoint`. */
async function expiredTokenPortal(tokenEndpoint: string) {
  const portal = await listen((_req, res) => {
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'expired_token', error_description: 'expired' }));
  });
  return memoryOAuthStore({
    kind: 'oauth',
    clientId: 'app',
    clientSecret: 'client-secret-value',
    accessToken: 'access-token-value',
    refreshToken: 'refresh-token-value',
    clientEndpoint: `${portal}/rest/`,
    tokenEndpoint: `${tokenEndpoint}/oauth/token/`,
  });
}

/** A server that records what reaches it, and one that redirects every request there with 307. */
async function redirectingPortal() {
  const received: string[] = [];
  const elsewhere = await listen((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    req.on('end', () => {
      received.push(`${req.url ?? ''} ${body}`);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ result: [1, 2], time: {} }));
    });
  });
  const portal = await listen((req, res) => {
    res.writeHead(307, { location: `${elsewhere}${req.url ?? '/'}` });
    res.end();
  });
  return { portal, received };
}

describe('redirects', () => {
  it('does not follow a 307: the webhook path and body would go wherever it points', async () => {
    const { portal, received } = await redirectingPortal();
    const client = createBitrix24Client({
      credentials: webhookStore(`${portal}/rest/1/s3cretwebhook/`),
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 },
    });
    const error = await caught(
      client.call('im.chat.user.list', { CHAT_ID: 2 }, chatUserListSchema),
    );
    expect(received).toEqual([]);
    // The portal moved or is misconfigured: no call can succeed until the URL is fixed.
    expect(error).toBeInstanceOf(Bitrix24ConfigurationError);
    expect(error).toMatchObject({ code: 'REDIRECT', status: 307 });
    expect(errorText(error)).not.toContain('s3cretwebhook');
    expect(client.requestCount()).toBe(1);
  });

  it('does not resend an OAuth access token to a redirect target', async () => {
    const { portal, received } = await redirectingPortal();
    const oauth = memoryOAuthStore({
      kind: 'oauth',
      clientId: 'app',
      clientSecret: 'client-secret-value',
      accessToken: 'access-token-value',
      refreshToken: 'refresh-token-value',
      clientEndpoint: `${portal}/rest/`,
      tokenEndpoint: `${portal}/oauth/token/`,
    });
    const client = createBitrix24Client({ credentials: oauth.store });
    await client
      .call('im.chat.user.list', { CHAT_ID: 2 }, chatUserListSchema)
      .catch(() => undefined);
    expect(received.join('\n')).not.toContain('access-token-value');
    expect(received).toEqual([]);
  });

  it('does not resend the client secret and refresh token to a redirect target', async () => {
    const { portal: tokenEndpoint, received } = await redirectingPortal();
    const oauth = await expiredTokenPortal(tokenEndpoint);
    const client = createBitrix24Client({ credentials: oauth.store });
    const error = await caught(
      client.call('im.chat.user.list', { CHAT_ID: 2 }, chatUserListSchema),
    );
    expect(error).toBeInstanceOf(Error);
    expect(received).toEqual([]);
  });
});

describe('OAuth refresh timeout', () => {
  it('gives up on a token endpoint that sends headers and then stalls the body', async () => {
    const tokenEndpoint = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"access_token":');
      // never ends
    });
    const oauth = await expiredTokenPortal(tokenEndpoint);
    const client = createBitrix24Client({ credentials: oauth.store, timeoutMs: 300 });
    const started = performance.now();
    const error = await caught(
      client.call('im.chat.user.list', { CHAT_ID: 2 }, chatUserListSchema),
    );
    expect(error).toMatchObject({ method: 'oauth.token.refresh' });
    expect(performance.now() - started).toBeLessThan(3_000);
  }, 10_000);
});

import { describe, expect, it } from 'vitest';
import { createBitrix24Client } from '../../functions/bitrix24/bitrix24-client.js';
import type { Bitrix24Credentials } from '../../functions/bitrix24/credentials.js';
import { Bitrix24ConfigurationError } from '../../functions/bitrix24/errors.js';
import { bucketLimit, headroom } from '../../functions/bitrix24/leaky-bucket.js';
import { chatUserListSchema } from '../../functions/bitrix24/schemas.js';
import { isLoopback } from '../../functions/bitrix24/secure-url.js';
import { caught } from './support/fixtures.js';

const answer = () =>
  new Response(JSON.stringify({ result: [1, 2], time: { start: 1 } }), {
    headers: { 'content-type': 'application/json' },
  });

function clientFor(credentials: Bitrix24Credentials, sent: string[] = []) {
  return createBitrix24Client({
    credentials: { load: async () => credentials, saveTokens: async () => true },
    fetch: async (input) => {
      sent.push(input instanceof Request ? input.url : String(input));
      return answer();
    },
  });
}

describe('client configuration', () => {
  it.each([
    'http://portal.example.com/rest/1/code/',
    'http://10.0.0.5/rest/1/code/',
    'ftp://127.0.0.1/rest/1/code/',
  ])('refuses %s before sending anything', async (webhookUrl) => {
    const sent: string[] = [];
    const error = await caught(
      clientFor({ kind: 'webhook', webhookUrl }, sent).call('m', {}, chatUserListSchema),
    );
    expect(error).toBeInstanceOf(Bitrix24ConfigurationError);
    expect(error).toMatchObject({ code: 'INSECURE_URL' });
    expect((error as Error).message).not.toContain('code/');
    expect(sent).toEqual([]);
  });

  it.each([
    'https://portal.bitrix24.com/rest/1/code/',
    'http://127.0.0.1:8080/rest/1/code/',
    'http://127.9.8.7/rest/1/code/',
    'http://localhost:1/rest/1/code/',
    'http://[::1]:9/rest/1/code/',
  ])('accepts %s', async (webhookUrl) => {
    const sent: string[] = [];
    const { result } = await clientFor({ kind: 'webhook', webhookUrl }, sent).call(
      'im.chat.user.list',
      { CHAT_ID: 1 },
      chatUserListSchema,
    );
    expect(result).toEqual([1, 2]);
    expect(sent).toEqual([`${webhookUrl}im.chat.user.list`]);
  });

  it('refuses a plain-HTTP OAuth token endpoint', async () => {
    const error = await caught(
      clientFor({
        kind: 'oauth',
        clientId: 'id',
        clientSecret: 'secret',
        accessToken: 'a',
        refreshToken: 'r',
        clientEndpoint: 'https://portal.bitrix24.com/rest/',
        tokenEndpoint: 'http://oauth.bitrix.info/oauth/token/',
      }).call('m', {}, chatUserListSchema),
    );
    expect(error).toMatchObject({
      code: 'INSECURE_URL',
      message: expect.stringMatching(/tokenEndpoint/),
    });
  });

  it('refuses a webhook URL without its trailing slash', async () => {
    const error = await caught(
      clientFor({ kind: 'webhook', webhookUrl: 'https://p.bitrix24.com/rest/1/code' }).call(
        'm',
        {},
        chatUserListSchema,
      ),
    );
    expect(error).toMatchObject({ code: 'INVALID_URL' });
  });

  it('recognises loopback hosts only', () => {
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('localhost')).toBe(true);
    expect(isLoopback('[::1]')).toBe(true);
    expect(isLoopback('127.example.com')).toBe(false);
    expect(isLoopback('128.0.0.1')).toBe(false);
  });

  it('keeps a quarter second of drain as headroom below the portal burst', () => {
    expect(headroom({ burst: 50, drainPerSecond: 2 })).toBe(1);
    expect(headroom({ burst: 250, drainPerSecond: 5 })).toBe(2);
    expect(headroom({ burst: 10, drainPerSecond: 20 })).toBe(5);
    expect(headroom({ burst: 1, drainPerSecond: 2 })).toBe(0);
  });

  it("models only its share of the portal's bucket, burst and drain alike", () => {
    expect(bucketLimit({ burst: 50, drainPerSecond: 2 })).toEqual({ burst: 49, drainPerSecond: 2 });
    expect(bucketLimit({ burst: 50, drainPerSecond: 2, share: 0.5 })).toEqual({
      burst: 24,
      drainPerSecond: 1,
    });
    expect(bucketLimit({ burst: 250, drainPerSecond: 5, share: 0.2 })).toEqual({
      burst: 49,
      drainPerSecond: 1,
    });
    expect(() => bucketLimit({ burst: 50, drainPerSecond: 2, share: 0 })).toThrow(RangeError);
  });
});

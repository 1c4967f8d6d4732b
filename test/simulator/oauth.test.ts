import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator } from '../../local/simulator/start-simulator.js';
import type { RunningSimulator, SimulatorOptions } from '../../local/simulator/types.js';
import { get, postForm, postJson } from './rest-call.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('simulator OAuth', () => {
  let sim: RunningSimulator | undefined;
  const start = async (options: SimulatorOptions = {}) => {
    sim = await startSimulator({ tls: false, rateLimit: false, ...options });
    return sim;
  };
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  it('accepts the access token as auth, access_token or a Bearer header', async () => {
    const portal = await start();
    const { accessToken } = portal.oauth.issueTokens(1);
    const url = `${portal.baseUrl}/rest/im.chat.user.list`;
    expect((await postJson(url, { CHAT_ID: 2, auth: accessToken })).body.result).toHaveLength(6);
    expect((await get(`${url}?CHAT_ID=2&auth=${accessToken}`)).status).toBe(200);
    expect((await get(`${url}?CHAT_ID=2&access_token=${accessToken}`)).status).toBe(200);
    const bearer = await get(`${url}?CHAT_ID=2`, { authorization: `Bearer ${accessToken}` });
    expect(bearer.body.result).toHaveLength(6);
  });

  it("runs token calls as the token's user", async () => {
    const portal = await start();
    const { accessToken } = portal.oauth.issueTokens(14);
    const answer = await postJson(`${portal.baseUrl}/rest/im.chat.user.list`, {
      CHAT_ID: 5,
      auth: accessToken,
    });
    expect(answer.body.result).toEqual([14, 16, 17, 18]);
  });

  it('answers an unknown token with 401 invalid_token', async () => {
    const portal = await start();
    const answer = await postJson(`${portal.baseUrl}/rest/im.chat.user.list`, {
      CHAT_ID: 2,
      auth: 'garbage',
    });
    expect(answer.status).toBe(401);
    expect(answer.body.error).toBe('invalid_token');
  });

  it('expires access tokens after the time-scaled lifetime with 401 expired_token', async () => {
    // 3600 portal seconds at 36,000× = 100 ms.
    const portal = await start({ timeScale: 36_000 });
    const { accessToken, expiresIn } = portal.oauth.issueTokens(1);
    expect(expiresIn).toBe(1);
    const url = `${portal.baseUrl}/rest/im.chat.user.list`;
    expect((await postJson(url, { CHAT_ID: 2, auth: accessToken })).status).toBe(200);
    await sleep(150);
    const expired = await postJson(url, { CHAT_ID: 2, auth: accessToken });
    expect(expired.status).toBe(401);
    expect(expired.body).toEqual({
      error: 'expired_token',
      error_description: 'The access token provided has expired',
    });
  });

  it('refreshes with a form POST, returns the real shape and rejects the old refresh token', async () => {
    const portal = await start();
    const { refreshToken } = portal.oauth.issueTokens(1);
    const form = new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: portal.oauth.clientId,
      client_secret: portal.oauth.clientSecret,
      refresh_token: refreshToken,
    });
    const refreshed = await postForm(portal.oauth.tokenEndpoint, form.toString());
    expect(refreshed.status).toBe(200);
    expect(refreshed.body).toEqual({
      access_token: expect.any(String),
      client_endpoint: `${portal.baseUrl}/rest/`,
      domain: new URL(portal.baseUrl).host,
      expires: expect.any(Number),
      expires_in: 3600,
      member_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      refresh_token: expect.any(String),
      scope: 'im',
      server_endpoint: `${portal.baseUrl}/rest/`,
      status: 'L',
      user_id: 1,
    });
    expect(refreshed.body.refresh_token).not.toBe(refreshToken);
    const call = await postJson(`${refreshed.body.client_endpoint}im.chat.user.list`, {
      CHAT_ID: 2,
      auth: refreshed.body.access_token,
    });
    expect(call.status).toBe(200);

    const reused = await postForm(portal.oauth.tokenEndpoint, form.toString());
    expect(reused.status).toBe(400);
    expect(reused.body.error).toBe('invalid_grant');
  });

  it('refreshes with GET query parameters and with a JSON body', async () => {
    const portal = await start();
    const first = portal.oauth.issueTokens(1);
    const query = new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: portal.oauth.clientId,
      client_secret: portal.oauth.clientSecret,
      refresh_token: first.refreshToken,
    });
    const viaGet = await get(`${portal.oauth.tokenEndpoint}?${query}`);
    expect(viaGet.status).toBe(200);
    const viaJson = await postJson(portal.oauth.tokenEndpoint, {
      grant_type: 'refresh_token',
      client_id: portal.oauth.clientId,
      client_secret: portal.oauth.clientSecret,
      refresh_token: viaGet.body.refresh_token,
    });
    expect(viaJson.status).toBe(200);
  });

  it('refuses a refresh with a wrong client secret', async () => {
    const portal = await start();
    const answer = await postJson(portal.oauth.tokenEndpoint, {
      grant_type: 'refresh_token',
      client_id: portal.oauth.clientId,
      client_secret: 'wrong',
      refresh_token: portal.oauth.issueTokens(1).refreshToken,
    });
    expect(answer.status).toBe(401);
    expect(answer.body.error).toBe('invalid_client');
  });
});

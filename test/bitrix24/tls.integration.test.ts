import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBitrix24Client } from '../../functions/bitrix24/bitrix24-client.js';
import { Bitrix24TransportError } from '../../functions/bitrix24/errors.js';
import { createBitrix24MemberReader } from '../../functions/bitrix24/member-reader.js';
import { chatUserListSchema } from '../../functions/bitrix24/schemas.js';
import { createHttpsFetch } from '../../local/runtime/https-fetch.js';
import { startSimulator } from '../../local/simulator/start-simulator.js';
import type { RunningSimulator } from '../../local/simulator/types.js';
import { caught, memoryOAuthStore, webhookStore } from './support/fixtures.js';

/**
 * Over HTTPS with the simulator's self-signed certificate, trusted through a `node:https`
 * fetch adapter (Node 20's fetch accepts a CA only via an undici dispatcher; undici is not
 * installed, and NODE_EXTRA_CA_CERTS is read only at process start).
 */
describe('client over HTTPS', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 'demo', tls: true, rateLimit: false });
  });
  afterAll(() => sim.close());

  it('reads members through a webhook', async () => {
    expect(sim.webhookUrl.startsWith('https://')).toBe(true);
    const client = createBitrix24Client({
      credentials: webhookStore(sim.webhookUrl),
      fetch: createHttpsFetch(sim.caCert ?? ''),
    });
    const reads = await createBitrix24MemberReader(client).readMembers([1, 2, 5]);
    expect(reads.get(1)).toMatchObject({ kind: 'complete', method: 'im.dialog.users.list' });
    expect(reads.get(2)).toMatchObject({ kind: 'complete', memberIds: [1, 2, 3, 4, 5, 20] });
    expect(reads.get(5)).toMatchObject({ kind: 'no_access' });
  });

  it('refreshes OAuth tokens over HTTPS', async () => {
    const pair = sim.oauth.issueTokens(1);
    const store = memoryOAuthStore({
      kind: 'oauth',
      clientId: sim.oauth.clientId,
      clientSecret: sim.oauth.clientSecret,
      accessToken: pair.accessToken,
      refreshToken: pair.refreshToken,
      clientEndpoint: `${sim.baseUrl}/rest/`,
      tokenEndpoint: sim.oauth.tokenEndpoint,
    });
    const client = createBitrix24Client({
      credentials: store.store,
      fetch: createHttpsFetch(sim.caCert ?? ''),
    });
    sim.faults.inject({ kind: 'expire-tokens' });
    const { result } = await client.call('im.chat.user.list', { CHAT_ID: 2 }, chatUserListSchema);
    expect(result).toHaveLength(6);
    expect(store.saves).toMatchObject([{ accepted: true }]);
  });

  it('does not trust an unknown certificate', async () => {
    const client = createBitrix24Client({
      credentials: webhookStore(sim.webhookUrl),
      retry: { maxAttempts: 1 },
    });
    const error = await caught(
      client.call('im.chat.user.list', { CHAT_ID: 2 }, chatUserListSchema),
    );
    expect(error).toBeInstanceOf(Bitrix24TransportError);
    expect(error).toMatchObject({ code: 'NETWORK_ERROR' });
  });
});

import https from 'node:https';
import { type AjaxResult, B24Hook, type Result } from '@bitrix24/b24jssdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createBitrix24Client } from '../../functions/bitrix24/bitrix24-client.js';
import type { Bitrix24Client } from '../../functions/bitrix24/client-types.js';
import { readDialogMembers } from '../../functions/bitrix24/read-dialog-members.js';
import { chatUserListSchema, dialogUsersListSchema } from '../../functions/bitrix24/schemas.js';
import { createHttpsFetch } from '../../local/runtime/https-fetch.js';
import { startSimulator } from '../../local/simulator/start-simulator.js';
import type { RunningSimulator } from '../../local/simulator/types.js';
import { webhookStore } from './support/fixtures.js';

/**
 * The official SDK (@bitrix24/b24jssdk 2.2.0) and our client ask the simulator the same
 * questions through the same webhook and must get the same answers. The SDK speaks HTTPS only
 * (it rewrites http:// to https://) through axios, whose Node adapter uses `https.globalAgent`
 * when no agent is given: trusting the simulator's self-signed CA there is enough (verified).
 */
describe('conformance with the official SDK', () => {
  let sim: RunningSimulator;
  let sdk: B24Hook;
  let ours: Bitrix24Client;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 'demo', tls: true, rateLimit: false });
    const ca = sim.caCert ?? '';
    https.globalAgent.options.ca = ca;
    sdk = B24Hook.fromWebhookUrl(sim.webhookUrl);
    sdk.offClientSideWarning();
    ours = createBitrix24Client({
      credentials: webhookStore(sim.webhookUrl),
      rateLimit: { burst: 1_000, drainPerSecond: 1_000 },
      fetch: createHttpsFetch(ca),
    });
  });
  afterAll(() => sim.close());

  const sdkCall = async (method: string, params: Record<string, unknown>) => {
    const response = await sdk.actions.v2.call.make({ method, params });
    expect(response.isSuccess).toBe(true);
    return response;
  };

  it('gets the same im.chat.user.list answer', async () => {
    for (const chatId of [2, 3, 4, 5, 6, 7]) {
      const theirs = await sdkCall('im.chat.user.list', { CHAT_ID: chatId });
      const mine = await ours.call('im.chat.user.list', { CHAT_ID: chatId }, chatUserListSchema);
      expect(mine.result).toEqual(theirs.getData()?.result);
    }
  });

  it('gets the same im.dialog.users.list pages in OFFSET mode, total and paging included', async () => {
    const loose = z.array(z.unknown());
    let offset = 0;
    for (let page = 0; page < 10; page += 1) {
      const params = { DIALOG_ID: 'chat1', LIMIT: 7, OFFSET: offset };
      const theirs = await sdkCall('im.dialog.users.list', params);
      const mine = await ours.call('im.dialog.users.list', params, loose);
      expect(mine.result).toEqual(theirs.getData()?.result);
      expect(mine.total).toBe(theirs.getTotal());
      expect(mine.next !== undefined).toBe(theirs.isMore());
      if (mine.next === undefined) return;
      offset = mine.next;
    }
    throw new Error('OFFSET paging did not end');
  });

  it('gets the same members in LAST_ID mode, page by page and as a whole', async () => {
    const theirs = await sdkCall('im.dialog.users.list', {
      DIALOG_ID: 'chat1',
      LAST_ID: 0,
      LIMIT: 200,
    });
    const mine = await ours.call(
      'im.dialog.users.list',
      { DIALOG_ID: 'chat1', LAST_ID: 0, LIMIT: 200 },
      dialogUsersListSchema,
    );
    expect(mine.result).toEqual(theirs.getData()?.result);
    // Keyset mode carries no total/next.
    expect(mine.total).toBeUndefined();
    expect(theirs.isMore()).toBe(false);
    const read = await readDialogMembers(ours, 1);
    const ids = ((theirs.getData()?.result ?? []) as { id: number }[]).map((user) => user.id);
    expect(read).toMatchObject({ kind: 'complete', memberIds: ids });
  });

  it('gets the same batch answers, per-command errors included', async () => {
    const calls = {
      a: { method: 'im.chat.user.list', params: { CHAT_ID: 2 } },
      b: { method: 'im.chat.user.list', params: { CHAT_ID: 5 } },
      g: { method: 'im.chat.user.list', params: { CHAT_ID: 1 } },
      u: { method: 'im.user.list.get', params: { ID: [1, 20, 21, 999] } },
      d: { method: 'im.dialog.users.list', params: { DIALOG_ID: 'chat4', LIMIT: 2, OFFSET: 0 } },
    };
    const response = (await sdk.actions.v2.batch.make({
      calls,
      options: { isHaltOnError: false, returnAjaxResult: true },
    })) as Result<Record<string, AjaxResult>>;
    const theirs = response.getData() ?? {};
    const mine = await ours.batch(Object.entries(calls).map(([key, call]) => ({ key, ...call })));
    for (const key of Object.keys(calls)) {
      const their = theirs[key];
      const my = mine.get(key);
      expect(my?.ok, key).toBe(their?.isSuccess);
      if (my?.ok) {
        expect(my.result, key).toEqual(their?.getData()?.result);
      } else {
        const codes = [...(their?.getErrors() ?? [])].map((e) => (e as { code?: string }).code);
        expect(codes, key).toContain(my?.error.code);
      }
    }
    expect(mine.get('g')).toMatchObject({ ok: false, error: { code: 'ACCESS_ERROR' } });
    expect(mine.get('d')).toMatchObject({ ok: true, total: 4, next: 2 });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../local/simulator/start-simulator.js';
import type { RunningSimulator } from '../../local/simulator/types.js';
import { postJson } from './rest-call.js';

/**
 * docs/bitrix24.md §1: a webhook runs with the scopes ticked on it; docs/bitrix24.md §2:
 * insufficient_scope's status conflicts.
 */
describe('simulator webhook scopes', () => {
  let sim: RunningSimulator;
  let docsSim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ tls: false, rateLimit: false });
    docsSim = await startSimulator({
      tls: false,
      rateLimit: false,
      statuses: { insufficientScope: 403 },
    });
  });
  afterAll(async () => {
    await sim.close();
    await docsSim.close();
  });

  it('refuses im methods to a webhook without the im scope, 401 by default (source)', async () => {
    const crmOnly = sim.createWebhook(1, { scopes: ['crm', 'user'] });
    const answer = await postJson(`${crmOnly}im.chat.user.list`, { CHAT_ID: 2 });
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({
      error: 'insufficient_scope',
      error_description: expect.any(String),
    });
  });

  it('answers insufficient_scope with the docs status when configured', async () => {
    const crmOnly = docsSim.createWebhook(1, { scopes: ['crm'] });
    const answer = await postJson(`${crmOnly}im.dialog.users.list`, { DIALOG_ID: 'chat2' });
    expect(answer.status).toBe(403);
    expect(answer.body.error).toBe('insufficient_scope');
  });

  it('reports the missing scope per command inside a batch, which itself succeeds', async () => {
    const crmOnly = sim.createWebhook(1, { scopes: ['crm'] });
    const answer = await postJson(`${crmOnly}batch`, {
      halt: 0,
      cmd: { a: 'im.chat.user.list?CHAT_ID=2' },
    });
    expect(answer.status).toBe(200);
    expect(answer.body.result).toMatchObject({
      result: [],
      result_error: { a: { error: 'insufficient_scope' } },
    });
  });

  it('serves a webhook that has the im scope', async () => {
    const imWebhook = sim.createWebhook(1, { scopes: ['im'] });
    const answer = await postJson(`${imWebhook}im.chat.user.list`, { CHAT_ID: 2 });
    expect(answer.status).toBe(200);
    expect(answer.body.result).toContain(1);
  });
});

import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../local/simulator/start-simulator.js';
import type { RunningSimulator } from '../../local/simulator/types.js';
import { httpsPostJson } from './rest-call.js';

describe('simulator over HTTPS', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ rateLimit: false });
  });
  afterAll(() => sim.close());

  it('serves webhook calls over HTTPS with a certificate trusted through caCert', async () => {
    expect(sim.baseUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(sim.webhookUrl.startsWith(`${sim.baseUrl}/rest/1/`)).toBe(true);
    expect(sim.caCert).toContain('BEGIN CERTIFICATE');
    const answer = await httpsPostJson(`${sim.webhookUrl}im.chat.user.list`, sim.caCert ?? '', {
      CHAT_ID: 2,
    });
    expect(answer.status).toBe(200);
    expect(answer.body.result).toEqual([2, 1, 3, 4, 5, 20]);
  });

  it('is valid for the localhost name too', async () => {
    const url = sim.webhookUrl.replace('127.0.0.1', 'localhost');
    const answer = await httpsPostJson(`${url}im.chat.user.list`, sim.caCert ?? '', { CHAT_ID: 4 });
    expect(answer.status).toBe(200);
  });

  it('is refused by a client that does not trust the certificate', async () => {
    await expect(
      httpsPostJson(`${sim.webhookUrl}im.chat.user.list`, '', { CHAT_ID: 2 }).catch((error) => {
        throw error;
      }),
    ).rejects.toThrow();
  });

  it('does not serve plain HTTP', async () => {
    const port = new URL(sim.baseUrl).port;
    const outcome = await new Promise<string>((resolve) => {
      const outgoing = httpRequest(
        { host: '127.0.0.1', port, path: '/rest/1/x/im.chat.user.list', method: 'GET' },
        (incoming) => resolve(`status ${incoming.statusCode}`),
      );
      outgoing.once('error', (error) => resolve(`error ${error.message}`));
      outgoing.end();
    });
    expect(outcome).toMatch(/^(error|status 400)/);
    expect(outcome).not.toBe('status 200');
  });

  it('reuses one certificate per process', async () => {
    const second = await startSimulator({ seed: 'empty' });
    try {
      expect(second.caCert).toBe(sim.caCert);
    } finally {
      await second.close();
    }
  });
});

import { channel } from 'node:diagnostics_channel';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { describe, expect, it } from 'vitest';
import {
  createTracer,
  inSubsegment,
  type TraceSink,
  traceBitrix24Fetch,
} from '../../functions/app/tracing.js';
import { createBitrix24Client } from '../../functions/bitrix24/bitrix24-client.js';
import { chatUserListSchema } from '../../functions/bitrix24/schemas.js';
import { caught, memoryOAuthStore, webhookStore } from '../bitrix24/support/fixtures.js';

/**
 * What the worker and the planner would send to X-Ray. Each test records into a real X-Ray
 * subsegment (the SDK's own class, serialised as the SDK sends it) through a tracer that
 * reports itself enabled, as in Lambda.
 */
function recordingTracer() {
  // A disabled Tracer hands out a detached X-Ray subsegment: a root that sends nothing anywhere.
  const root = new Tracer({ enabled: false }).getSegment();
  if (!root) throw new Error('no subsegment');
  let current = root;
  const tracer: TraceSink = {
    isTracingEnabled: () => true,
    getSegment: () => current,
    setSegment: (segment) => {
      current = segment;
    },
  };
  return {
    tracer,
    current: () => current,
    /** The trace as the X-Ray SDK serialises it. */
    sent: () => String(root),
    /** Per Bitrix24 request: the subsegment's name, its method annotation and HTTP status. */
    requests: () =>
      (JSON.parse(String(root)).subsegments ?? []).map(
        (s: {
          name: string;
          annotations?: Record<string, unknown>;
          http?: { response?: { status?: number } };
          fault?: boolean;
        }) => [s.name, s.annotations?.bitrix24_method, s.http?.response?.status ?? 'failed'],
      ),
  };
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

type FetchInput = Parameters<typeof globalThis.fetch>[0];

const urlOf = (input: FetchInput) =>
  typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;

const WEBHOOK_CODE = 'w3bh00kc0de51234';
const OAUTH = {
  kind: 'oauth',
  clientId: 'local.app.1',
  clientSecret: 'cl1entS3cretValue42',
  accessToken: 'expiredAccessToken0001',
  refreshToken: 'firstRefreshToken0001',
  clientEndpoint: 'https://portal.example.com/rest/',
  tokenEndpoint: 'https://oauth.example.com/oauth/token/',
} as const;
const REFRESHED = { access_token: 'freshAccessToken0002', refresh_token: 'nextRefreshToken0002' };

describe('Bitrix24 requests in the trace', () => {
  it('are named by host and REST method only: no webhook code, token or client secret reaches X-Ray', async () => {
    // Prepare: a webhook portal, and an OAuth portal whose access token has expired
    const recording = recordingTracer();
    const portal = async (input: FetchInput) => {
      const url = urlOf(input);
      if (url.startsWith(OAUTH.tokenEndpoint)) return json(200, REFRESHED);
      const body = input instanceof Request ? await input.clone().text() : '';
      if (body.includes(OAUTH.accessToken)) {
        return json(401, {
          error: 'expired_token',
          error_description: 'The access token expired.',
        });
      }
      return json(200, { result: [1, 2], time: {} });
    };
    const fetch = traceBitrix24Fetch(recording.tracer, portal);
    const hook = createBitrix24Client({
      credentials: webhookStore(`https://hooks.example.com/rest/1/${WEBHOOK_CODE}/`),
      fetch,
    });
    const oauth = createBitrix24Client({ credentials: memoryOAuthStore(OAUTH).store, fetch });

    // Act
    await hook.call('im.chat.user.list', { CHAT_ID: 2 }, chatUserListSchema);
    await oauth.call('im.chat.user.list', { CHAT_ID: 2 }, chatUserListSchema);

    // Assess: every request recorded, and nothing secret in what would be sent
    expect(recording.requests()).toEqual([
      ['hooks.example.com', 'im.chat.user.list', 200],
      ['portal.example.com', 'im.chat.user.list', 401],
      ['oauth.example.com', 'token', 200],
      ['portal.example.com', 'im.chat.user.list', 200],
    ]);
    const sent = recording.sent();
    for (const secret of [
      WEBHOOK_CODE,
      OAUTH.clientSecret,
      OAUTH.accessToken,
      OAUTH.refreshToken,
      REFRESHED.access_token,
      REFRESHED.refresh_token,
    ]) {
      expect(sent).not.toContain(secret);
    }
  });

  it('record a failed request with its error redacted', async () => {
    // Prepare: the transport fails with an error that quotes the webhook URL
    const recording = recordingTracer();
    const webhookUrl = `https://hooks.example.com/rest/1/${WEBHOOK_CODE}/`;
    const client = createBitrix24Client({
      credentials: webhookStore(webhookUrl),
      fetch: traceBitrix24Fetch(recording.tracer, async (input) => {
        throw new TypeError(`fetch failed: ${urlOf(input)}?auth=${OAUTH.accessToken}`);
      }),
      retry: { maxAttempts: 1 },
    });

    // Act
    const error = await caught(client.call('batch', { halt: 0, cmd: {} }, chatUserListSchema));

    // Assess
    expect(error).toMatchObject({ code: 'NETWORK_ERROR' });
    expect(recording.requests()).toEqual([['hooks.example.com', 'batch', 'failed']]);
    expect(recording.sent()).toContain('"fault":true');
    expect(recording.sent()).toContain('fetch failed: https://hooks.example.com/rest/1/***/batch');
    expect(recording.sent()).not.toContain(WEBHOOK_CODE);
    expect(recording.sent()).not.toContain(OAUTH.accessToken);
  });

  it('never name a webhook code as the method, even for a request without one', async () => {
    const recording = recordingTracer();
    const fetch = traceBitrix24Fetch(recording.tracer, async () => json(200, {}));
    await fetch(`https://hooks.example.com/rest/1/${WEBHOOK_CODE}/`);
    expect(recording.requests()).toEqual([['hooks.example.com', '-', 200]]);
  });
});

describe('subsegments of the handlers', () => {
  it('hold what runs inside, are current meanwhile, and record an error redacted', async () => {
    // Prepare
    const recording = recordingTracer();
    const root = recording.current();
    const fetch = traceBitrix24Fetch(recording.tracer, async () => json(200, {}));
    let inside: unknown;

    // Act
    const error = await caught(
      inSubsegment(recording.tracer, 'work item', async () => {
        inside = recording.current();
        await fetch('https://portal.example.com/rest/batch');
        throw new Error(`gave up on https://hooks.example.com/rest/1/${WEBHOOK_CODE}/batch`);
      }),
    );

    // Assess: the request nests under the subsegment, which is no longer current afterwards
    const [item] = JSON.parse(recording.sent()).subsegments;
    expect(error).toBeInstanceOf(Error);
    expect(inside).not.toBe(root);
    expect(recording.current()).toBe(root);
    expect(item).toMatchObject({ name: 'work item', fault: true });
    expect(item.subsegments.map((s: { name: string }) => s.name)).toEqual(['portal.example.com']);
    expect(recording.sent()).not.toContain(WEBHOOK_CODE);
  });
});

describe('the Tracer', () => {
  it('is off outside Lambda (tests, npm start): the Bitrix24 fetch is left as it is', () => {
    const fetch = async () => json(200, {});
    const tracer = createTracer('membership-sync');
    expect(tracer.isTracingEnabled()).toBe(false);
    expect(traceBitrix24Fetch(tracer, fetch)).toBe(fetch);
  });

  it('in Lambda does not record fetch requests by itself (Powertools would record their URL)', () => {
    // Prepare: a request as undici announces it, to a webhook URL; Powertools' default tracer
    // as the control that the announcement is what it records
    const announce = () =>
      channel('undici:request:create').publish({
        request: {
          method: 'POST',
          origin: 'https://hooks.example.com',
          path: `/rest/1/${WEBHOOK_CODE}/batch`,
          addHeader() {},
        },
      });
    const recordedBy = (tracer: Tracer) => {
      const root = new Tracer({ enabled: false }).getSegment();
      if (!root) throw new Error('no subsegment');
      tracer.provider.getNamespace().run(() => {
        tracer.setSegment(root);
        announce();
      });
      return String(root);
    };
    const saved = process.env.AWS_EXECUTION_ENV;
    process.env.AWS_EXECUTION_ENV = 'AWS_Lambda_nodejs22.x';
    try {
      // Act
      const ours = createTracer('membership-sync');
      const recordedByOurs = recordedBy(ours);
      const recordedByDefault = recordedBy(new Tracer({ serviceName: 'membership-sync' }));

      // Assess
      expect(ours.isTracingEnabled()).toBe(true);
      expect(recordedByOurs).not.toContain('hooks.example.com');
      expect(recordedByDefault).toContain(WEBHOOK_CODE);
    } finally {
      if (saved === undefined) delete process.env.AWS_EXECUTION_ENV;
      else process.env.AWS_EXECUTION_ENV = saved;
    }
  });
});

import { randomBytes } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { handleAdmin } from './admin-http.js';
import { Authenticator } from './auth.js';
import { createSimClock } from './bitrix-time.js';
import { FaultQueue } from './faults.js';
import { sendJson, sendText } from './http-answers.js';
import { LeakyBucket } from './leaky-bucket.js';
import { METHODS } from './methods/method-registry.js';
import { OAuthServer } from './oauth.js';
import { OperatingLimiter } from './operating-limit.js';
import { PortalState } from './portal-state.js';
import { BodyError, parseRequestParams, readBody } from './request-body.js';
import { parseRestPath, RestSurface } from './rest-router.js';
import { applySeed } from './seeds.js';
import { StatsCounter } from './stats.js';
import { selfSignedCertificate } from './tls.js';
import type { RunningSimulator, SimulatorOptions } from './types.js';

export { churn, createRandom } from './seeds.js';
export type * from './types.js';

const DEFAULT_RATE_LIMIT = { burst: 50, drainPerSecond: 2 };

/**
 * Starts a simulated Bitrix24 cloud portal on 127.0.0.1 (HTTPS by default) serving the REST
 * methods the sync uses, incoming webhooks, OAuth refresh and `/_admin/…`. See
 * docs/bitrix24.md for the behaviour it reproduces.
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const clock = createSimClock(options.timeScale ?? 1);
  const webhookUserId = options.webhookUserId ?? 1;
  const state = new PortalState(clock.nowMs);
  applySeed(state, options.seed ?? 'demo', webhookUserId, clock.nowMs());
  if (options.generalChatMessages === false) state.setGeneralChatMessages(false);

  const stats = new StatsCounter();
  const faults = new FaultQueue();
  const auth = new Authenticator(clock, {
    invalidCredentialsStatus: options.statuses?.invalidCredentials ?? 401,
    insufficientScopeStatus: options.statuses?.insufficientScope ?? 401,
  });
  const webhookCode = auth.addWebhook(webhookUserId);

  let competingLoad = options.competingLoad ?? 0;
  const makeBucket = (limit: Exclude<SimulatorOptions['rateLimit'], undefined>) => {
    if (limit === false) return undefined;
    const made = new LeakyBucket(limit.burst, limit.drainPerSecond, clock, () =>
      stats.competingRequest(),
    );
    made.setCompetingLoad(competingLoad);
    return made;
  };
  let bucket = makeBucket(options.rateLimit ?? DEFAULT_RATE_LIMIT);
  const snapshot = () => {
    bucket?.settle();
    return stats.snapshot();
  };
  const setCompetingLoad = (perSecond: number) => {
    bucket?.setCompetingLoad(perSecond);
    competingLoad = perSecond;
  };
  const operating = options.operatingLimit
    ? new OperatingLimiter(options.operatingLimit, clock)
    : undefined;

  const rest = new RestSurface({
    state,
    clock,
    auth,
    faults,
    stats,
    methods: METHODS,
    bucket: () => bucket,
    operating,
    recentListPageOverlap: options.recentListPageOverlap ?? 2,
  });

  // The OAuth server needs the base URL, known only once the port is bound.
  let oauth: OAuthServer | undefined;

  const onRequest = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const pathname = url.pathname;
    try {
      const body = await readBody(req);
      if (pathname.startsWith('/_admin/')) {
        let input: unknown;
        try {
          input = body.length ? JSON.parse(body.toString('utf8')) : undefined;
        } catch {
          sendJson(res, 400, { error: 'malformed JSON' });
          return;
        }
        handleAdmin(
          { state, faults, stats: snapshot, setCompetingLoad, clock },
          req,
          res,
          pathname,
          input,
        );
        return;
      }
      const params = parseRequestParams(url.search.slice(1), req.headers['content-type'], body);
      if (/^\/oauth\/token\/?$/.test(pathname) && oauth) {
        oauth.handle(params, res);
        return;
      }
      const target = parseRestPath(pathname);
      if (target) {
        await rest.handle(target, params, req, res);
        return;
      }
      sendText(res, 404, 'text/html', '<html><body><h1>404 Not Found</h1></body></html>');
    } catch (error) {
      if (res.headersSent || req.socket.destroyed) return;
      if (error instanceof BodyError) {
        sendJson(res, 400, { error: 'INVALID_REQUEST', error_description: error.message });
        return;
      }
      sendJson(res, 500, {
        error: 'INTERNAL_SERVER_ERROR',
        error_description: error instanceof Error ? error.message : String(error),
      });
    }
  };
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    void onRequest(req, res);
  };

  const tls = options.tls ?? true;
  const material = tls ? await selfSignedCertificate() : undefined;
  // With TLS on, only HTTPS is served (docs/bitrix24.md §1: the cloud refuses plain HTTP webhooks).
  const server = material
    ? createHttpsServer({ key: material.key, cert: material.cert, keepAlive: true }, listener)
    : createHttpServer({ keepAlive: true }, listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  if (!options.keepProcessAlive) server.unref();

  const port = (server.address() as AddressInfo).port;
  const baseUrl = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  oauth = new OAuthServer(auth, clock, {
    baseUrl,
    accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 3600,
    memberId: randomBytes(16).toString('hex'),
  });
  const oauthApp = oauth;

  let closed: Promise<void> | undefined;
  return {
    baseUrl,
    caCert: material?.cert,
    webhookUrl: `${baseUrl}/rest/${webhookUserId}/${webhookCode}/`,
    admin: state,
    faults,
    oauth: oauthApp,
    stats: snapshot,
    resetStats: () => stats.reset(),
    createWebhook: (userId, webhookOptions) => {
      if (!state.user(userId)) throw new Error(`unknown user ${userId}`);
      return `${baseUrl}/rest/${userId}/${auth.addWebhook(userId, webhookOptions?.scopes)}/`;
    },
    advanceClock: (ms) => clock.advance(ms),
    nowMs: () => clock.nowMs(),
    setRateLimit: (limit) => {
      bucket = makeBucket(limit);
    },
    setCompetingLoad,
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Authenticator, Caller, Credential } from './auth.js';
import { parseBatchCommands, runBatch } from './batch.js';
import { type SimClock, timeEnvelope } from './bitrix-time.js';
import { type FaultQueue, nginxErrorPage, type RequestFaults } from './faults.js';
import { sendJson, sendText } from './http-answers.js';
import type { LeakyBucket } from './leaky-bucket.js';
import { METHOD_SCOPE } from './methods/method-registry.js';
import type { MethodAnswer, MethodHandler } from './methods/method-types.js';
import type { OperatingLimiter } from './operating-limit.js';
import type { Params } from './php-params.js';
import type { PortalState } from './portal-state.js';
import { methodNotFound, operationTimeLimit, queryLimitExceeded, RestError } from './rest-error.js';
import type { StatsCounter } from './stats.js';

export interface RestSurfaceDependencies {
  readonly state: PortalState;
  readonly clock: SimClock;
  readonly auth: Authenticator;
  readonly faults: FaultQueue;
  readonly stats: StatsCounter;
  readonly methods: ReadonlyMap<string, MethodHandler>;
  readonly bucket: () => LeakyBucket | undefined;
  readonly operating: OperatingLimiter | undefined;
  readonly recentListPageOverlap: number;
}

/** A parsed `/rest/...` path: webhook form `/rest/{userId}/{code}/{method}` or `/rest/{method}`. */
export interface RestTarget {
  readonly method: string;
  readonly webhook?: { readonly userId: string; readonly code: string };
}

/**
 * docs/bitrix24.md §1: optional `.json` suffix; classic method names are lower-cased server-side.
 */
export function parseRestPath(pathname: string): RestTarget | undefined {
  const parts = pathname.split('/').filter((part) => part !== '');
  if (parts[0] !== 'rest') return undefined;
  const normalise = (raw: string | undefined) =>
    decodeURIComponent(raw ?? '')
      .replace(/\.json$/i, '')
      .toLowerCase();
  if (parts.length >= 3) {
    return {
      method: normalise(parts[3]),
      webhook: { userId: parts[1] ?? '', code: decodeURIComponent(parts[2] ?? '') },
    };
  }
  return { method: normalise(parts[1]) };
}

/** docs/bitrix24.md §1: `auth` or `access_token` parameter, else `Authorization: Bearer`. */
function credentialOf(target: RestTarget, params: Params, req: IncomingMessage): Credential {
  if (target.webhook) return { kind: 'webhook', ...target.webhook };
  const fromParams = params.auth ?? params.access_token;
  if (typeof fromParams === 'string' && fromParams !== '')
    return { kind: 'token', token: fromParams };
  const header = req.headers.authorization;
  const bearer = header ? /^Bearer\s+(\S+)/i.exec(header)?.[1] : undefined;
  if (bearer) return { kind: 'token', token: bearer };
  return { kind: 'none' };
}

const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms).unref();
  });

/**
 * The REST surface: faults, bucket, auth, operating budget, the method, the envelope
 * (docs/bitrix24.md §2).
 */
export class RestSurface {
  constructor(private readonly deps: RestSurfaceDependencies) {}

  async handle(
    target: RestTarget,
    params: Params,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const { deps } = this;
    const startMs = deps.clock.nowMs();
    const method = target.method;
    deps.stats.request(method);

    const commands = method === 'batch' ? parseBatchCommands(params.cmd) : [];
    const faults = deps.faults.take(method, new Set(commands.map((c) => c.method)));
    if (faults.delayMs > 0) await sleep(faults.delayMs);
    if (faults.expireTokens) deps.auth.expireAll();
    if (faults.terminal) {
      this.answerFault(faults.terminal, req, res);
      return;
    }

    try {
      const bucket = deps.bucket();
      if (bucket && !bucket.tryAdd()) {
        deps.stats.rateLimitedRequest();
        throw queryLimitExceeded();
      }
      const caller = deps.auth.authenticate(credentialOf(target, params, req));
      const methodParams: Params = { ...params };
      delete methodParams.auth;
      delete methodParams.access_token;

      if (method === 'batch') {
        const result = this.batch(methodParams, commands, caller, faults);
        sendJson(res, 200, {
          result: faults.malformed ? faults.malformed.result : result,
          time: timeEnvelope(startMs, deps.clock.nowMs()),
        });
        return;
      }

      const handler = deps.methods.get(method);
      if (!handler) throw methodNotFound();
      deps.auth.requireScope(caller, METHOD_SCOPE);
      const operatingKey = `${caller.principal}|${method}`;
      if (deps.operating?.isBlocked(operatingKey)) {
        deps.stats.operationLimitedRequest();
        throw operationTimeLimit();
      }
      const answer: MethodAnswer = handler({
        state: deps.state,
        callerId: caller.userId,
        params: methodParams,
        nowMs: startMs,
        shortPageDrop: faults.shortPageDrop,
        recentListPageOverlap: deps.recentListPageOverlap,
      });
      deps.operating?.charge(operatingKey);
      const body: Record<string, unknown> = {
        result: faults.malformed ? faults.malformed.result : answer.result,
      };
      if (answer.next !== undefined) body.next = answer.next;
      if (answer.total !== undefined) body.total = answer.total;
      body.time = timeEnvelope(startMs, deps.clock.nowMs(), deps.operating?.report(operatingKey));
      sendJson(res, 200, body);
    } catch (error) {
      if (!(error instanceof RestError)) throw error;
      sendJson(res, error.status, error.body());
    }
  }

  /**
   * docs/bitrix24.md §6: one request for the bucket; operating accounting in batch is not modelled
   * (unresolved).
   */
  private batch(
    params: Params,
    commands: ReturnType<typeof parseBatchCommands>,
    caller: Caller,
    faults: RequestFaults,
  ) {
    const { deps } = this;
    return runBatch({
      commands,
      halt: params.halt,
      methods: deps.methods,
      context: {
        state: deps.state,
        callerId: caller.userId,
        nowMs: deps.clock.nowMs(),
        recentListPageOverlap: deps.recentListPageOverlap,
      },
      shortPageDrop: faults.shortPageDrop,
      commandFaults: faults.commandFaults,
      countCommand: (method) => deps.stats.count(`batch:${method}`),
      authorize: () => deps.auth.requireScope(caller, METHOD_SCOPE),
      now: deps.clock.nowMs,
    });
  }

  private answerFault(
    fault: NonNullable<RequestFaults['terminal']>,
    req: IncomingMessage,
    res: ServerResponse,
  ): void {
    switch (fault.kind) {
      case 'status':
        sendJson(res, fault.status, {
          error: fault.error,
          error_description: fault.description ?? '',
        });
        return;
      case 'html': {
        const status = fault.status ?? 502;
        sendText(res, status, 'text/html', nginxErrorPage(status));
        return;
      }
      case 'empty-body':
        res.writeHead(fault.status ?? 200, {
          'content-type': 'application/json; charset=utf-8',
          'content-length': '0',
        });
        res.end();
        return;
      case 'drop-connection':
        req.socket.destroy();
        return;
      default:
        return;
    }
  }
}

import ky, { type KyInstance } from 'ky';
import type { z } from 'zod';
import type { CallResult, RequestParams } from './client-types.js';
import type { Bitrix24Credentials } from './credentials.js';
import {
  Bitrix24ConfigurationError,
  Bitrix24DeadlineError,
  Bitrix24InvalidRequestError,
  Bitrix24MalformedResponseError,
  Bitrix24TransportError,
  classifyError,
} from './errors.js';
import { sanitizeError } from './redact.js';
import { envelopeSchema, errorBodySchema } from './schemas.js';

/**
 * One HTTP request to a portal's REST API and what its answer means: the URL and `auth`
 * parameter from the credentials, the timeout, and the body read as the JSON envelope or
 * classified into the errors of `errors.ts` (descriptions redacted). No retries, no pacing: the
 * client decides what happens next.
 */
export interface TransportOptions {
  /** Default: global fetch. */
  readonly fetch?: typeof globalThis.fetch | undefined;
  /** Per request, including reading the body. */
  readonly timeoutMs: number;
  /** Redacts text that may reach an error message. */
  readonly scrub: (text: string) => string;
}

export interface TransportRequest {
  readonly method: string;
  readonly params: RequestParams;
  readonly credentials: Bitrix24Credentials;
  /** Ms left until the caller's deadline, when nearer than the timeout: cuts the request short. */
  readonly timeLeftMs: number | undefined;
  /** Last known `operating_reset_at` (epoch ms) of `method`, for a 429 that names none. */
  readonly knownResetAt: number | undefined;
}

export type Envelope = z.infer<typeof envelopeSchema>;

export interface TransportAnswer {
  readonly status: number;
  readonly envelope: Envelope;
  /** `time.operating_reset_at` in epoch ms, when the answer carried it. */
  readonly resetAt: number | undefined;
}

export interface Transport {
  /**
   * Sends one request. Throws a {@link Bitrix24Error} whose `code` and `status` describe the
   * attempt (no `status`: no answer arrived).
   */
  send(request: TransportRequest): Promise<TransportAnswer>;
}

export function createTransport(options: TransportOptions): Transport {
  const { timeoutMs, scrub } = options;
  const kyByBase = new Map<string, KyInstance>();

  function http(base: string): KyInstance {
    let instance = kyByBase.get(base);
    if (!instance) {
      // retry: 0 — the client retries by Bitrix24 error code, which ky cannot see.
      // timeout: false — ky 1.x's timeout ends at the headers; ours also covers the body.
      // redirect: 'manual' — fetch would follow a 307/308 with the body (OAuth token) and the
      // webhook path to any host, plain HTTP included; a redirect is reported instead.
      instance = ky.create({
        prefixUrl: base,
        retry: 0,
        timeout: false,
        throwHttpErrors: false,
        redirect: 'manual',
        ...(options.fetch ? { fetch: options.fetch } : {}),
      });
      kyByBase.set(base, instance);
    }
    return instance;
  }

  async function send(request: TransportRequest): Promise<TransportAnswer> {
    const { method, credentials: creds, timeLeftMs } = request;
    const limitMs = timeLeftMs === undefined ? timeoutMs : Math.min(timeoutMs, timeLeftMs);
    const base = creds.kind === 'webhook' ? creds.webhookUrl : creds.clientEndpoint;
    const json =
      creds.kind === 'webhook' ? request.params : { ...request.params, auth: creds.accessToken };
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, limitMs);
    let status: number;
    let text: string;
    let contentType: string;
    let location: string | null;
    try {
      const response = await http(base).post(method, { json, signal: controller.signal });
      status = response.status;
      contentType = response.headers.get('content-type') ?? 'none';
      location = response.headers.get('location');
      text = await response.text();
    } catch (error) {
      if (timedOut && limitMs < timeoutMs) {
        throw new Bitrix24DeadlineError({
          code: 'DEADLINE_EXCEEDED',
          method,
          description: 'the request would not end by the deadline',
        });
      }
      throw new Bitrix24TransportError({
        code: timedOut ? 'TIMEOUT' : 'NETWORK_ERROR',
        method,
        description: timedOut
          ? `no complete answer within ${timeoutMs} ms`
          : scrub(describeNetworkError(error)),
        cause: sanitizeError(error, scrub),
      });
    } finally {
      clearTimeout(timer);
    }
    if (status >= 300 && status < 400) {
      // The PHP SDK reads a 302 as "the portal's domain changed": no call here can succeed
      // until the configured URL is updated.
      throw new Bitrix24ConfigurationError({
        code: 'REDIRECT',
        method,
        status,
        description: scrub(
          `the portal redirects to ${originOf(location, base)}; update its \`url\` (and the secret) and set its \`source\` to the old URL so that event IDs and sequences continue (docs/operations.md)`,
        ),
      });
    }
    const body = parseJson(text);
    if (body === undefined) {
      throw new Bitrix24TransportError({
        code: text.trim() === '' ? 'EMPTY_BODY' : 'NON_JSON_BODY',
        method,
        status,
        description: `content-type ${scrub(contentType)}`,
      });
    }
    const errorBody = errorBodySchema.safeParse(body);
    if (errorBody.success) {
      const resetAt = resetAtOf(body) ?? request.knownResetAt;
      throw classifyError(errorBody.data.error, {
        method,
        status,
        description: scrub(errorBody.data.error_description ?? ''),
        resetAt: resetAt === undefined ? undefined : new Date(resetAt),
      });
    }
    if (status < 200 || status >= 300) {
      const failure = {
        code: `HTTP_${status}`,
        method,
        status,
        description: 'JSON body without an error code',
      };
      throw status >= 500
        ? new Bitrix24TransportError(failure)
        : new Bitrix24InvalidRequestError(failure);
    }
    const envelope = envelopeSchema.safeParse(body);
    if (!envelope.success) {
      throw new Bitrix24MalformedResponseError({
        code: 'MALFORMED_RESPONSE',
        method,
        status,
        description: `envelope: ${scrub(describeIssues(envelope.error))}`,
      });
    }
    return { status, envelope: envelope.data, resetAt: resetAtOf(body) };
  }

  return { send };
}

/**
 * The envelope's `result` validated against the method's schema, as {@link CallResult}. A
 * mismatch is the method's answer, not the request's: the attempt itself succeeded.
 */
export function callResult<T>(
  method: string,
  envelope: Envelope,
  schema: z.ZodType<T>,
  scrub: (text: string) => string,
): CallResult<T> {
  const parsed = schema.safeParse(envelope.result);
  if (!parsed.success) {
    throw new Bitrix24MalformedResponseError({
      code: 'MALFORMED_RESPONSE',
      method,
      description: `result: ${scrub(describeIssues(parsed.error))}`,
    });
  }
  return {
    result: parsed.data,
    time: envelope.time,
    ...(envelope.total === undefined ? {} : { total: envelope.total }),
    ...(envelope.next === undefined ? {} : { next: envelope.next }),
  };
}

/** A body as JSON; undefined when empty or not JSON (an HTML error page, a cut-off answer). */
export function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A fetch failure's name and message, with its cause's message; the caller redacts it. */
export function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.name}: ${error.message}${cause}`;
}

function resetAtOf(body: unknown): number | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const time = (body as { time?: unknown }).time;
  if (typeof time !== 'object' || time === null) return undefined;
  const seconds = (time as { operating_reset_at?: unknown }).operating_reset_at;
  return typeof seconds === 'number' && Number.isFinite(seconds) ? seconds * 1000 : undefined;
}

/** Only the origin of a redirect target: its path or query may carry anything. */
function originOf(location: string | null, base: string): string {
  if (location === null) return 'an unnamed location';
  try {
    return new URL(location, base).origin;
  } catch {
    return 'an invalid location';
  }
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.join('.') || '(root)'} ${issue.message}`)
    .join('; ');
}

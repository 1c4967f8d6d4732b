import { Tracer } from '@aws-lambda-powertools/tracer';
import { redact, sanitizeError } from '../bitrix24/redact.js';

/**
 * X-Ray tracing of the Lambdas (active on both functions: infra/sync-function.ts). Outside Lambda
 * (tests, `npm start`) Powertools disables the Tracer, and the helpers below do nothing.
 *
 * `captureHTTPsRequests: false`: Powertools would otherwise record every `fetch` with its URL, and
 * a webhook URL holds its secret in the path. Bitrix24 requests are traced by
 * {@link traceBitrix24Fetch} instead, under redacted names (docs/operations.md, "Traces").
 */
export function createTracer(serviceName: string): Tracer {
  return new Tracer({ serviceName, captureHTTPsRequests: false });
}

/** The part of the Tracer the helpers use (a test hands in one that records). */
export type TraceSink = Pick<Tracer, 'isTracingEnabled' | 'getSegment' | 'setSegment'>;

/**
 * Runs `run` in a new subsegment `name` of the current segment, current meanwhile: the AWS SDK
 * calls, Bitrix24 requests and annotations made inside land under it. An error is recorded
 * redacted, then rethrown.
 */
export async function inSubsegment<T>(
  tracer: TraceSink,
  name: string,
  run: () => Promise<T>,
): Promise<T> {
  const parent = tracer.isTracingEnabled() ? tracer.getSegment() : undefined;
  if (!parent) return run();
  const subsegment = parent.addNewSubsegment(name);
  tracer.setSegment(subsegment);
  try {
    return await run();
  } catch (error) {
    subsegment.addError(sanitizeError(error));
    throw error;
  } finally {
    subsegment.close();
    tracer.setSegment(parent);
  }
}

/**
 * Wraps the Bitrix24 client's transport: each request becomes a remote subsegment named by the
 * host, annotated with the REST method (`bitrix24_method`: `batch`, `im.dialog.users.list`, the
 * token endpoint's `token`), with the HTTP status. Nothing else of the request is recorded: a
 * webhook URL carries its secret in the path, OAuth calls carry tokens in the body. The
 * subsegment ends with the response headers; a failed request records its error redacted.
 */
export function traceBitrix24Fetch(
  tracer: TraceSink,
  fetch: typeof globalThis.fetch,
): typeof globalThis.fetch {
  if (!tracer.isTracingEnabled()) return fetch;
  return async (input, init) => {
    const parent = tracer.getSegment();
    if (!parent) return fetch(input, init);
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const subsegment = parent.addNewSubsegment(url.host);
    subsegment.addAttribute('namespace', 'remote');
    subsegment.addAnnotation('bitrix24_method', methodOf(url));
    try {
      const response = await fetch(input, init);
      subsegment.addAttribute('http', { response: { status: response.status } });
      if (response.status === 429) subsegment.addThrottleFlag();
      if (response.status >= 500) subsegment.addFaultFlag();
      else if (response.status >= 400) subsegment.addErrorFlag();
      return response;
    } catch (error) {
      subsegment.addError(sanitizeError(error));
      throw error;
    } finally {
      subsegment.close();
    }
  };
}

/**
 * The REST method: the last path segment, when it looks like one. The path is redacted first, so
 * a webhook's code is never taken for a method.
 */
function methodOf(url: URL): string {
  const last = redact(url.pathname).split('/').filter(Boolean).at(-1) ?? '';
  return /^[\w.]+$/.test(last) ? last : '-';
}

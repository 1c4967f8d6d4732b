import { Agent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';

/**
 * A `fetch` over `node:https` that trusts one extra CA (the simulator's self-signed cert).
 * Node 20's global fetch takes a custom CA only through an undici `dispatcher`, and `undici`
 * is not a dependency; this adapter keeps TLS to the simulator dependency-free. Local use only
 * (tests, the demo, `--ca-file`): production talks to public CAs through the global fetch.
 */
export function createHttpsFetch(ca: string): typeof globalThis.fetch {
  const agent = new Agent({ ca, keepAlive: true });
  return async (input, init) => {
    const request = new Request(input, init);
    const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
    return new Promise<Response>((resolve, reject) => {
      const outgoing = httpsRequest(
        request.url,
        {
          method: request.method,
          headers: Object.fromEntries(request.headers),
          agent,
          signal: request.signal,
        },
        (incoming) => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(incoming.headers)) {
            if (Array.isArray(value)) for (const item of value) headers.append(name, item);
            else if (value !== undefined) headers.set(name, value);
          }
          const status = incoming.statusCode ?? 500;
          const empty = status === 204 || status === 304 || request.method === 'HEAD';
          resolve(
            new Response(empty ? null : (Readable.toWeb(incoming) as ReadableStream<Uint8Array>), {
              status,
              headers,
            }),
          );
        },
      );
      outgoing.once('error', reject);
      outgoing.end(body);
    });
  };
}

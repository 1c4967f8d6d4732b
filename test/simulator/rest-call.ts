import { request as httpsRequest } from 'node:https';
import type { RunningSimulator } from '../../local/simulator/types.js';

export interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
  // biome-ignore lint/suspicious/noExplicitAny: answers are asserted field by field
  readonly body: any;
}

async function toAnswer(response: Response): Promise<Answer> {
  const text = await response.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    text,
    body,
  };
}

/** POSTs JSON to `url` (a webhook base + method, or any simulator URL). */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  return toAnswer(
    await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    }),
  );
}

export async function postForm(url: string, form: string) {
  return toAnswer(
    await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    }),
  );
}

export async function get(url: string, headers: Record<string, string> = {}) {
  return toAnswer(await fetch(url, { headers }));
}

/** Calls a REST method through the simulator's default webhook with a JSON body. */
export function call(sim: RunningSimulator, method: string, params: unknown = {}) {
  return postJson(`${sim.webhookUrl}${method}`, params);
}

/** An HTTPS request trusting only `ca` (Node's fetch cannot take a CA without undici). */
export function httpsPostJson(url: string, ca: string, body: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const text = JSON.stringify(body);
    const outgoing = httpsRequest(
      url,
      { method: 'POST', ca, headers: { 'content-type': 'application/json' } },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: incoming.statusCode ?? 0,
            contentType: String(incoming.headers['content-type'] ?? ''),
            text: raw,
            body: raw ? JSON.parse(raw) : undefined,
          });
        });
      },
    );
    outgoing.once('error', reject);
    outgoing.end(text);
  });
}

/**
 * Removes Bitrix24 secrets from text that may reach an error message, a stack or a log line.
 * Webhook URLs carry their code in the path (`/rest/<user id>/<code>/`), OAuth calls carry
 * tokens as `auth`/`access_token` values, refreshes carry `refresh_token` and `client_secret`.
 */

import type { Bitrix24Credentials } from './credentials.js';

const WEBHOOK_PATH = /(\/rest\/\d+\/)[^/?#\s"'<>]+/g;
const SECRET_KEYS = 'auth|access_token|refresh_token|client_secret';
const QUERY_VALUE = new RegExp(`(^|[?&;\\s"'])(${SECRET_KEYS})=[^&\\s"'#<>]*`, 'gi');
const JSON_VALUE = new RegExp(`("(?:${SECRET_KEYS})"\\s*:\\s*")(?:[^"\\\\]|\\\\.)*"`, 'gi');
const BEARER = /(bearer\s+)[\w.~+/=-]+/gi;

export function redact(text: string): string {
  return text
    .replace(WEBHOOK_PATH, '$1***')
    .replace(QUERY_VALUE, '$1$2=***')
    .replace(JSON_VALUE, '$1***"')
    .replace(BEARER, '$1***');
}

/**
 * A redactor that also replaces known secret values wherever they appear (e.g. a token echoed
 * back in a server's error description). Values shorter than 6 characters are ignored: replacing
 * them would mangle ordinary text without protecting anything.
 */
export function createRedactor(secrets: () => readonly string[]): (text: string) => string {
  return (text) => {
    let out = redact(text);
    for (const secret of secrets()) {
      if (secret.length >= 6) out = out.split(secret).join('***');
    }
    return out;
  };
}

/** The secret values in `creds` that a {@link createRedactor redactor} must hide. */
export function secretsOf(creds: Bitrix24Credentials): string[] {
  if (creds.kind === 'oauth') return [creds.accessToken, creds.refreshToken, creds.clientSecret];
  const code = /\/rest\/\d+\/([^/?#]+)/.exec(creds.webhookUrl)?.[1];
  return code === undefined ? [] : [code];
}

/**
 * Copies an error with its message and stack redacted, recursively through `cause` (depth-limited).
 * Never keep a ky `HTTPError`/`TimeoutError` itself as a cause: it holds the request (URL, body).
 */
export function sanitizeError(
  error: unknown,
  scrub: (text: string) => string = redact,
  depth = 0,
): Error {
  if (!(error instanceof Error)) return new Error(scrub(String(error)));
  const cause =
    depth < 4 && error.cause !== undefined
      ? sanitizeError(error.cause, scrub, depth + 1)
      : undefined;
  const copy = new Error(scrub(error.message), cause === undefined ? undefined : { cause });
  copy.name = error.name;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') Object.assign(copy, { code });
  if (error.stack === undefined) delete copy.stack;
  else copy.stack = scrub(error.stack);
  return copy;
}

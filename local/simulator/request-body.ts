import type { IncomingMessage } from 'node:http';
import { type Params, parsePhpPairs, parsePhpQuery } from './php-params.js';

/** Bodies above this are refused; the largest legitimate request is a 50-command batch. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

export class BodyError extends Error {
  override readonly name = 'BodyError';
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new BodyError('request body too large');
    chunks.push(buffer);
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
}

function multipartPairs(body: Buffer, contentType: string): Array<[string, string]> {
  const boundaryMatch = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const boundary = boundaryMatch?.[1] ?? boundaryMatch?.[2];
  if (!boundary) throw new BodyError('multipart boundary missing');
  const text = body.toString('latin1');
  const pairs: Array<[string, string]> = [];
  for (const part of text.split(`--${boundary}`)) {
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd < 0) continue;
    const headers = part.slice(0, headerEnd);
    const name = /content-disposition:[^\r\n]*\bname="([^"]*)"/i.exec(headers)?.[1];
    if (name === undefined) continue;
    let value = part.slice(headerEnd + 4);
    if (value.endsWith('\r\n')) value = value.slice(0, -2);
    pairs.push([
      Buffer.from(name, 'latin1').toString('utf8'),
      Buffer.from(value, 'latin1').toString('utf8'),
    ]);
  }
  return pairs;
}

function isPlainObject(value: unknown): value is Params {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Request parameters as PHP sees them: the query string, overridden by the body (JSON,
 * form-urlencoded or multipart/form-data), as `$_GET` then `$_POST` are merged
 * (docs/bitrix24.md §1).
 */
export function parseRequestParams(
  query: string,
  contentType: string | undefined,
  body: Buffer,
): Params {
  const params = parsePhpQuery(query);
  if (body.length === 0) return params;
  const type = (contentType ?? '').toLowerCase();
  if (type.includes('application/json')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw new BodyError('malformed JSON body');
    }
    if (isPlainObject(parsed)) return { ...params, ...parsed };
    return params;
  }
  if (type.includes('multipart/form-data')) {
    return { ...params, ...parsePhpPairs(multipartPairs(body, type)) };
  }
  // PHP reads an urlencoded body even when the client leaves out the content type.
  return { ...params, ...parsePhpQuery(body.toString('utf8')) };
}

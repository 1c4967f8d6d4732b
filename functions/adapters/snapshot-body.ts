import { IdListDecodeError } from './id-list-codec.js';

/**
 * Layout of a stored snapshot body (before compression). Without a JSON part it is exactly the
 * ID-list encoding (`id-list-codec.ts`, whose first byte is its format, 1). With one, a leading
 * {@link WITH_JSON} byte, the ID-list bytes' length as a varint, the ID-list bytes, then UTF-8
 * JSON: the user details of a pending member change, which rebuild its events exactly.
 */
const WITH_JSON = 2;

export function packBody(idLists: Uint8Array, json: unknown): Uint8Array {
  if (json === undefined) return idLists;
  const tail = Buffer.from(JSON.stringify(json), 'utf8');
  const length: number[] = [];
  for (let v = idLists.length; ; v = Math.floor(v / 0x80)) {
    if (v < 0x80) {
      length.push(v);
      break;
    }
    length.push((v % 0x80) + 0x80);
  }
  return Buffer.concat([Uint8Array.of(WITH_JSON, ...length), idLists, tail]);
}

export function unpackBody(body: Uint8Array): { idLists: Uint8Array; json: unknown } {
  if (body[0] !== WITH_JSON) return { idLists: body, json: undefined };
  let at = 1;
  let length = 0;
  for (let scale = 1; ; scale *= 0x80) {
    const byte = body[at++];
    if (byte === undefined || scale > 2 ** 35) throw new IdListDecodeError('truncated body');
    length += (byte & 0x7f) * scale;
    if (byte < 0x80) break;
  }
  if (at + length > body.length) throw new IdListDecodeError('body shorter than its ID lists');
  const idLists = body.subarray(at, at + length);
  try {
    return { idLists, json: JSON.parse(Buffer.from(body.subarray(at + length)).toString('utf8')) };
  } catch (error) {
    throw new IdListDecodeError('body JSON does not parse', { cause: error });
  }
}

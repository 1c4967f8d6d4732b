import { describe, expect, it } from 'vitest';
import { mapBatchResult, runBatch } from '../../functions/bitrix24/batch.js';
import type { BatchCommand, CallResult } from '../../functions/bitrix24/client-types.js';
import {
  Bitrix24AccessError,
  Bitrix24AuthError,
  Bitrix24InvalidRequestError,
  Bitrix24MalformedResponseError,
  Bitrix24TransportError,
} from '../../functions/bitrix24/errors.js';
import { batchResultSchema } from '../../functions/bitrix24/schemas.js';

const commands: BatchCommand[] = [
  { key: 'a', method: 'im.chat.user.list', params: { CHAT_ID: 1 } },
  { key: 'b', method: 'im.chat.user.list', params: { CHAT_ID: 2 } },
  { key: 'c', method: 'im.dialog.users.list', params: { DIALOG_ID: 'chat3' } },
];

const parse = (body: unknown) => batchResultSchema.parse(body);

describe('batch result mapping', () => {
  it('maps results, totals and nexts per key when errors arrive as an empty list', () => {
    const mapped = mapBatchResult(
      commands,
      parse({
        result: { a: [1, 2], b: [], c: [{ id: 5 }] },
        result_error: [],
        result_total: { c: 3 },
        result_next: { c: 1 },
        result_time: [],
      }),
    );
    expect(mapped.get('a')).toEqual({ ok: true, result: [1, 2] });
    expect(mapped.get('b')).toEqual({ ok: true, result: [] });
    expect(mapped.get('c')).toEqual({ ok: true, result: [{ id: 5 }], total: 3, next: 1 });
  });

  it('maps per-command errors by code when results arrive as an empty list', () => {
    const mapped = mapBatchResult(
      commands,
      parse({
        result: [],
        result_error: {
          a: { error: 'ACCESS_ERROR', error_description: 'Action unavailable' },
          b: { error: 'CHAT_ID_EMPTY', error_description: '' },
          c: { error: 'insufficient_scope', error_description: '' },
        },
        result_total: [],
        result_next: [],
      }),
    );
    const error = (key: string) => {
      const outcome = mapped.get(key);
      return outcome && !outcome.ok ? outcome.error : undefined;
    };
    expect(error('a')).toBeInstanceOf(Bitrix24AccessError);
    expect(error('a')?.method).toBe('im.chat.user.list');
    expect(error('b')).toBeInstanceOf(Bitrix24InvalidRequestError);
    expect(error('c')).toBeInstanceOf(Bitrix24AuthError);
  });

  it('reports commands skipped after a halting failure as BATCH_HALTED', () => {
    const mapped = mapBatchResult(
      commands,
      parse({ result: { a: [1] }, result_error: { b: { error: 'CHAT_ID_EMPTY' } } }),
    );
    const c = mapped.get('c');
    expect(c?.ok).toBe(false);
    expect(c?.ok === false && c.error.code).toBe('BATCH_HALTED');
  });

  it('treats a command with neither result nor error as malformed', () => {
    const mapped = mapBatchResult(commands.slice(0, 1), parse({ result: [], result_error: [] }));
    const a = mapped.get('a');
    expect(a?.ok === false && a.error).toBeInstanceOf(Bitrix24MalformedResponseError);
  });

  it('keeps a legitimate null result', () => {
    const mapped = mapBatchResult(commands.slice(0, 1), parse({ result: { a: null } }));
    expect(mapped.get('a')).toEqual({ ok: true, result: null });
  });
});

describe('batch requests', () => {
  const fakeCall = (sent: unknown[], fail?: Error) =>
    (async (_method: string, params: Readonly<Record<string, unknown>>) => {
      sent.push(params);
      if (fail) throw fail;
      const cmd = params.cmd as Record<string, string>;
      return {
        result: { result: Object.fromEntries(Object.keys(cmd).map((k) => [k, [1]])) },
        time: {},
      } as CallResult<never>;
    }) as Parameters<typeof runBatch>[0];

  it('chunks to 50 commands per request with PHP-style command strings', async () => {
    const sent: unknown[] = [];
    const many = Array.from({ length: 120 }, (_, i) => ({
      key: `k${i}`,
      method: 'im.user.list.get',
      params: { ID: [i, i + 1] },
    }));
    const results = await runBatch(fakeCall(sent), many, { halt: true });
    expect(sent).toHaveLength(3);
    expect(sent[0]).toMatchObject({ halt: 1, cmd: { k0: 'im.user.list.get?ID[]=0&ID[]=1' } });
    expect(Object.keys((sent[2] as { cmd: object }).cmd)).toHaveLength(20);
    expect(results.size).toBe(120);
  });

  it('fails every command of a request that failed as a whole', async () => {
    const failure = new Bitrix24TransportError({ code: 'HTTP_502', method: 'batch', status: 502 });
    const results = await runBatch(fakeCall([], failure), commands);
    expect([...results.values()].every((r) => !r.ok && r.error === failure)).toBe(true);
  });

  it('throws auth failures instead of failing commands', async () => {
    const failure = new Bitrix24AuthError({ code: 'NO_AUTH_FOUND', method: 'batch', status: 401 });
    await expect(runBatch(fakeCall([], failure), commands)).rejects.toBe(failure);
  });

  it('refuses duplicate keys', async () => {
    await expect(
      runBatch(fakeCall([]), [...commands.slice(0, 1), ...commands.slice(0, 1)]),
    ).rejects.toThrow(/duplicate/);
  });
});

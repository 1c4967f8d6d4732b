import type { z } from 'zod';
import type {
  BatchCommand,
  BatchCommandResult,
  BatchOptions,
  Bitrix24Client,
} from './client-types.js';
import {
  Bitrix24Error,
  Bitrix24InvalidRequestError,
  Bitrix24MalformedResponseError,
  classifyError,
  isPortalFatal,
} from './errors.js';
import { buildPhpQuery } from './php-query.js';
import { redact } from './redact.js';
import { batchResultSchema } from './schemas.js';

/**
 * `batch` carries at most 50 commands; more each get `ERROR_BATCH_LENGTH_EXCEEDED`
 * (docs/bitrix24.md §6).
 */
export const MAX_BATCH_COMMANDS = 50;

/**
 * Sends `commands` in `batch` requests of ≤50. A whole request that fails (after the client's
 * retries) fails each of its commands with that error; auth/configuration failures are thrown
 * because no other request on the portal can succeed either.
 */
export async function runBatch(
  call: Bitrix24Client['call'],
  commands: readonly BatchCommand[],
  options: BatchOptions = {},
  scrub: (text: string) => string = redact,
): Promise<Map<string, BatchCommandResult>> {
  const keys = new Set<string>();
  for (const command of commands) {
    if (keys.has(command.key)) throw new Error(`duplicate batch key ${command.key}`);
    keys.add(command.key);
  }
  const results = new Map<string, BatchCommandResult>();
  for (let start = 0; start < commands.length; start += MAX_BATCH_COMMANDS) {
    const chunk = commands.slice(start, start + MAX_BATCH_COMMANDS);
    const cmd = Object.fromEntries(
      chunk.map((command) => [command.key, `${command.method}?${buildPhpQuery(command.params)}`]),
    );
    try {
      const response = await call('batch', { halt: options.halt ? 1 : 0, cmd }, batchResultSchema);
      for (const [key, result] of mapBatchResult(chunk, response.result, scrub)) {
        results.set(key, result);
      }
    } catch (error) {
      if (isPortalFatal(error) || !(error instanceof Bitrix24Error)) throw error;
      for (const command of chunk) {
        results.set(command.key, { ok: false, error, wholeRequest: true });
      }
    }
  }
  return results;
}

/**
 * Maps one `batch` answer to per-command outcomes (docs/bitrix24.md §6): entries exist only for
 * commands that produced them; an empty map arrives as `[]` (normalised by the schema). A command
 * with neither a result nor an error was skipped by `halt=1`, or the answer is incomplete.
 */
export function mapBatchResult(
  commands: readonly BatchCommand[],
  body: z.infer<typeof batchResultSchema>,
  scrub: (text: string) => string = redact,
): Map<string, BatchCommandResult> {
  const out = new Map<string, BatchCommandResult>();
  const errors = body.result_error ?? {};
  const totals = body.result_total ?? {};
  const nexts = body.result_next ?? {};
  let halted = false;
  for (const command of commands) {
    const error = errors[command.key];
    if (error) {
      halted = true;
      out.set(command.key, {
        ok: false,
        error: classifyError(error.error, {
          method: command.method,
          // Redacted like a top-level description: it reaches read results and events.
          description: scrub(error.error_description ?? ''),
        }),
      });
      continue;
    }
    if (Object.hasOwn(body.result, command.key)) {
      const total = totals[command.key];
      const next = nexts[command.key];
      out.set(command.key, {
        ok: true,
        result: body.result[command.key],
        ...(total === undefined ? {} : { total }),
        ...(next === undefined ? {} : { next }),
      });
      continue;
    }
    out.set(command.key, {
      ok: false,
      error: halted
        ? new Bitrix24InvalidRequestError({
            code: 'BATCH_HALTED',
            method: command.method,
            description: 'not run: an earlier command failed with halt=1',
          })
        : new Bitrix24MalformedResponseError({
            code: 'MALFORMED_RESPONSE',
            method: command.method,
            description: 'batch answer has neither a result nor an error for this command',
          }),
    });
  }
  return out;
}

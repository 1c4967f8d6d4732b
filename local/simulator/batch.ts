import { timeEnvelope } from './bitrix-time.js';
import { type CommandFaults, NO_COMMAND_FAULTS } from './faults.js';
import type { MethodContext, MethodHandler } from './methods/method-types.js';
import { phpArrayJson } from './php-json.js';
import { type Params, type ParamValue, parsePhpQuery, phpTruthy } from './php-params.js';
import { methodNotFound, RestError } from './rest-error.js';

/** docs/bitrix24.md §6: at most 50 commands run; the rest each get ERROR_BATCH_LENGTH_EXCEEDED. */
export const MAX_BATCH_COMMANDS = 50;

export interface BatchCommand {
  readonly key: string;
  /** Lower-case method name. */
  readonly method: string;
  readonly params: Params;
}

/** The `cmd` parameter as ordered commands: a map or a list (keys 0..n-1), docs/bitrix24.md §6. */
export function parseBatchCommands(cmd: ParamValue | undefined): BatchCommand[] {
  if (cmd === undefined || cmd === null || typeof cmd !== 'object') return [];
  const entries: Array<[string, ParamValue]> = Array.isArray(cmd)
    ? cmd.map((value, index) => [String(index), value])
    : Object.entries(cmd);
  return entries.map(([key, value]) => {
    const text = typeof value === 'string' ? value : '';
    const question = text.indexOf('?');
    const method = (question < 0 ? text : text.slice(0, question)).trim().toLowerCase();
    const query = question < 0 ? '' : text.slice(question + 1);
    const params = parsePhpQuery(query);
    delete params.auth;
    return { key, method, params };
  });
}

export interface BatchRun {
  readonly commands: readonly BatchCommand[];
  readonly halt: ParamValue | undefined;
  readonly methods: ReadonlyMap<string, MethodHandler>;
  /** The context each command runs in, minus its own parameters and faults. */
  readonly context: Omit<MethodContext, 'params' | 'shortPageDrop'>;
  /** Short-page drop that applies to every command (a request-level fault). */
  readonly shortPageDrop: number;
  readonly commandFaults: ReadonlyMap<string, CommandFaults>;
  readonly countCommand: (method: string) => void;
  /** Throws a RestError when the caller may not run this method (e.g. a missing scope). */
  readonly authorize: (method: string) => void;
  readonly now: () => number;
}

const notAllowed = () =>
  new RestError(405, 'ERROR_BATCH_METHOD_NOT_ALLOWED', 'Method is not allowed for batch usage');
const tooLong = () =>
  new RestError(400, 'ERROR_BATCH_LENGTH_EXCEEDED', 'Max batch length exceeded');

/**
 * Runs a batch (docs/bitrix24.md §6): HTTP 200 always; per-command results, errors, totals, nexts
 * and times in maps that exist only for commands that produced them; each empty map serialises as
 * `[]`. `halt` stops after the first failing command. Nested `batch` is refused per command.
 */
export function runBatch(run: BatchRun): Record<string, unknown> {
  const result = new Map<string, unknown>();
  const errors = new Map<string, unknown>();
  const totals = new Map<string, number>();
  const nexts = new Map<string, number>();
  const times = new Map<string, unknown>();
  const halt = phpTruthy(run.halt);

  for (let index = 0; index < run.commands.length; index++) {
    const command = run.commands[index] as BatchCommand;
    const startMs = run.now();
    try {
      if (index >= MAX_BATCH_COMMANDS) throw tooLong();
      run.countCommand(command.method);
      if (command.method === 'batch') throw notAllowed();
      const handler = run.methods.get(command.method);
      if (!handler) throw methodNotFound();
      run.authorize(command.method);
      const faults = run.commandFaults.get(command.method) ?? NO_COMMAND_FAULTS;
      if (faults.status) {
        const { status, error, description } = faults.status;
        throw new RestError(status, error, description ?? '');
      }
      const answer = handler({
        ...run.context,
        params: command.params,
        shortPageDrop: run.shortPageDrop + faults.shortPageDrop,
      });
      result.set(command.key, faults.malformed ? faults.malformed.result : answer.result);
      if (answer.total !== undefined) totals.set(command.key, answer.total);
      if (answer.next !== undefined) nexts.set(command.key, answer.next);
      times.set(command.key, timeEnvelope(startMs, run.now()));
    } catch (error) {
      if (!(error instanceof RestError)) throw error;
      errors.set(command.key, error.body());
      if (halt) break;
    }
  }

  return {
    result: phpArrayJson(result),
    result_error: phpArrayJson(errors),
    result_total: phpArrayJson(totals),
    result_next: phpArrayJson(nexts),
    result_time: phpArrayJson(times),
  };
}

import type { Fault, FaultInjector } from './types.js';

type FaultKind = Fault['kind'];
export type StatusFault = Extract<Fault, { kind: 'status' }>;

/** Faults that answer the request themselves; at most one applies per request. */
const TERMINAL: ReadonlySet<FaultKind> = new Set([
  'status',
  'html',
  'empty-body',
  'drop-connection',
]);
/** Faults that may reach into a batch's commands (see `Fault`). */
const COMMAND_LEVEL: ReadonlySet<FaultKind> = new Set(['status', 'short-page', 'malformed-result']);

interface PendingFault {
  readonly fault: Fault;
  remaining: number;
}

/** The faults one HTTP request picked up. */
export interface RequestFaults {
  readonly terminal?: Fault;
  readonly delayMs: number;
  readonly expireTokens: boolean;
  readonly shortPageDrop: number;
  readonly malformed?: { readonly result: unknown };
  /** Batch-command faults by inner method (lower-case). */
  readonly commandFaults: ReadonlyMap<string, CommandFaults>;
}

export interface CommandFaults {
  readonly status?: StatusFault;
  readonly shortPageDrop: number;
  readonly malformed?: { readonly result: unknown };
}

export const NO_COMMAND_FAULTS: CommandFaults = { shortPageDrop: 0 };

/**
 * Pending faults in injection order. Each request takes every matching fault except that only
 * the first terminal one (status, html, empty body, dropped connection) applies; a taken fault
 * loses one of its `times`.
 */
export class FaultQueue implements FaultInjector {
  private pendingFaults: PendingFault[] = [];

  inject(fault: Fault): void {
    const times = fault.times ?? 1;
    if (!(times >= 1)) return;
    this.pendingFaults.push({
      fault: fault.method ? { ...fault, method: fault.method.toLowerCase() } : fault,
      remaining: times,
    });
  }

  clear(): void {
    this.pendingFaults = [];
  }

  pending(): number {
    return this.pendingFaults.length;
  }

  /**
   * Takes the faults for a request to `method`; `innerMethods` are a batch's command methods.
   */
  take(method: string, innerMethods: ReadonlySet<string> = new Set()): RequestFaults {
    let terminal: Fault | undefined;
    let delayMs = 0;
    let expireTokens = false;
    let shortPageDrop = 0;
    let malformed: { result: unknown } | undefined;
    const commandFaults = new Map<string, CommandFaults>();

    for (const pending of this.pendingFaults) {
      const { fault } = pending;
      const requestLevel = fault.method === undefined || fault.method === method;
      const commandLevel =
        !requestLevel &&
        fault.method !== undefined &&
        innerMethods.has(fault.method) &&
        COMMAND_LEVEL.has(fault.kind);
      if (!requestLevel && !commandLevel) continue;

      if (commandLevel && fault.method !== undefined) {
        const current = commandFaults.get(fault.method) ?? NO_COMMAND_FAULTS;
        if (fault.kind === 'status' && !current.status) {
          commandFaults.set(fault.method, { ...current, status: fault });
        } else if (fault.kind === 'short-page') {
          commandFaults.set(fault.method, {
            ...current,
            shortPageDrop: current.shortPageDrop + fault.drop,
          });
        } else if (fault.kind === 'malformed-result' && !current.malformed) {
          commandFaults.set(fault.method, { ...current, malformed: { result: fault.result } });
        } else {
          continue;
        }
        pending.remaining--;
        continue;
      }

      if (TERMINAL.has(fault.kind)) {
        if (terminal) continue;
        terminal = fault;
      } else if (fault.kind === 'slow') {
        delayMs += fault.delayMs;
      } else if (fault.kind === 'expire-tokens') {
        expireTokens = true;
      } else if (fault.kind === 'short-page') {
        shortPageDrop += fault.drop;
      } else if (fault.kind === 'malformed-result') {
        if (malformed) continue;
        malformed = { result: fault.result };
      }
      pending.remaining--;
    }
    this.pendingFaults = this.pendingFaults.filter((p) => p.remaining > 0);
    return { terminal, delayMs, expireTokens, shortPageDrop, malformed, commandFaults };
  }
}

/** What nginx in front of a portal answers when the PHP backend is gone. */
export function nginxErrorPage(status: number): string {
  const reason: Record<number, string> = {
    500: 'Internal Server Error',
    502: 'Bad Gateway',
    503: 'Service Temporarily Unavailable',
    504: 'Gateway Time-out',
  };
  const title = `${status} ${reason[status] ?? 'Error'}`;
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
}

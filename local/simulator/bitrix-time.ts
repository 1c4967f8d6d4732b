/**
 * Time as the simulated portal reports it. Wall-clock instants on the wire are real (a client
 * waiting for `operating_reset_at` or `expires` uses its own clock); only durations such as
 * token lifetimes, bucket drain and operating windows shrink by `timeScale`.
 */

/** The portal's time zone offset: ATOM dates carry it, so clients must not assume UTC. */
export const PORTAL_UTC_OFFSET_MINUTES = 180;

export interface SimClock {
  /** Wall-clock milliseconds, plus whatever `advance` added. */
  nowMs(): number;
  /** Moves the portal's clock forward (tests and the benchmark let hours pass in no time). */
  advance(ms: number): void;
  /** Real milliseconds that `simulatedSeconds` of portal time take. */
  realMs(simulatedSeconds: number): number;
  readonly timeScale: number;
}

export function createSimClock(timeScale = 1): SimClock {
  if (!(timeScale > 0)) throw new Error(`timeScale must be positive, got ${timeScale}`);
  let offsetMs = 0;
  return {
    nowMs: () => Date.now() + offsetMs,
    advance: (ms) => {
      if (!(ms >= 0)) throw new Error(`the clock only moves forward, got ${ms} ms`);
      offsetMs += ms;
    },
    realMs: (simulatedSeconds) => (simulatedSeconds * 1000) / timeScale,
    timeScale,
  };
}

const pad = (n: number) => String(n).padStart(2, '0');

/** PHP `DATE_ATOM` (`2026-03-02T17:46:05+03:00`) in the portal's offset. */
export function formatAtom(ms: number, offsetMinutes = PORTAL_UTC_OFFSET_MINUTES): string {
  const local = new Date(ms + offsetMinutes * 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return (
    `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}` +
    `T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}

/** Parses an ATOM / ISO-8601 date; undefined when it is not one. */
export function parseAtom(value: unknown): number | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

export interface OperatingInfo {
  readonly operating: number;
  readonly operatingResetAt?: number;
}

/**
 * The `time` object of every answer (docs/bitrix24.md §2): `start, finish, duration, processing,
 * date_start, date_finish`, plus `operating` (and `operating_reset_at` when a reset time exists)
 * only while the load limiter is active.
 */
export function timeEnvelope(
  startMs: number,
  finishMs: number,
  operating?: OperatingInfo,
): Record<string, number | string> {
  const duration = (finishMs - startMs) / 1000;
  const time: Record<string, number | string> = {
    start: startMs / 1000,
    finish: finishMs / 1000,
    duration,
    processing: duration,
    date_start: formatAtom(startMs),
    date_finish: formatAtom(finishMs),
  };
  if (operating) {
    if (operating.operatingResetAt !== undefined) {
      time.operating_reset_at = operating.operatingResetAt;
    }
    time.operating = operating.operating;
  }
  return time;
}

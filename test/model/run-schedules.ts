import { type ModelEnvironment, runSchedule, type ScheduleResult } from './crash-schedule.js';

export type { ModelEnvironment };

export interface ScheduleSummary {
  readonly schedules: number;
  readonly failures: readonly ScheduleResult[];
  /** Faults injected per `<boundary>` (all kinds). */
  readonly boundaries: ReadonlyMap<string, number>;
  /** Faults injected per `<boundary>:<kind>`. */
  readonly faults: ReadonlyMap<string, number>;
  readonly syncs: number;
  readonly events: number;
  /** One line per failing schedule (seed first), then the totals. */
  readonly report: string;
}

/** Schedules `first … first + count - 1`, `concurrency` at a time (each has its own portal). */
export async function runSchedules(
  env: ModelEnvironment,
  options: {
    first: number;
    count: number;
    concurrency: number;
    /** After each schedule: how many ran, and how many diverged so far. */
    onProgress?: (done: number, divergent: number) => void;
  },
): Promise<ScheduleSummary> {
  const results: ScheduleResult[] = [];
  let divergent = 0;
  let next = options.first;
  const end = options.first + options.count;
  const worker = async () => {
    for (let seed = next++; seed < end; seed = next++) {
      const result = await runSchedule(seed, env);
      results.push(result);
      if (result.divergences.length > 0) divergent += 1;
      options.onProgress?.(results.length, divergent);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));

  const failures = results.filter((r) => r.divergences.length > 0).sort((a, b) => a.seed - b.seed);
  const boundaries = new Map<string, number>();
  const faults = new Map<string, number>();
  for (const r of results) {
    for (const f of r.faults) {
      faults.set(f, (faults.get(f) ?? 0) + 1);
      const boundary = f.slice(0, f.lastIndexOf(':'));
      boundaries.set(boundary, (boundaries.get(boundary) ?? 0) + 1);
    }
  }
  const calls = new Map<string, number>();
  for (const r of results) for (const [k, v] of r.calls) calls.set(k, (calls.get(k) ?? 0) + v);
  const syncs = results.reduce((n, r) => n + r.syncs, 0);
  const events = results.reduce((n, r) => n + r.events, 0);
  const lines = failures.map(
    (f) => `seed ${f.seed} (faults ${f.faults.join(', ') || 'none'}): ${f.divergences.join('; ')}`,
  );
  lines.push(
    `schedules: ${results.length}, divergences: ${failures.length}, syncs: ${syncs}, events: ${events}`,
    `calls by boundary: ${tally(calls)}`,
    `faults by boundary: ${tally(faults)}`,
  );
  return {
    schedules: results.length,
    failures,
    boundaries,
    faults,
    syncs,
    events,
    report: lines.join('\n'),
  };
}

function tally(counts: ReadonlyMap<string, number>): string {
  return [...counts]
    .sort()
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

/**
 * `npm run soak -- --schedules 20000 [--first-seed N] [--concurrency N]`: runs the crash-schedule
 * model test (test/model) with as many schedules as asked; prints `schedules: N, divergences: D`
 * every 1,000 schedules and at the end.
 * A failing schedule is printed with its seed; replay it with
 * `MODEL_FIRST_SEED=<seed> MODEL_SCHEDULES=1 MODEL_DEBUG=1 npx vitest run test/model`.
 */
import { spawnSync } from 'node:child_process';
import { Command, InvalidArgumentError } from 'commander';

const positive = (value: string): number => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('a positive integer');
  return n;
};

const options = new Command('soak')
  .option('--schedules <n>', 'schedules to run', positive, 2_000)
  .option('--first-seed <n>', 'seed of the first schedule', positive, 1)
  .option('--concurrency <n>', 'schedules run side by side', positive, 6)
  .parse()
  .opts<{ schedules: number; firstSeed: number; concurrency: number }>();

const run = spawnSync('npx', ['vitest', 'run', 'test/model'], {
  stdio: 'inherit',
  env: {
    ...process.env,
    MODEL_SCHEDULES: String(options.schedules),
    MODEL_FIRST_SEED: String(options.firstSeed),
    MODEL_CONCURRENCY: String(options.concurrency),
  },
});
process.exit(run.status ?? 1);

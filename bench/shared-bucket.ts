process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

import { Command, InvalidArgumentError } from 'commander';
import {
  createBenchWorker,
  type Endpoints,
  emulatorPortal,
  PORTAL_ID,
  PORTAL_RATE,
  round,
  startEmulators,
} from './harness.js';
import {
  type BucketLimit,
  besideCompetitor,
  idealMs,
  MAX_RATE_LIMITED_SHARE,
  passed,
  prepare,
  rateLimitedShare,
  type ScenarioRun,
  twoSyncs,
} from './shared-bucket-scenarios.js';

const number = (name: string, min: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new InvalidArgumentError(`${name} must be ≥ ${min}`);
  return n;
};

const program = new Command()
  .name('shared-bucket')
  .description(
    "runs our sync beside another integration's load and beside a second sync, N times each",
  )
  .option('--runs <n>', 'runs of each scenario', number('--runs', 1), 20)
  .option('--chats <n>', 'chats synced beside the competitor', number('--chats', 1), 3_000)
  .option('--two-chats <n>', 'chats each of the two syncs reads', number('--two-chats', 1), 2_000)
  .option('--members <n>', 'members per chat', number('--members', 1), 10)
  .option(
    '--competitor <n>',
    "the other integration's requests per second",
    number('--competitor', 0),
    1,
  )
  .option('--time-scale <n>', 'portal seconds per real second', number('--time-scale', 0.001), 1)
  .option('--json', 'one JSON object on stdout', false);

interface Options {
  runs: number;
  chats: number;
  twoChats: number;
  members: number;
  competitor: number;
  timeScale: number;
  json: boolean;
}

async function main(): Promise<void> {
  const opts = program.parse().opts<Options>();
  const say = (m: string) => process.stderr.write(`${opts.json ? '# ' : ''}${m}\n`);
  const chatCount = Math.max(opts.chats, opts.twoChats);
  say(
    `portal: ${chatCount} chats × ${opts.members} members, bucket ${PORTAL_RATE.burst} / ${PORTAL_RATE.drainPerSecond} per s, time ×${opts.timeScale}`,
  );
  const emulators = await startEmulators({
    chats: chatCount,
    members: opts.members,
    large: [],
    seed: 1,
    timeScale: opts.timeScale,
  });
  try {
    const endpoints: Endpoints = emulators.ready;
    const chatIds = emulators.ready.chats.map((c) => c.id).sort((a, b) => a - b);
    const portal = emulatorPortal(emulators);
    const newJob = (limit: BucketLimit) =>
      createBenchWorker(endpoints, chatIds, 'shared-bucket', limit);
    await prepare(portal, newJob, PORTAL_ID, chatIds);
    // The client models the bucket in real time: at ×k the portal drains k times faster.
    const limit = { ...PORTAL_RATE, drainPerSecond: PORTAL_RATE.drainPerSecond * opts.timeScale };
    const common = { portal, newJob, portalId: PORTAL_ID, limit, portalLimit: PORTAL_RATE };

    const competitorRuns: ScenarioRun[] = [];
    const twoRuns: ScenarioRun[] = [];
    for (let i = 1; i <= opts.runs; i += 1) {
      const beside = await besideCompetitor({
        ...common,
        chatIds: chatIds.slice(0, opts.chats),
        competitor: opts.competitor,
      });
      competitorRuns.push(beside);
      say(`run ${i} competitor: ${describe(beside)}`);
      const two = await twoSyncs({ ...common, chatIds: chatIds.slice(0, opts.twoChats) });
      twoRuns.push(two);
      say(`run ${i} two syncs:  ${describe(two)}`);
    }

    const output = {
      config: { ...opts, bucket: PORTAL_RATE, maxRateLimitedShare: MAX_RATE_LIMITED_SHARE },
      competitor: summary(competitorRuns, (run) =>
        idealMs(run.syncs, limit, opts.competitor * opts.timeScale),
      ),
      twoSyncs: summary(twoRuns, (run) => idealMs(run.syncs, limit)),
    };
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
    } else {
      for (const [name, s] of [
        [`beside ${opts.competitor} request/s, ${opts.chats} chats`, output.competitor],
        [`two syncs of ${opts.twoChats} chats at once`, output.twoSyncs],
      ] as const) {
        process.stdout.write(
          `${name}: ${s.passed}/${s.runs} passed (every chat synced, ≤ ${MAX_RATE_LIMITED_SHARE * 100} % 503 per sync); ` +
            `503 share per sync max ${s.maxRateLimitedPercent} %, overall ${s.rateLimitedPercent} % (${s.rateLimited} of ${s.requests}); ` +
            `unsynced chats ${s.unsynced}; wall / ideal median ${s.medianIdealRatio}, max ${s.maxIdealRatio}\n`,
        );
      }
    }
    if (output.competitor.passed < opts.runs || output.twoSyncs.passed < opts.runs) {
      process.exitCode = 1;
    }
  } finally {
    await emulators.close();
  }
}

function describe(run: ScenarioRun): string {
  const syncs = run.syncs
    .map(
      (s) =>
        `${s.requests} requests, ${s.rateLimited} × 503 (${round(rateLimitedShare(s) * 100)} %), ${s.unsynced} unsynced, ${s.wallMs} ms`,
    )
    .join(' | ');
  return `${passed(run) ? 'PASS' : 'FAIL'} ${syncs}; competitor sent ${run.competingRequests}`;
}

function summary(runs: readonly ScenarioRun[], ideal: (run: ScenarioRun) => number) {
  const syncs = runs.flatMap((r) => r.syncs);
  const requests = syncs.reduce((n, s) => n + s.requests, 0);
  const rateLimited = syncs.reduce((n, s) => n + s.rateLimited, 0);
  const ratios = runs
    .filter((r) => ideal(r) > 0)
    .map((r) => r.wallMs / ideal(r))
    .sort((a, b) => a - b);
  return {
    runs: runs.length,
    passed: runs.filter(passed).length,
    requests,
    rateLimited,
    rateLimitedPercent: round((rateLimited / Math.max(1, requests)) * 100, 2),
    maxRateLimitedPercent: round(Math.max(0, ...syncs.map(rateLimitedShare)) * 100, 2),
    unsynced: syncs.reduce((n, s) => n + s.unsynced, 0),
    medianIdealRatio: round(ratios[Math.floor(ratios.length / 2)] ?? 0, 2),
    maxIdealRatio: round(ratios.at(-1) ?? 0, 2),
    perRun: runs,
  };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

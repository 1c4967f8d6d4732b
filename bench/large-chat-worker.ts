/**
 * One worker invocation in a process of its own: a single work item holding the large chat, run
 * through `createWorkerApp` against the benchmark's emulators. Prints one JSON line with this
 * process's RSS high-water mark (`process.resourceUsage().maxRSS`), so the number is what a
 * Lambda holding that chat would need (plus the Lambda runtime, minus tsx).
 *
 * argv[2]: JSON `{ endpoints, chatId, tableName, mode: 'run' | 'idle' }`; `idle` only loads the
 * modules and reports, to show the floor tsx + the SDK clients cost.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

import { createBenchWorker, type Endpoints, PORTAL_ID } from './harness.js';

export interface LargeWorkerArgs {
  readonly endpoints: Endpoints;
  readonly chatId: number;
  readonly tableName: string;
  readonly mode: 'run' | 'idle';
}

export interface LargeWorkerResult {
  readonly mode: 'run' | 'idle';
  readonly maxRssMb: number;
  readonly cpuMs: number;
  readonly wallMs: number;
  readonly outcome?: string;
  readonly membersRead?: number | null;
  readonly joined?: number;
  readonly left?: number;
  readonly events?: number;
  readonly bitrix24Requests?: number;
  readonly dynamoReads?: number;
  readonly dynamoWrites?: number;
  readonly snsCalls?: number;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as LargeWorkerArgs;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const worker = await createBenchWorker(args.endpoints, [args.chatId], args.tableName);
  let result: LargeWorkerResult;
  if (args.mode === 'idle') {
    result = { mode: 'idle', maxRssMb: 0, cpuMs: 0, wallMs: 0 };
  } else {
    const report = await worker.sync({
      portalId: PORTAL_ID,
      chatIds: [args.chatId],
      scheduledAt: new Date().toISOString(),
    });
    const chat = report.chats[0];
    result = {
      mode: 'run',
      maxRssMb: 0,
      cpuMs: 0,
      wallMs: 0,
      outcome: chat?.outcome ?? 'none',
      membersRead: chat?.membersRead ?? null,
      joined: chat?.joined ?? 0,
      left: chat?.left ?? 0,
      events: report.totals.events,
      bitrix24Requests: report.bitrix24Requests,
      dynamoReads: worker.store.stats().readCalls,
      dynamoWrites: worker.store.stats().writeCalls,
      snsCalls: worker.publisher.stats().publishBatchCalls,
    };
  }
  const used = process.cpuUsage(cpu);
  worker.close();
  process.stdout.write(
    `${JSON.stringify({
      ...result,
      maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      cpuMs: Math.round((used.user + used.system) / 1000),
      wallMs: Math.round(performance.now() - started),
    })}\n`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { type AppLogger, silentLogger } from '../../functions/app/observability.js';
import { portalSource } from '../../functions/config/config-schema.js';
import { sourceOf } from '../../functions/core/cloud-event.js';
import {
  ChangePendingError,
  NothingHeldError,
  SnapshotConflictError,
} from '../../functions/core/errors.js';
import type { StoredHints } from '../../functions/core/hint-store.js';
import type { Snapshot } from '../../functions/core/model.js';
import { recallOf } from '../../functions/core/read-outcomes.js';
import { releaseHeldChange } from '../../functions/core/release-held-change.js';
import { type EventsTarget, openLocalEnvironment } from '../runtime/local-environment.js';
import { createLocalRunner, type LocalRunResult, type RunOptions } from '../runtime/local-run.js';
import { startSimulator } from '../simulator/start-simulator.js';
import { checkPortalCredentials, describeCredentials } from './portal-credentials.js';
import { createProgress } from './progress.js';
import {
  parseWebhookUrl,
  portalIdOf,
  type RunConfigFlags,
  readConfigFile,
  resolveRunConfig,
  UsageError,
} from './resolve-run-config.js';
import { ANSI, PLAIN, statusTable } from './status-table.js';

export interface StateFlags {
  readonly stateDir: string;
  readonly dynamodbEndpoint?: string;
  readonly table?: string;
}

export interface SyncFlags extends RunConfigFlags, StateFlags {
  readonly events?: string;
  readonly snsTopicArn?: string;
  readonly snsEndpoint?: string;
  readonly caFile?: string;
  readonly verbose?: boolean;
  /** `--full`: read every chat in this run (`watch`: its first run). */
  readonly full?: boolean;
}

function eventsTarget(flags: SyncFlags): EventsTarget {
  if (flags.events && flags.snsTopicArn)
    throw new UsageError('use either --events or --sns-topic-arn');
  if (flags.snsTopicArn) {
    return {
      kind: 'sns',
      topicArn: flags.snsTopicArn,
      ...(flags.snsEndpoint ? { endpoint: flags.snsEndpoint } : {}),
    };
  }
  if (flags.events && flags.events !== '-') return { kind: 'file', path: flags.events };
  return { kind: 'stdout' };
}

async function withRunner<T>(
  flags: SyncFlags,
  body: (runOnce: (options?: RunOptions) => Promise<LocalRunResult>) => Promise<T>,
  tickMs?: number,
): Promise<T> {
  const run = await resolveRunConfig(flags);
  const environment = await openLocalEnvironment({
    stateDir: flags.stateDir,
    ...(flags.dynamodbEndpoint ? { dynamodbEndpoint: flags.dynamodbEndpoint } : {}),
    ...(flags.table ? { table: flags.table } : {}),
    events: eventsTarget(flags),
    ...(flags.caFile ? { caFile: flags.caFile } : {}),
  });
  try {
    // Logs go to stderr only when asked for: stdout carries the events.
    const runner = createLocalRunner(
      run,
      environment,
      flags.verbose ? stderrLogger() : silentLogger,
      tickMs,
    );
    return await body((options) => runner.runOnce(createProgress(), options));
  } finally {
    await environment.close();
  }
}

/** Plain lines on stderr (stdout carries the events). The client never logs secrets. */
function stderrLogger(): AppLogger {
  const at = (level: string) => (message: string, extra?: Record<string, unknown>) =>
    process.stderr.write(`${level} ${message}${extra ? ` ${JSON.stringify(extra)}` : ''}\n`);
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/**
 * One line per chat that did not sync, and one per portal that answered 503 QUERY_LIMIT_EXCEEDED;
 * the exit code says whether every chat synced.
 */
function reportProblems(result: LocalRunResult): number {
  for (const p of result.problems) {
    process.stderr.write(
      `${p.portalId} ${p.chatId === undefined ? '' : `chat ${p.chatId} `}${p.outcome}: ${p.reason}\n`,
    );
  }
  for (const [portalId, count] of result.rateLimited) {
    if (count === 0) continue;
    process.stderr.write(
      `${portalId}: ${count} Bitrix24 requests answered 503 QUERY_LIMIT_EXCEEDED and were retried (the portal's rate limit is shared: docs/bitrix24-rate-limits.md)\n`,
    );
  }
  return result.problems.length === 0 ? 0 : 1;
}

/**
 * Per hinted portal, `main: hinted, 3 of 120 chats read (2 hint, 1 reconcile)` or
 * `main: full read (no_state), 120 of 120 chats read (120 new)`.
 */
export function describeReads(result: LocalRunResult): string[] {
  return result.plan.portals.flatMap((portal) => {
    if (portal.error !== undefined || !portal.hinted) return [];
    const reasons = Object.entries(portal.hinted.byReason)
      .map(([reason, n]) => `${n} ${reason}`)
      .join(', ');
    const why = portal.hinted.fullCause ? `full read (${portal.hinted.fullCause})` : 'hinted';
    return [
      `${portal.portalId}: ${why}, ${portal.reads} of ${portal.chats} chats read${reasons ? ` (${reasons})` : ''}`,
    ];
  });
}

export async function syncCommand(flags: SyncFlags): Promise<number> {
  return withRunner(flags, async (runOnce) => {
    const result = await runOnce({ full: flags.full === true });
    if (flags.verbose) for (const line of describeReads(result)) process.stderr.write(`${line}\n`);
    return reportProblems(result);
  });
}

export async function watchCommand(flags: SyncFlags & { every: number }): Promise<number> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await withRunner(
      flags,
      async (runOnce) => {
        let exitCode = 0;
        for (let run = 0; !stop.signal.aborted; run++) {
          const started = Date.now();
          const result = await runOnce({ full: run === 0 && flags.full === true });
          exitCode = reportProblems(result);
          const reads = describeReads(result);
          process.stderr.write(
            `${new Date().toISOString()} run: ${result.chats} chats, ${result.events} events, ${result.bitrix24Requests} Bitrix24 requests (${sum(result.rateLimited.values())} rate-limited), ${Date.now() - started} ms${reads.length ? `; ${reads.join('; ')}` : ''}\n`,
          );
          await delay(flags.every * 1000, undefined, { signal: stop.signal }).catch(
            () => undefined,
          );
        }
        return exitCode;
      },
      flags.every * 1000,
    );
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export async function withStore<T>(
  flags: StateFlags,
  body: (env: Awaited<ReturnType<typeof openLocalEnvironment>>) => Promise<T>,
): Promise<T> {
  const environment = await openLocalEnvironment({
    stateDir: flags.stateDir,
    ...(flags.dynamodbEndpoint ? { dynamodbEndpoint: flags.dynamodbEndpoint } : {}),
    ...(flags.table ? { table: flags.table } : {}),
  });
  try {
    return await body(environment);
  } finally {
    await environment.close();
  }
}

/**
 * Which portals `status`/`release`/`export` look at; needs no credentials. The CloudEvents
 * `source` is known unless the portal is named by `--portal` alone.
 */
export async function portalsOf(
  flags: RunConfigFlags & { portal?: string },
): Promise<{ portalId: string; source?: string }[]> {
  if (flags.portal) return [{ portalId: flags.portal }];
  if (flags.webhook) {
    const url = parseWebhookUrl(flags.webhook, '--webhook');
    return [{ portalId: portalIdOf(url), source: sourceOf(url.href) }];
  }
  if (flags.config) {
    return (await readConfigFile(flags.config)).portals.map((p) => ({
      portalId: p.id,
      source: sourceOf(portalSource(p)),
    }));
  }
  throw new UsageError('name the portal: --portal ID, --config FILE or --webhook URL');
}

async function portalIdsOf(flags: RunConfigFlags & { portal?: string }): Promise<string[]> {
  return (await portalsOf(flags)).map((p) => p.portalId);
}

export interface StatusFlags extends StateFlags, RunConfigFlags {
  readonly portal?: string;
  readonly json?: boolean;
  /** Also read each configured portal's secret and say whether it awaits credentials. */
  readonly secrets?: boolean;
  readonly secretsManagerEndpoint?: string;
}

export async function statusCommand(flags: StatusFlags): Promise<number> {
  if (flags.secrets) {
    if (!flags.config) throw new UsageError('--secrets needs --config FILE (it names the secrets)');
    const config = await readConfigFile(flags.config);
    const states = await checkPortalCredentials(config, flags.secretsManagerEndpoint);
    const paint = process.stdout.isTTY ? ANSI : PLAIN;
    for (const state of states) {
      const line = describeCredentials(state);
      const shown = line.includes('unreadable')
        ? paint.alert(line)
        : line.includes('awaiting')
          ? paint.warn(line)
          : line;
      process.stdout.write(`${flags.json ? JSON.stringify(state) : shown}\n`);
    }
  }
  const portalIds = await portalIdsOf(flags);
  const { snapshots, hints } = await withStore(flags, async ({ store, hintStore }) => {
    const all: Snapshot[] = [];
    for (const portalId of portalIds) for await (const s of store.list(portalId)) all.push(s);
    const loaded = await Promise.all(portalIds.map((id) => hintStore.load(id)));
    return { snapshots: all, hints: portalIds.map((id, i) => [id, loaded[i]] as const) };
  });
  if (flags.json) {
    for (const s of snapshots) {
      const { members, ...rest } = s;
      process.stdout.write(`${JSON.stringify({ ...rest, memberCount: members.length })}\n`);
    }
    return 0;
  }
  if (snapshots.length === 0) {
    process.stdout.write('no snapshots yet: the first sync (or schedule tick) writes them\n');
    return 0;
  }
  snapshots.sort((a, b) => a.portalId.localeCompare(b.portalId) || a.chatId - b.chatId);
  const paint = process.stdout.isTTY ? ANSI : PLAIN;
  process.stdout.write(`${statusTable(snapshots, new Date(), paint)}\n`);
  for (const [portalId, stored] of hints) {
    if (!stored) continue;
    const line = describeHints(portalId, stored);
    if (line) process.stdout.write(`${line}\n`);
  }
  return 0;
}

/**
 * `portal main: hinted reads, 120 chats, watermark 2026-03-03T14:00:00.000Z, 2 chats with
 * unfinished business, hint recall 0.980 (49 of 50 changes named by the hints; 1 found by
 * reconcile reads)`.
 */
function describeHints(portalId: string, stored: StoredHints): string | undefined {
  if (!stored.state && stored.unfinished.size === 0) return undefined;
  const parts = [`portal ${portalId}: hinted reads`];
  if (stored.state) {
    parts.push(
      `${stored.state.chats.size} chats, watermark ${new Date(stored.state.watermark).toISOString()}`,
    );
  }
  if (stored.unfinished.size > 0)
    parts.push(`${stored.unfinished.size} chats with unfinished business`);
  const recall = recallOf(stored.recall);
  const found = stored.recall.byHint + stored.recall.byReconcile;
  parts.push(
    recall === undefined
      ? 'hint recall: no changes found yet'
      : `hint recall ${recall.toFixed(3)} (${stored.recall.byHint} of ${found} changes named by the hints; ${stored.recall.byReconcile} found by reconcile reads)`,
  );
  return parts.join(', ');
}

export async function releaseCommand(
  flags: StateFlags & RunConfigFlags & { portal?: string; releaseChat: number },
): Promise<number> {
  const portalIds = await portalIdsOf(flags);
  if (portalIds.length !== 1) {
    throw new UsageError(`the config has ${portalIds.length} portals: name one with --portal ID`);
  }
  const portalId = portalIds[0] as string;
  return withStore(flags, async ({ store }) => {
    const snapshot = (await store.loadMany(portalId, [flags.releaseChat])).get(flags.releaseChat);
    if (!snapshot)
      throw new UsageError(`no snapshot of chat ${flags.releaseChat} on portal ${portalId}`);
    let released: Snapshot;
    try {
      released = releaseHeldChange(snapshot);
    } catch (error) {
      if (error instanceof NothingHeldError || error instanceof ChangePendingError) {
        throw new UsageError(error.message);
      }
      throw error;
    }
    try {
      await store.save(released, { version: snapshot.version });
    } catch (error) {
      if (error instanceof SnapshotConflictError) {
        throw new UsageError('the chat was synced meanwhile; check `status` and release again');
      }
      throw error;
    }
    process.stdout.write(
      `released: the next sync of chat ${flags.releaseChat} applies up to ${snapshot.held?.left.length ?? 0} held leaves\n`,
    );
    return 0;
  });
}

export async function simulatorCommand(flags: {
  port?: number;
  http?: boolean;
  stateDir: string;
  rateLimit: boolean;
  competingLoad?: number;
}): Promise<number> {
  const sim = await startSimulator({
    seed: 'demo',
    tls: !flags.http,
    keepProcessAlive: true,
    ...(flags.port ? { port: flags.port } : {}),
    ...(flags.rateLimit ? {} : { rateLimit: false }),
    ...(flags.competingLoad ? { competingLoad: flags.competingLoad } : {}),
  });
  const lines = [
    `Bitrix24 portal simulator (demo portal) at ${sim.baseUrl}`,
    `webhook URL: ${sim.webhookUrl}`,
  ];
  if (sim.caCert) {
    const caFile = join(flags.stateDir, 'simulator-ca.pem');
    await mkdir(flags.stateDir, { recursive: true });
    await writeFile(caFile, sim.caCert);
    lines.push(
      `self-signed certificate: ${caFile}`,
      `try: curl --cacert ${caFile} '${sim.webhookUrl}im.chat.user.list?CHAT_ID=2'`,
      `sync: npx membership-sync sync --webhook ${sim.webhookUrl} --chat 2 --ca-file ${caFile}`,
      `change membership: curl --cacert ${caFile} -H 'content-type: application/json' -d '{"add":[7],"remove":[3]}' ${sim.baseUrl}/_admin/chats/2/members`,
    );
  } else {
    lines.push(
      `try: curl '${sim.webhookUrl}im.chat.user.list?CHAT_ID=2'`,
      `sync: npx membership-sync sync --webhook ${sim.webhookUrl} --chat 2`,
      `change membership: curl -H 'content-type: application/json' -d '{"add":[7],"remove":[3]}' ${sim.baseUrl}/_admin/chats/2/members`,
    );
  }
  lines.push(
    'chats: ' +
      sim.admin
        .chats()
        .map((c) => `${c.id} ${c.title}`)
        .join(', '),
    'Ctrl-C stops it.',
  );
  process.stdout.write(`${lines.join('\n')}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await sim.close();
  return 0;
}

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}

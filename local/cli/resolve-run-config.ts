import { readFile } from 'node:fs/promises';
import type { Bitrix24Credentials } from '../../functions/bitrix24/credentials.js';
import { isSecureUrl } from '../../functions/bitrix24/secure-url.js';
import {
  type Config,
  ConfigError,
  parseConfig,
  type Reads,
} from '../../functions/config/config-schema.js';

/** A config plus the credentials for each of its portals, resolved for a local run. */
export interface LocalRunConfig {
  readonly config: Config;
  readonly credentials: ReadonlyMap<string, Bitrix24Credentials>;
}

export interface RunConfigFlags {
  readonly config?: string;
  readonly webhook?: string;
  readonly chat?: readonly number[];
  /** `--reads`: overrides the read mode of every portal. */
  readonly reads?: string;
  /** `--reconcile-minutes`: hinted reads with this reconcile period, for every portal. */
  readonly reconcileMinutes?: number;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * Locally the config file is the one deployed, but credentials come from the environment instead
 * of Secrets Manager: `BITRIX24_WEBHOOK_<PORTAL_ID>` (upper case, `-` → `_`), or
 * `BITRIX24_WEBHOOK_URL` when the config has a single portal.
 */
export async function resolveRunConfig(
  flags: RunConfigFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<LocalRunConfig> {
  if (flags.config && flags.webhook) {
    throw new UsageError('use either --config FILE or --webhook URL with --chat ID, not both');
  }
  const reads = readsFlag(flags);
  let run: LocalRunConfig;
  if (flags.config) {
    run = await fromConfigFile(flags.config, env);
  } else if (flags.webhook) {
    if (!flags.chat || flags.chat.length === 0) {
      throw new UsageError('--webhook needs at least one --chat ID');
    }
    run = fromWebhook(flags.webhook, flags.chat);
  } else {
    throw new UsageError('give --config FILE, or --webhook URL with --chat ID (repeatable)');
  }
  return reads ? { ...run, config: withReads(run.config, reads) } : run;
}

/** `--reads hinted|full` and `--reconcile-minutes N` as one read mode, or none given. */
function readsFlag(flags: RunConfigFlags): Reads | undefined {
  const { reads, reconcileMinutes } = flags;
  if (reads !== undefined && reads !== 'hinted' && reads !== 'full') {
    throw new UsageError(`--reads: "${reads}" is not hinted or full`);
  }
  if (reads === 'full') {
    if (reconcileMinutes !== undefined) {
      throw new UsageError('--reconcile-minutes applies to --reads hinted only');
    }
    return { mode: 'full' };
  }
  if (reads === undefined && reconcileMinutes === undefined) return undefined;
  return parseConfig(
    { portals: [PLACEHOLDER_PORTAL], reads: { mode: 'hinted', reconcileMinutes } },
    '--reconcile-minutes',
  ).reads;
}

/** Validates `--reconcile-minutes` through the config schema (same limits, same messages). */
const PLACEHOLDER_PORTAL = {
  id: 'flags',
  url: 'https://flags.invalid',
  secret: { name: 'flags' },
  chats: [1],
};

/** The flags win over the file: the global mode and every portal's own. */
function withReads(config: Config, reads: Reads): Config {
  return {
    ...config,
    reads,
    portals: config.portals.map(({ reads: _own, ...portal }) => portal),
  };
}

export async function readConfigFile(path: string): Promise<Config> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`--config ${path}: ${(error as Error).message}`);
  }
  return parseConfig(raw, path);
}

async function fromConfigFile(path: string, env: NodeJS.ProcessEnv): Promise<LocalRunConfig> {
  const config = await readConfigFile(path);
  const credentials = new Map<string, Bitrix24Credentials>();
  for (const portal of config.portals) {
    const variable = `BITRIX24_WEBHOOK_${portal.id.toUpperCase().replaceAll('-', '_')}`;
    const url =
      env[variable] ?? (config.portals.length === 1 ? env.BITRIX24_WEBHOOK_URL : undefined);
    if (!url) {
      throw new UsageError(
        `portal "${portal.id}": set ${variable}${config.portals.length === 1 ? ' (or BITRIX24_WEBHOOK_URL)' : ''} to its incoming-webhook URL`,
      );
    }
    const source = env[variable] === undefined ? 'BITRIX24_WEBHOOK_URL' : variable;
    const webhook = parseWebhookUrl(url, source);
    // Events name the config's portal URL as their source: a webhook of another portal would
    // record that portal's membership under this one.
    if (webhook.origin !== new URL(portal.url).origin) {
      throw new UsageError(
        `${source}: the webhook is not on portal "${portal.id}" (${portal.url}); expected ${portal.url}/rest/<user id>/<code>/`,
      );
    }
    credentials.set(portal.id, { kind: 'webhook', webhookUrl: webhook.href });
  }
  return { config, credentials };
}

function fromWebhook(webhook: string, chats: readonly number[]): LocalRunConfig {
  const url = parseWebhookUrl(webhook, '--webhook');
  const portalId = portalIdOf(url);
  const config = parseConfig(
    { portals: [{ id: portalId, url: url.origin, secret: { name: 'local' }, chats: [...chats] }] },
    '--webhook/--chat',
  );
  return { config, credentials: new Map([[portalId, { kind: 'webhook', webhookUrl: url.href }]]) };
}

/** A stable portal id for ad-hoc runs: the host, as a slug (`example-bitrix24-com`). */
export function portalIdOf(url: URL): string {
  return url.host
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
}

/**
 * `https://<portal>/rest/<user id>/<code>/`. The code is a secret: errors describe the expected
 * shape and never repeat the value.
 */
export function parseWebhookUrl(value: string, field: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${field}: not a URL; expected https://<portal>/rest/<user id>/<code>/`);
  }
  if (!/^\/rest\/\d+\/[^/]+\/?$/.test(url.pathname) || url.search || url.hash) {
    throw new UsageError(`${field}: expected https://<portal>/rest/<user id>/<code>/`);
  }
  if (!isSecureUrl(url)) {
    throw new UsageError(
      `${field}: Bitrix24 requires https (plain http is allowed on loopback only)`,
    );
  }
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

export function parseChatId(value: string, previous: number[] = []): number[] {
  const id = Number(value);
  if (!Number.isSafeInteger(id) || id <= 0) {
    throw new UsageError(`--chat: "${value}" is not a positive integer chat ID`);
  }
  return [...previous, id];
}

export { ConfigError };

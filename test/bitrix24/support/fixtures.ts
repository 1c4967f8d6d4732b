import type { Bitrix24Logger } from '../../../functions/bitrix24/client-types.js';
import type {
  Bitrix24Credentials,
  CredentialStore,
  TokenPair,
} from '../../../functions/bitrix24/credentials.js';

export function webhookStore(webhookUrl: string): CredentialStore {
  return {
    load: async () => ({ kind: 'webhook', webhookUrl }),
    saveTokens: async () => {
      throw new Error('webhooks have no tokens');
    },
  };
}

/** An in-memory OAuth store with the compare-and-set contract of `CredentialStore.saveTokens`. */
export function memoryOAuthStore(initial: Extract<Bitrix24Credentials, { kind: 'oauth' }>) {
  let current = initial;
  const saves: { replaced: string; next: TokenPair; accepted: boolean }[] = [];
  const store: CredentialStore = {
    load: async () => current,
    saveTokens: async (replaced, next) => {
      const accepted = replaced === current.refreshToken;
      saves.push({ replaced, next, accepted });
      if (accepted) {
        current = { ...current, accessToken: next.accessToken, refreshToken: next.refreshToken };
      }
      return accepted;
    },
  };
  return {
    store,
    saves,
    current: () => current,
    /** Simulates another process that refreshed first. */
    replace: (next: Partial<typeof initial>) => {
      current = { ...current, ...next };
    },
  };
}

export function captureLogger(): Bitrix24Logger & { readonly lines: string[] } {
  const lines: string[] = [];
  const log =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
    };
  return { lines, debug: log('debug'), info: log('info'), warn: log('warn') };
}

/** Everything an error exposes as text: name, message, stack, own fields, the whole cause chain. */
export function errorText(error: unknown, depth = 0): string {
  if (!(error instanceof Error) || depth > 8) return String(error);
  const own = Object.fromEntries(
    Object.getOwnPropertyNames(error)
      .filter((key) => key !== 'cause' && key !== 'stack')
      .map((key) => [key, (error as unknown as Record<string, unknown>)[key]]),
  );
  let ownText: string;
  try {
    ownText = JSON.stringify(own);
  } catch {
    ownText = String(own);
  }
  return [
    error.name,
    error.message,
    error.stack ?? '',
    ownText,
    errorText(error.cause, depth + 1),
  ].join('\n');
}

export async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

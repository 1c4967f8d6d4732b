import type {
  Bitrix24Credentials,
  CredentialStore,
  TokenPair,
} from '../../functions/bitrix24/credentials.js';

/** Credentials held in memory for one local run (webhook URL from a flag or the environment). */
export function createStaticCredentialStore(initial: Bitrix24Credentials): CredentialStore {
  let current = initial;
  return {
    async load() {
      return current;
    },
    async saveTokens(replacedRefreshToken: string, next: TokenPair) {
      if (current.kind !== 'oauth' || current.refreshToken !== replacedRefreshToken) return false;
      current = { ...current, accessToken: next.accessToken, refreshToken: next.refreshToken };
      return true;
    },
  };
}

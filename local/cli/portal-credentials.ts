import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  CredentialSecretError,
  createSecretsManagerCredentialStore,
} from '../../functions/adapters/secrets-manager-credentials.js';
import { CredentialsAwaitingError } from '../../functions/bitrix24/credentials.js';
import { type Config, portalSecretId } from '../../functions/config/config-schema.js';
import { localAwsConfig } from '../runtime/local-aws-config.js';

/** What `status --secrets` reports per portal; never a value from the secret. */
export type PortalCredentialsState =
  | { readonly portalId: string; readonly secretId: string; readonly credentials: 'ready' }
  | {
      readonly portalId: string;
      readonly secretId: string;
      readonly credentials: 'awaiting';
      readonly reason: 'not_found' | 'placeholder';
    }
  | {
      readonly portalId: string;
      readonly secretId: string;
      readonly credentials: 'unreadable';
      /** The adapter's message (field and rule, never a value) or the AWS error's name. */
      readonly error: string;
    };

/**
 * Reads each portal's secret the way the deployed functions do (same naming convention, same
 * validation) with the caller's AWS credentials, or at `endpoint` (an emulator), and classifies it.
 */
export async function checkPortalCredentials(
  config: Pick<Config, 'portals' | 'secrets'>,
  endpoint?: string,
): Promise<PortalCredentialsState[]> {
  const client = new SecretsManagerClient(endpoint === undefined ? {} : localAwsConfig(endpoint));
  try {
    return await Promise.all(
      config.portals.map(async (portal): Promise<PortalCredentialsState> => {
        const secretId = portalSecretId(config, portal);
        const base = { portalId: portal.id, secretId };
        try {
          await createSecretsManagerCredentialStore({ client, secretId }).load();
          return { ...base, credentials: 'ready' };
        } catch (error) {
          if (error instanceof CredentialsAwaitingError) {
            return { ...base, credentials: 'awaiting', reason: error.reason };
          }
          const message =
            error instanceof CredentialSecretError
              ? error.message
              : error instanceof Error
                ? error.name
                : String(error);
          return { ...base, credentials: 'unreadable', error: message };
        }
      }),
    );
  } finally {
    client.destroy();
  }
}

/** One line per portal for the terminal. */
export function describeCredentials(state: PortalCredentialsState): string {
  switch (state.credentials) {
    case 'ready':
      return `${state.portalId}: credentials ready (${state.secretId})`;
    case 'awaiting':
      return `${state.portalId}: awaiting credentials (${state.secretId}: ${state.reason === 'not_found' ? 'no secret or no value yet' : 'holds the placeholder'})`;
    case 'unreadable':
      return `${state.portalId}: credentials unreadable: ${state.error}`;
  }
}

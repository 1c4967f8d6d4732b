import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createSecretsManagerCredentialStore } from '../adapters/secrets-manager-credentials.js';
import type { AppLogger } from './observability.js';
import {
  createPortalConnector,
  type PortalClientSettings,
  type PortalConnector,
} from './worker-app.js';

export interface SecretsPortalConnectorOptions {
  /** Portal id → secret ARN (`SECRET_ARNS`). */
  readonly secretArns: Readonly<Record<string, string>>;
  readonly client: SecretsManagerClient;
  readonly logger?: AppLogger;
  readonly fetch?: typeof globalThis.fetch;
  readonly bitrix24?: PortalClientSettings;
  readonly deadlineAt?: () => number | undefined;
}

/** The Lambdas' portal connector: each portal's credentials live in its own secret. */
export function createSecretsPortalConnector(
  options: SecretsPortalConnectorOptions,
): PortalConnector {
  return createPortalConnector({
    credentialsFor: (portalId) => {
      const secretId = options.secretArns[portalId];
      if (!secretId) throw new Error(`SECRET_ARNS has no secret for portal "${portalId}"`);
      return createSecretsManagerCredentialStore({ client: options.client, secretId });
    },
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.bitrix24 ? { client: options.bitrix24 } : {}),
    ...(options.deadlineAt ? { deadlineAt: options.deadlineAt } : {}),
  });
}

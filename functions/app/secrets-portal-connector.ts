import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDynamoDbRefreshLease } from '../adapters/dynamodb-refresh-lease.js';
import { createSecretsManagerCredentialStore } from '../adapters/secrets-manager-credentials.js';
import { type Config, portalSecretId } from '../config/config-schema.js';
import type { AppLogger } from './observability.js';
import {
  createPortalConnector,
  type PortalClientSettings,
  type PortalConnector,
} from './worker-app.js';

export interface SecretsPortalConnectorOptions {
  /** The config names each portal's secret (or the naming convention does: `portalSecretId`). */
  readonly config: Pick<Config, 'portals' | 'secrets'>;
  readonly client: SecretsManagerClient;
  /**
   * The snapshot table, where each portal's OAuth refresh lease lives: the planner and the worker
   * containers share a portal's secret, and only one of them may refresh it at a time.
   */
  readonly leaseTable: { readonly client: DynamoDBDocumentClient; readonly tableName: string };
  readonly logger?: AppLogger | undefined;
  readonly fetch?: typeof globalThis.fetch | undefined;
  readonly bitrix24?: PortalClientSettings | undefined;
  readonly deadlineAt?: (() => number | undefined) | undefined;
}

/**
 * The Lambdas' portal connector: each portal's credentials live in its own secret, refreshed
 * under the portal's lease in the snapshot table.
 */
export function createSecretsPortalConnector(
  options: SecretsPortalConnectorOptions,
): PortalConnector {
  const portals = new Map(options.config.portals.map((p) => [p.id, p]));
  return createPortalConnector({
    credentialsFor: (portalId) => {
      const portal = portals.get(portalId);
      if (!portal) throw new Error(`the config has no portal "${portalId}"`);
      return createSecretsManagerCredentialStore({
        client: options.client,
        secretId: portalSecretId(options.config, portal),
      });
    },
    refreshLeaseFor: (portalId) => createDynamoDbRefreshLease({ ...options.leaseTable, portalId }),
    logger: options.logger,
    fetch: options.fetch,
    client: options.bitrix24,
    deadlineAt: options.deadlineAt,
  });
}

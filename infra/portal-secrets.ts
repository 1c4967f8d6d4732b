import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { PortalConfig } from '../functions/config/config-schema.js';

/** What a freshly created secret holds until the operator writes the real credentials. */
export const SECRET_PLACEHOLDER = {
  type: 'unset',
  help: 'Replace with {"type":"webhook","webhookUrl":"https://<portal>/rest/<user>/<code>/"} or the OAuth form; see DEPLOY.md',
} as const;

export interface PortalSecretsProps {
  readonly portals: readonly Pick<PortalConfig, 'id' | 'secret'>[];
}

/**
 * One Secrets Manager secret per portal (webhook URL or OAuth client + tokens).
 *
 * - `{ "arn": … }` imports an existing secret; the stack never touches its value.
 * - `{ "name": … }` creates a secret with that name, holding a placeholder the operator
 *   overwrites with `aws secretsmanager put-secret-value`. It is retained when the stack is
 *   deleted (refresh tokens are not recoverable); to adopt an existing secret, give its ARN.
 */
export class PortalSecrets extends Construct {
  readonly byPortal: ReadonlyMap<string, ISecret>;

  constructor(scope: Construct, id: string, props: PortalSecretsProps) {
    super(scope, id);
    const byPortal = new Map<string, ISecret>();
    for (const portal of props.portals) {
      byPortal.set(portal.id, this.secretFor(portal));
    }
    this.byPortal = byPortal;
  }

  private secretFor(portal: Pick<PortalConfig, 'id' | 'secret'>): ISecret {
    const constructId = `Portal-${portal.id}`;
    if ('arn' in portal.secret) {
      // A complete ARN ends in the 6-character suffix Secrets Manager appends; grants on a
      // partial ARN need a wildcard for it.
      return /-[A-Za-z0-9]{6}$/.test(portal.secret.arn)
        ? Secret.fromSecretCompleteArn(this, constructId, portal.secret.arn)
        : Secret.fromSecretPartialArn(this, constructId, portal.secret.arn);
    }
    const secret = new Secret(this, constructId, {
      secretName: portal.secret.name,
      description: `Bitrix24 credentials for portal "${portal.id}" (webhook or OAuth; written by the operator, OAuth tokens refreshed by the planner and the worker)`,
      // A generated placeholder keeps any literal credential out of the template.
      generateSecretString: {
        secretStringTemplate: JSON.stringify(SECRET_PLACEHOLDER),
        generateStringKey: 'placeholder',
        excludePunctuation: true,
      },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Secrets Manager cannot rotate Bitrix24 credentials: a webhook code is re-issued in the Bitrix24 UI, and OAuth access/refresh tokens are rotated by the planner and the worker themselves (PutSecretValue on every refresh, about hourly).',
    });
    return secret;
  }
}

import { ArnFormat, Stack } from 'aws-cdk-lib';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import {
  type Config,
  type PortalConfig,
  portalSecretId,
} from '../functions/config/config-schema.js';

/**
 * The tag an operator puts on a portal's secret: `webhook` secrets are never written by the job,
 * so the token-write grant excludes them (docs/deploy.md, "Secrets").
 */
export const CREDENTIALS_TAG_KEY = 'membership-sync:credentials';

/** What reading credentials takes (`functions/adapters/secrets-manager-credentials.ts`). */
export const SECRET_READ_ACTIONS = ['secretsmanager:GetSecretValue'] as const;
/** What writing back a refreshed OAuth token pair takes (the same adapter's `saveTokens`). */
export const SECRET_TOKEN_WRITE_ACTIONS = [
  'secretsmanager:PutSecretValue',
  'secretsmanager:UpdateSecretVersionStage',
] as const;

export interface PortalSecretsProps {
  readonly config: Pick<Config, 'portals' | 'secrets'>;
}

/**
 * The portals' secrets, as IAM resources. The stack creates none: they are made by the operator
 * (docs/deploy.md) under the naming convention `<secrets.prefix><portal id>`, so one grant on
 * `<prefix>*` covers any number of portals, and the template and the functions' environment do
 * not grow with them. Only a portal whose secret lies outside the prefix (an imported ARN, or a
 * name of its own) adds one ARN to the grants.
 */
export class PortalSecrets extends Construct {
  /** `arn:…:secret:<prefix>*`: every secret named by the convention. */
  readonly prefixArn: string;
  private readonly config: Pick<Config, 'portals' | 'secrets'>;

  constructor(scope: Construct, id: string, props: PortalSecretsProps) {
    super(scope, id);
    this.config = props.config;
    this.prefixArn = this.secretArn(`${props.config.secrets.prefix}*`);
  }

  /** Lets `grantee` read the credentials of `portals` (default: all). */
  grantRead(grantee: IGrantable, portals = this.config.portals): void {
    const resources = this.resourcesOf(portals);
    if (resources.length === 0) return;
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: [...SECRET_READ_ACTIONS], resources }),
    );
  }

  /**
   * Lets `grantee` write refreshed OAuth tokens into the secrets of `portals` (default: all),
   * except secrets tagged `membership-sync:credentials = webhook`. Narrowing by portal instead
   * would list one ARN per OAuth portal and outgrow the policy size limit (docs/scale.md); an
   * untagged secret stays writable, so a forgotten tag can never lose a refreshed token.
   */
  grantTokenWrite(grantee: IGrantable, portals = this.config.portals): void {
    const resources = this.resourcesOf(portals);
    if (resources.length === 0) return;
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: [...SECRET_TOKEN_WRITE_ACTIONS],
        resources,
        conditions: { StringNotEquals: { [`aws:ResourceTag/${CREDENTIALS_TAG_KEY}`]: 'webhook' } },
      }),
    );
  }

  /** The prefix grant if any portal uses it, plus one ARN per secret outside the prefix. */
  resourcesOf(portals: readonly Pick<PortalConfig, 'id' | 'secret'>[]): string[] {
    const resources = new Set<string>();
    for (const portal of portals) {
      const secretId = portalSecretId(this.config, portal);
      if (portal.secret !== undefined && 'arn' in portal.secret) {
        // A complete ARN ends in the 6-character suffix Secrets Manager appends; a partial one
        // needs a wildcard for it.
        resources.add(/-[A-Za-z0-9]{6}$/.test(secretId) ? secretId : `${secretId}-??????`);
      } else if (secretId.startsWith(this.config.secrets.prefix)) {
        resources.add(this.prefixArn);
      } else {
        resources.add(this.secretArn(`${secretId}-??????`));
      }
    }
    return [...resources].sort();
  }

  private secretArn(resourceName: string): string {
    return Stack.of(this).formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }
}

import { ArnFormat, Aws, CfnRule, Fn, Stack, Token } from 'aws-cdk-lib';
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
    this.requireStackRegion();
  }

  /**
   * The functions ask their own region's Secrets Manager endpoint, which answers "not found" for
   * a secret of another region: an ARN of another region could never be read. Refused at synth
   * when the stack's region is known, else by a CloudFormation rule at deploy time.
   */
  private requireStackRegion(): void {
    const stack = Stack.of(this);
    const byRegion = new Map<string, string[]>();
    for (const portal of this.config.portals) {
      if (portal.secret === undefined || !('arn' in portal.secret)) continue;
      const region = portal.secret.arn.split(':')[3] ?? '';
      byRegion.set(region, [...(byRegion.get(region) ?? []), portal.id]);
    }
    const stackRegion = Token.isUnresolved(stack.region) ? undefined : stack.region;
    const foreign = [...byRegion].filter(([region]) => region !== stackRegion);
    if (stackRegion !== undefined && foreign.length > 0) {
      const [[region, portals] = ['', []]] = foreign;
      throw new Error(
        `portal ${namesOf(portals)}: secret.arn is in ${region} but the stack deploys to ${stackRegion}, where the functions read their secrets. Replicate the secret to ${stackRegion} (a Secrets Manager replica) and name the replica's ARN.`,
      );
    }
    if (stackRegion !== undefined || byRegion.size === 0) return;
    if (byRegion.size > 1) {
      throw new Error(
        `the portals' secret ARNs name ${byRegion.size} regions (${[...byRegion.keys()].join(', ')}); the functions read secrets in the one region they run in. Replicate the secrets to it and name the replicas' ARNs.`,
      );
    }
    const [[region, portals] = ['', []]] = byRegion;
    new CfnRule(this, 'SecretRegion', {
      assertions: [
        {
          assert: Fn.conditionEquals(Aws.REGION, region),
          assertDescription: `The secret ARNs of portal ${namesOf(portals)} are in ${region}; deploy the stack there, or replicate the secrets to this region and name the replicas' ARNs.`,
        },
      ],
    });
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

/** Portal IDs for a message: the first five, then how many more. */
function namesOf(portals: readonly string[]): string {
  const shown = portals.slice(0, 5).join(', ');
  return portals.length > 5 ? `${shown} and ${portals.length - 5} more` : shown;
}

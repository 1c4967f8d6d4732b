import { ArnFormat, Aws, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AnyPrincipal, Effect, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';

/**
 * A rotating customer-managed key whose grants only AWS services may create on behalf of their
 * resources (the Control Tower proactive control CT.KMS.PR.3): no principal can hand out its use
 * by a grant. Kept when the stack is deleted or replaces it, not when the first create rolls back.
 */
export function customerKey(scope: Construct, id: string, description: string): Key {
  const key = new Key(scope, id, {
    description,
    enableKeyRotation: true,
    removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
  });
  key.addToResourcePolicy(
    new PolicyStatement({
      sid: 'DenyGrantsNotForAwsResources',
      effect: Effect.DENY,
      principals: [new AnyPrincipal()],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: {
        BoolIfExists: {
          'kms:GrantIsForAWSResource': 'false',
          'aws:PrincipalIsAWSService': 'false',
        },
      },
    }),
  );
  return key;
}

/** A key CloudWatch Logs may use for this account's log groups in this region. */
export function logsKey(scope: Construct, id: string): Key {
  const key = customerKey(scope, id, 'Bitrix24 membership sync: log group encryption');
  const stack = Stack.of(scope);
  key.addToResourcePolicy(
    new PolicyStatement({
      sid: 'AllowCloudWatchLogs',
      principals: [new ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
      actions: [
        'kms:Encrypt*',
        'kms:Decrypt*',
        'kms:ReEncrypt*',
        'kms:GenerateDataKey*',
        'kms:Describe*',
      ],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: '*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        },
      },
    }),
  );
  return key;
}

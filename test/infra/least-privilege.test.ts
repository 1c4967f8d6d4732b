import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { App, Stack, Validations } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { type ConfigInput, parseConfig } from '../../functions/config/config-schema.js';
import { MembershipSyncStack } from '../../infra/membership-sync-stack.js';
import { configInput, ENV, synth } from './support.js';

interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
  readonly Principal?: unknown;
}

const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

/** Every statement of the inline policies attached to the role `logicalId`. */
function roleStatements(template: Template, roleLogicalId: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: roleLogicalId }] },
  });
  return Object.values(policies).flatMap(
    (p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement,
  );
}

function roleIdEndingWith(template: Template, fragment: string): string {
  const id = Object.keys(template.findResources('AWS::IAM::Role')).find((k) =>
    k.startsWith(fragment),
  );
  if (!id) throw new Error(`no role ${fragment}`);
  return id;
}

const withArchive = (extra: Partial<NonNullable<ConfigInput['archive']>> = {}) =>
  configInput({ archive: { enabled: true, ...extra } });

describe('least privilege in the template', () => {
  it('gives Firehose a role of its own that only this account’s stream may assume and that cannot delete archive files', () => {
    const { template } = synth(withArchive());
    const roleId = roleIdEndingWith(template, 'ArchiveDeliveryRole');
    const role = template.findResources('AWS::IAM::Role')[roleId] as {
      Properties: { AssumeRolePolicyDocument: { Statement: Statement[] } };
    };
    const trust = role.Properties.AssumeRolePolicyDocument.Statement[0];
    expect(trust?.Condition?.StringEquals).toEqual({ 'aws:SourceAccount': '111111111111' });
    expect(JSON.stringify(trust?.Condition?.ArnEquals)).toContain(
      'deliverystream/MembershipSync-archive',
    );
    const actions = roleStatements(template, roleId).flatMap(actionsOf);
    expect(actions).toContain('s3:PutObject');
    expect(
      actions.filter((a) => /^s3:(Delete|PutObjectRetention|PutObjectLegalHold|Bypass)/.test(a)),
    ).toEqual([]);
    // No other role may write the archive either.
    const streams = template.findResources('AWS::KinesisFirehose::DeliveryStream');
    expect(JSON.stringify(streams)).toContain(roleId);
  });

  it('locks the archive bucket (governance, 365 days by default; compliance on request)', () => {
    const bucketOf = (input: ConfigInput) =>
      Object.values(synth(input).template.findResources('AWS::S3::Bucket')).find(
        (b) => b.Properties.ObjectLockEnabled === true,
      );
    expect(bucketOf(withArchive())?.Properties.ObjectLockConfiguration).toEqual({
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 365 } },
    });
    const compliance = bucketOf(
      withArchive({ objectLock: { mode: 'compliance', retentionDays: 2555 } }),
    );
    expect(compliance?.Properties.ObjectLockConfiguration.Rule.DefaultRetention).toEqual({
      Mode: 'COMPLIANCE',
      Days: 2555,
    });
  });

  it('encrypts the archive and the log groups with customer keys when asked', () => {
    const { template } = synth(
      configInput({ archive: { enabled: true, encryption: 'kms' }, logs: { encryption: 'kms' } }),
    );
    const archive = Object.values(template.findResources('AWS::S3::Bucket')).find(
      (b) => b.Properties.ObjectLockEnabled === true,
    );
    expect(
      archive?.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0]
        .ServerSideEncryptionByDefault.SSEAlgorithm,
    ).toBe('aws:kms');
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    expect(groups.length).toBeGreaterThanOrEqual(3);
    for (const group of groups) expect(group.Properties.KmsKeyId).toBeDefined();
  });

  it('lets each function write only its own log group, with no managed policy', () => {
    const { template } = synth();
    for (const name of ['Worker', 'Planner']) {
      const roleId = roleIdEndingWith(template, `${name}Role`);
      const role = template.findResources('AWS::IAM::Role')[roleId];
      expect(role?.Properties.ManagedPolicyArns).toBeUndefined();
      const logs = roleStatements(template, roleId).filter((s) =>
        actionsOf(s).some((a) => a.startsWith('logs:')),
      );
      expect(logs).toHaveLength(1);
      expect(JSON.stringify(logs[0]?.Resource)).toContain(`${name}Logs`);
    }
  });

  it('has X-Ray as the only statement on Resource "*" in the functions’ policies', () => {
    const { template } = synth();
    for (const name of ['Worker', 'Planner']) {
      const everything = roleStatements(template, roleIdEndingWith(template, `${name}Role`)).filter(
        (s) => s.Resource === '*',
      );
      expect(everything.flatMap(actionsOf).sort()).toEqual([
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ]);
    }
  });

  it('lets no principal create grants on a stack key except for AWS resources', () => {
    const { template } = synth(withArchive({ encryption: 'kms' }));
    const keys = Object.values(template.findResources('AWS::KMS::Key'));
    expect(keys.length).toBeGreaterThanOrEqual(2);
    for (const key of keys) {
      const statements = (key.Properties.KeyPolicy as { Statement: Statement[] }).Statement;
      expect(statements).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Action: 'kms:CreateGrant',
          Condition: {
            BoolIfExists: {
              'kms:GrantIsForAWSResource': 'false',
              'aws:PrincipalIsAWSService': 'false',
            },
          },
        }),
      );
    }
  });
});

/** Synthesizes with the Control Tower proactive controls and returns the rules left failing. */
function guardViolations(build: (app: App) => void): string[] {
  const outdir = mkdtempSync(join(tmpdir(), 'guard-'));
  const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
  Validations.of(app).addPlugins(new CfnGuardValidator());
  build(app);
  // Outside the CDK CLI a violation also throws; the report is written either way.
  try {
    app.synth();
  } catch {}
  const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
    pluginReports: { violations: { ruleName: string }[] }[];
  };
  return report.pluginReports.flatMap((p) => p.violations.map((v) => v.ruleName)).sort();
}

describe('AWS Control Tower proactive controls (cfn-guard)', () => {
  it('find a queue without a dead-letter queue in a bare stack (the rules run)', () => {
    const violations = guardViolations((app) => {
      new Queue(new Stack(app, 'Bare', { env: ENV }), 'Queue');
    });
    expect(violations).toContain('sqs_dlq_check');
  });

  it('leave no rule failing that is not acknowledged with its reason, archive on, keys on', () => {
    const violations = guardViolations((app) => {
      new MembershipSyncStack(app, 'MembershipSync', {
        config: parseConfig(
          configInput({
            archive: { enabled: true, encryption: 'kms' },
            logs: { encryption: 'kms' },
          }),
        ),
        env: ENV,
      });
    });
    expect(violations).toEqual([]);
  });
});

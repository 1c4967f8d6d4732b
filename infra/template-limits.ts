import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { type ConfigInput, parseConfig } from '../functions/config/config-schema.js';
import { MembershipSyncStack } from './membership-sync-stack.js';

/**
 * The AWS limits a template of this stack must stay under, and how close it comes to them
 * (docs/scale.md). Sources:
 * - CloudFormation: 500 resources, 200 outputs, 1 MB template body in S3
 *   (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html);
 * - Lambda: 4 KB for all environment variables of a function
 *   (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html);
 * - IAM: 10,240 characters of inline policies per role, 6,144 per managed policy, 2,048 per
 *   trust policy, whitespace not counted
 *   (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html);
 * - KMS key policy: 32 KB (https://docs.aws.amazon.com/kms/latest/developerguide/resource-limits.html).
 */
export const LIMITS = {
  resources: 500,
  outputs: 200,
  templateBytes: 1_000_000,
  environmentBytes: 4096,
  roleInlinePolicyChars: 10_240,
  managedPolicyChars: 6144,
  trustPolicyChars: 2048,
  keyPolicyBytes: 32_768,
} as const;

export interface TemplateMeasure {
  readonly resources: number;
  readonly outputs: number;
  readonly templateBytes: number;
  /** Per function (logical id): bytes of its environment variables, names and values. */
  readonly environmentBytes: Readonly<Record<string, number>>;
  /** Per role (logical id): characters of its inline policies together. */
  readonly roleInlinePolicyChars: Readonly<Record<string, number>>;
  readonly managedPolicyChars: Readonly<Record<string, number>>;
  readonly trustPolicyChars: Readonly<Record<string, number>>;
  readonly keyPolicyBytes: Readonly<Record<string, number>>;
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

/**
 * Sizes as AWS would see them after deployment: every reference resolved to a value as long as
 * it can plausibly get (pseudo parameters to their longest forms, any other reference to 128
 * characters: longer than the queue URLs, topic ARNs and names the stack creates).
 */
export function measureTemplate(template: Record<string, unknown>): TemplateMeasure {
  const resources = (template.Resources ?? {}) as Resources;
  const of = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const chars = (value: unknown) => JSON.stringify(resolveForSize(value)).length;

  const roleInline: Record<string, number> = {};
  for (const [, policy] of of('AWS::IAM::Policy')) {
    const size = chars(policy.Properties?.PolicyDocument);
    for (const role of (policy.Properties?.Roles ?? []) as { Ref: string }[]) {
      roleInline[role.Ref] = (roleInline[role.Ref] ?? 0) + size;
    }
  }
  for (const [id, role] of of('AWS::IAM::Role')) {
    for (const inline of (role.Properties?.Policies ?? []) as { PolicyDocument: unknown }[]) {
      roleInline[id] = (roleInline[id] ?? 0) + chars(inline.PolicyDocument);
    }
  }
  return {
    resources: Object.keys(resources).length,
    outputs: Object.keys((template.Outputs ?? {}) as object).length,
    templateBytes: Buffer.byteLength(JSON.stringify(template, null, 1)),
    environmentBytes: Object.fromEntries(
      of('AWS::Lambda::Function').map(([id, fn]) => {
        const variables = resolveForSize(
          (fn.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)
            ?.Variables ?? {},
        ) as Record<string, string>;
        const bytes = Object.entries(variables).reduce(
          (sum, [k, v]) => sum + Buffer.byteLength(k) + Buffer.byteLength(String(v)),
          0,
        );
        return [id, bytes];
      }),
    ),
    roleInlinePolicyChars: roleInline,
    managedPolicyChars: Object.fromEntries(
      of('AWS::IAM::ManagedPolicy').map(([id, p]) => [id, chars(p.Properties?.PolicyDocument)]),
    ),
    trustPolicyChars: Object.fromEntries(
      of('AWS::IAM::Role').map(([id, r]) => [id, chars(r.Properties?.AssumeRolePolicyDocument)]),
    ),
    keyPolicyBytes: Object.fromEntries(
      of('AWS::KMS::Key').map(([id, k]) => [id, chars(k.Properties?.KeyPolicy)]),
    ),
  };
}

const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws-us-gov',
  'AWS::Region': 'ap-southeast-2',
  'AWS::AccountId': '123456789012',
  'AWS::URLSuffix': 'amazonaws.com.cn',
  'AWS::StackName': 'x'.repeat(128),
};

function resolveForSize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(resolveForSize);
  if (value === null || typeof value !== 'object') return value;
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1 && (keys[0] === 'Ref' || keys[0]?.startsWith('Fn::'))) {
    if (typeof o.Ref === 'string' && PSEUDO[o.Ref] !== undefined) return PSEUDO[o.Ref];
    if (Array.isArray(o['Fn::Join'])) {
      const [delimiter, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map((p) => String(resolveForSize(p))).join(delimiter);
    }
    return 'r'.repeat(128);
  }
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolveForSize(v)]));
}

/**
 * A config of `count` portals as an operator with many would write it: secrets by the naming
 * convention, explicit chats (a tenth of the portals by discovery), one chat list of 50 IDs each.
 */
export function portalsConfig(count: number, extra: Partial<ConfigInput> = {}): ConfigInput {
  return {
    portals: Array.from({ length: count }, (_, i) => ({
      id: `portal-${String(i).padStart(4, '0')}`,
      url: `https://portal-${i}.bitrix24.com`,
      chats: i % 10 === 9 ? { discover: true } : Array.from({ length: 50 }, (_, c) => c + 1),
    })),
    schedule: { expression: 'rate(15 minutes)', timeZone: 'UTC' },
    archive: { enabled: true },
    ...extra,
  };
}

/** Synthesizes the stack for a config without bundling the functions. */
export function synthesizeTemplate(input: ConfigInput): Record<string, unknown> {
  const app = new App({
    context: { 'aws:cdk:bundling-stacks': [] },
    builtinCloudFormationValidation: false,
  });
  const stack = new MembershipSyncStack(app, 'MembershipSync', {
    config: parseConfig(input),
    env: { account: '123456789012', region: 'ap-southeast-2' },
  });
  return Template.fromStack(stack).toJSON() as Record<string, unknown>;
}

// `npx tsx infra/template-limits.ts [count…]`: the table in docs/scale.md.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const counts = process.argv.slice(2).map(Number);
  const max = (o: Readonly<Record<string, number>>) => Math.max(0, ...Object.values(o));
  console.log(
    '| portals | resources | outputs | template bytes | largest function env (bytes) | largest role inline policy (chars) |',
  );
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const count of counts.length > 0 ? counts : [1, 40, 150, 1000]) {
    const m = measureTemplate(synthesizeTemplate(portalsConfig(count)));
    console.log(
      `| ${count} | ${m.resources} | ${m.outputs} | ${m.templateBytes} | ${max(m.environmentBytes)} | ${max(m.roleInlinePolicyChars)} |`,
    );
  }
}

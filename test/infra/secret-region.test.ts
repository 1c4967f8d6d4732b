import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { type ConfigInput, parseConfig } from '../../functions/config/config-schema.js';
import { MembershipSyncStack } from '../../infra/membership-sync-stack.js';
import { configInput, ENV } from './support.js';

const arnIn = (region: string) =>
  `arn:aws:secretsmanager:${region}:111111111111:secret:membership-sync/globex-AbC123`;

function withGlobexSecretIn(region: string): ConfigInput {
  const input = configInput();
  input.portals = input.portals.map((p) =>
    p.id === 'globex' ? { ...p, secret: { arn: arnIn(region) } } : p,
  );
  return input;
}

function stackOf(input: ConfigInput, env?: { account: string; region: string }) {
  const app = new App({
    context: { 'aws:cdk:bundling-stacks': [] },
    builtinCloudFormationValidation: false,
  });
  return new MembershipSyncStack(app, 'MembershipSync', {
    config: parseConfig(input),
    ...(env ? { env } : {}),
  });
}

describe("a portal's secret in another region", () => {
  it('fails synth, naming the portal and both regions', () => {
    expect(() => stackOf(withGlobexSecretIn('us-east-1'), ENV)).toThrow(
      /portal globex: secret\.arn is in us-east-1 but the stack deploys to eu-central-1/,
    );
  });

  it('synthesizes when the secret is in the stack’s region, with no deploy-time rule', () => {
    const template = Template.fromStack(stackOf(withGlobexSecretIn('eu-central-1'), ENV));
    expect(Object.keys(template.toJSON().Rules ?? {})).toEqual(['CheckBootstrapVersion']);
  });

  it('makes an environment-agnostic stack refuse to deploy outside the secrets’ region', () => {
    const template = Template.fromStack(stackOf(withGlobexSecretIn('eu-central-1')));
    const { CheckBootstrapVersion: _bootstrap, ...own } = template.toJSON().Rules ?? {};
    const rules = Object.values(own) as {
      Assertions: { Assert: unknown; AssertDescription: string }[];
    }[];
    expect(rules).toHaveLength(1);
    expect(rules[0]?.Assertions[0]?.Assert).toEqual({
      'Fn::Equals': [{ Ref: 'AWS::Region' }, 'eu-central-1'],
    });
    expect(rules[0]?.Assertions[0]?.AssertDescription).toContain('globex');
  });

  it('fails synth of an environment-agnostic stack whose secret ARNs name two regions', () => {
    const input = withGlobexSecretIn('eu-central-1');
    input.portals = [
      ...input.portals,
      {
        id: 'initech',
        url: 'https://initech.bitrix24.com',
        secret: { arn: arnIn('us-east-1').replace('globex', 'initech') },
        chats: [1],
      },
    ];
    expect(() => stackOf(input)).toThrow(/2 regions \(eu-central-1, us-east-1\)/);
  });
});

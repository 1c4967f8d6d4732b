import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { type ConfigInput, parseConfig } from '../../functions/config/config-schema.js';
import { MembershipSyncStack } from '../../infra/membership-sync-stack.js';

export const ENV = { account: '111111111111', region: 'eu-central-1' };

export const IMPORTED_SECRET_ARN =
  'arn:aws:secretsmanager:eu-central-1:111111111111:secret:membership-sync/globex-AbC123';

/** Two portals: explicit chats with a created secret, discovery with an imported one. */
export function configInput(overrides: Partial<ConfigInput> = {}): ConfigInput {
  return {
    portals: [
      {
        id: 'acme',
        url: 'https://acme.bitrix24.com',
        secret: { name: 'membership-sync/acme' },
        chats: [12, 48],
      },
      {
        id: 'globex',
        url: 'https://globex.bitrix24.de',
        secret: { arn: IMPORTED_SECRET_ARN },
        chats: { discover: true },
      },
    ],
    schedule: { expression: 'cron(0/10 * * * ? *)', timeZone: 'Europe/Berlin' },
    ...overrides,
  };
}

export interface Synthesized {
  readonly app: App;
  readonly stack: MembershipSyncStack;
  readonly template: Template;
  /** `{ Ref | Fn::GetAtt }`-free logical id of a construct's CFN resource. */
  readonly logicalId: (element: CfnElement) => string;
}

const cache = new Map<string, Synthesized>();

/**
 * Synthesizes the stack without bundling (esbuild skipped) and without CDK's built-in
 * CloudFormation validation (run by `npm run synth`); memoized per config.
 */
export function synth(input: ConfigInput = configInput()): Synthesized {
  const key = JSON.stringify(input);
  const hit = cache.get(key);
  if (hit) return hit;
  const app = new App({
    context: { 'aws:cdk:bundling-stacks': [] },
    builtinCloudFormationValidation: false,
  });
  const stack = new MembershipSyncStack(app, 'MembershipSync', {
    config: parseConfig(input),
    env: ENV,
  });
  const result: Synthesized = {
    app,
    stack,
    template: Template.fromStack(stack),
    logicalId: (element) => Stack.of(element).getLogicalId(element),
  };
  cache.set(key, result);
  return result;
}

import { Annotations, App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError } from '../functions/config/config-schema.js';
import { EXAMPLE_CONFIG_PATH, loadConfig } from './config-file.js';
import { MembershipSyncStack } from './membership-sync-stack.js';

// `npx cdk deploy -c config=path/to/file.json` (default: config/membership-sync.json).
const app = new App();

let resolved: ReturnType<typeof loadConfig>;
try {
  resolved = loadConfig(app.node.tryGetContext('config'));
} catch (error) {
  if (error instanceof ConfigError) {
    // The field list is the whole message; a stack trace would only bury it.
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}

const stack = new MembershipSyncStack(
  app,
  app.node.tryGetContext('stackName') ?? 'MembershipSync',
  {
    config: resolved.config,
    description: `Bitrix24 chat membership sync (config: ${resolved.path})`,
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  },
);
if (resolved.usedExample) {
  Annotations.of(stack).addWarningV2(
    'membership-sync:example-config',
    `No config named (-c config=…) and no config/membership-sync.json: synthesized ${EXAMPLE_CONFIG_PATH}. Do not deploy the example.`,
  );
}

// AWS Solutions checks at every synth; each acknowledgement carries its reason in the construct
// that needs it, and is copied into the template metadata for reviewers.
Validations.of(app).addPlugins(
  new AwsSolutionsChecks(app, { writeSuppressionsToCloudFormation: true }),
);

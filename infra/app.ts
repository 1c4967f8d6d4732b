import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
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
// AWS Control Tower's proactive controls (cfn-guard rules) too: each rule left failing is
// acknowledged, with its reason, on the resource it concerns (docs/deploy.md lists them).
Validations.of(app).addPlugins(
  new CfnGuardValidator(),
  new AwsSolutionsChecks(app, { writeSuppressionsToCloudFormation: true }),
);

// Synthesized here rather than at exit, so that a policy violation nobody acknowledged (a
// cfn-guard rule or a cdk-nag check) fails `cdk synth`, and CI, instead of only printing its
// report: the validation plugins conclude "success" whatever they found.
const assembly = app.synth();
const reportPath = join(assembly.directory, 'validation-report.json');
if (existsSync(reportPath)) {
  const report = JSON.parse(readFileSync(reportPath, 'utf8')) as {
    pluginReports: { pluginName: string; violations: { ruleName: string }[] }[];
  };
  const open = report.pluginReports.flatMap((plugin) =>
    plugin.violations.map((v) => `${plugin.pluginName}: ${v.ruleName}`),
  );
  if (open.length > 0) {
    console.error(`policy validation failed (${reportPath}):\n  ${open.join('\n  ')}`);
    process.exit(1);
  }
}

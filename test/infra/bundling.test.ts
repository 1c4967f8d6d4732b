import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Config, parseConfig } from '../../functions/config/config-schema.js';
import { MembershipSyncStack } from '../../infra/membership-sync-stack.js';
import { BUNDLED_CONFIG_PATH } from '../../infra/sync-function.js';
import { configInput, ENV } from './support.js';

// Inside the repository's node_modules so the bundles resolve the external @aws-sdk/* packages
// the way the Lambda runtime provides them.
const OUTDIR = fileURLToPath(
  new URL('../../node_modules/.cache/membership-sync-infra-test/cdk.out', import.meta.url),
);

let config: Config;
let assets: { planner: string; worker: string };

beforeAll(() => {
  rmSync(OUTDIR, { recursive: true, force: true });
  config = parseConfig(configInput());
  const app = new App({ outdir: OUTDIR, builtinCloudFormationValidation: false });
  const stack = new MembershipSyncStack(app, 'MembershipSync', { config, env: ENV });
  app.synth();
  const template = Template.fromStack(stack).toJSON() as {
    Resources: Record<
      string,
      { Type: string; Properties: { Description?: string; Code?: { S3Key?: string } } }
    >;
  };
  const assetOf = (description: RegExp) => {
    const fn = Object.values(template.Resources).find(
      (r) => r.Type === 'AWS::Lambda::Function' && description.test(r.Properties.Description ?? ''),
    );
    const key = fn?.Properties.Code?.S3Key ?? '';
    return join(OUTDIR, `asset.${key.replace(/\.zip$/, '')}`);
  };
  assets = { planner: assetOf(/^Splits/), worker: assetOf(/^Reads a work item/) };
});

afterAll(() => {
  rmSync(OUTDIR, { recursive: true, force: true });
});

describe('bundled functions', () => {
  it.each(['planner', 'worker'] as const)(
    '%s: ESM index.mjs with source map and the createRequire banner',
    (name) => {
      const dir = assets[name];
      expect(existsSync(join(dir, 'index.mjs.map'))).toBe(true);
      const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
      expect(
        code.startsWith("import { createRequire as __createRequire } from 'node:module';"),
      ).toBe(true);
      // The runtime provides AWS SDK v3; it must stay external.
      expect(code).toMatch(/from\s*"@aws-sdk\/client-/);
    },
  );

  it.each(['planner', 'worker'] as const)(
    '%s: carries the validated config next to the handler (/var/task/config.json)',
    (name) => {
      const bundled = JSON.parse(readFileSync(join(assets[name], 'config.json'), 'utf8'));
      expect(bundled).toEqual(JSON.parse(JSON.stringify(config)));
      expect(parseConfig(bundled)).toEqual(config);
      expect(BUNDLED_CONFIG_PATH).toBe('/var/task/config.json');
    },
  );

  it('loads as an ES module and builds its handler from CONFIG_PATH and the stack’s environment', async () => {
    const saved = { ...process.env };
    try {
      Object.assign(process.env, {
        AWS_REGION: 'eu-central-1',
        WORK_QUEUE_URL: 'https://sqs.eu-central-1.amazonaws.com/111111111111/work.fifo',
        TABLE_NAME: 'snapshots',
        TOPIC_ARN: 'arn:aws:sns:eu-central-1:111111111111:events',
      });
      for (const name of ['planner', 'worker'] as const) {
        // In Lambda the asset directory is /var/task; here it is wherever synth put it.
        process.env.CONFIG_PATH = join(assets[name], 'config.json');
        const module = await import(pathToFileURL(join(assets[name], 'index.mjs')).href);
        expect(typeof module.handler, name).toBe('function');
      }
    } finally {
      process.env = saved;
    }
  });
});

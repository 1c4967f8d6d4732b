import { defineConfig } from 'vitest/config';

/**
 * Two tiers. `unit`: no Java, no emulator, no network (the pure core, config, client logic with
 * fakes, codecs, the CDK templates, the consumer and its archive queries): `npm run test:unit`.
 * `integration`: everything else (the Bitrix24 simulator over HTTP, DynamoDB Local, dynalite,
 * the SNS/SQS emulator, the CLI, end to end, the crash-schedule model); only this tier starts
 * DynamoDB Local. A new test file lands in `integration` unless it is listed here.
 */
const unit = [
  'test/core/**/*.test.ts',
  'test/config/**/*.test.ts',
  'test/consumer/**/*.test.ts',
  'test/app/**/*.test.ts',
  'test/infra/{archive-table,bundling,config-file,deploy-guide,least-privilege,membership-sync-stack,scale,secret-region}.test.ts',
  'test/planner/plan-run.test.ts',
  'test/adapters/{id-list-codec,secrets-manager-credentials,snapshot-item-codec}.test.ts',
  'test/bitrix24/{batch,client-config,discover-chats,errors,leaky-bucket,operating-wait,php-query,read-dialog-members,redact,token-exchange}.test.ts',
  'test/local/{cli-config,export-record,status-table}.test.ts',
  'test/repository/**/*.test.ts',
  'test/timing/**/*.test.ts',
];

export default defineConfig({
  test: {
    environment: 'node',
    setupFiles: ['test/support/setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'unit', include: unit } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: unit,
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
    ],
  },
});

import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import {
  type HandlerEnvironment,
  type HandlerName,
  POWERTOOLS_ENVIRONMENT,
} from '../functions/app/environment.js';
import type { Config } from '../functions/config/config-schema.js';

/**
 * Where the bundled config lands in the Lambda: the asset directory becomes the task root
 * (`LAMBDA_TASK_ROOT`, `/var/task`), next to `index.mjs`. Absolute, so it does not depend on the
 * process's working directory or on how the handler resolves relative paths.
 */
export const BUNDLED_CONFIG_PATH = '/var/task/config.json';

/** The repository root: esbuild's working directory and the lock file NodejsFunction wants. */
const PROJECT_ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

interface SyncFunctionOptions {
  /** The handler module (TypeScript); must export `handler`. @default functions/handlers/<handler>.ts */
  readonly entry?: string | undefined;
  /** The validated config, bundled as `config.json` (too big for environment variables). */
  readonly config: Config;
  /** @default 256 */
  readonly memorySize?: number;
  /** @default Duration.minutes(1) */
  readonly timeout?: Duration;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** Encrypts the function's log group; default: CloudWatch Logs' own encryption. */
  readonly logsKey?: IKey | undefined;
  /** @default - none */
  readonly description?: string;
}

/**
 * `handler` names the environment contract the function fulfils (functions/app/environment.ts):
 * `environment` must set exactly its variables, except `CONFIG_PATH`, which points at the bundled
 * config.
 */
export type SyncFunctionProps = {
  [H in HandlerName]: SyncFunctionOptions & {
    readonly handler: H;
    readonly environment: Omit<HandlerEnvironment<H>, 'CONFIG_PATH'>;
  };
}[HandlerName];

/**
 * A `NodejsFunction` with the project's defaults baked in: Node 22 on ARM, ESM output bundled by
 * the local esbuild (no Docker), the AWS SDK left to the runtime, X-Ray tracing, a log group with
 * retention, and the validated config written into the bundle as `config.json`.
 */
export class SyncFunction extends NodejsFunction {
  /** The function's log group (dashboards and saved Logs Insights queries read it). */
  readonly logs: LogGroup;
  /** Its execution role (IAM findings on its policy are acknowledged here). */
  readonly executionRole: Role;

  constructor(scope: Construct, id: string, props: SyncFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      // Logs are operational, not the audit record (that is the topic / archive).
      removalPolicy: RemovalPolicy.DESTROY,
      ...(props.logsKey ? { encryptionKey: props.logsKey } : {}),
    });
    // Its own role without AWSLambdaBasicExecutionRole (logs on `*`): it writes its one log group.
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
    });
    logGroup.grantWrite(role);
    const configFile = writeConfigFile(props.config);
    super(scope, id, {
      entry:
        props.entry ??
        fileURLToPath(new URL(`../functions/handlers/${props.handler}.ts`, import.meta.url)),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.minutes(1),
      tracing: Tracing.ACTIVE,
      logGroup,
      role,
      environment: {
        ...POWERTOOLS_ENVIRONMENT,
        // Minified bundle: map stack traces back to the TypeScript sources.
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
        CONFIG_PATH: BUNDLED_CONFIG_PATH,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        platform: 'node',
        mainFields: ['module', 'main'],
        minify: true,
        sourceMap: true,
        // The runtime ships AWS SDK v3; bundling it only adds cold-start weight.
        externalModules: ['@aws-sdk/*'],
        forceDockerBundling: false,
        // CJS dependencies bundled into ESM still call `require` for Node built-ins.
        banner:
          "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          // Copied from a file rather than echoed: a config with thousands of chat IDs would
          // exceed the shell's single-argument limit.
          afterBundling: (_inputDir: string, outputDir: string) => [
            `cp "${configFile}" "${outputDir}/config.json"`,
          ],
        },
      },
    });
    this.logs = logGroup;
    this.executionRole = role;

    Validations.of(this).acknowledge(
      {
        id: 'AwsSolutions-L1',
        reason:
          'Node.js 22 is deliberate: the project toolchain, Powertools and the tests target Node 22 (supported by Lambda into 2027); move to 24 together with the toolchain.',
      },
      {
        id: 'cdk-validator-cfnguard::lambda_inside_vpc_check',
        reason:
          'The functions call the portals’ Bitrix24 REST APIs on the internet and AWS APIs only; a VPC would add a NAT gateway and endpoints without narrowing anything they reach.',
      },
    );
    // On the role's policy only; its one `*` statement is X-Ray's (a template test checks).
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray PutTraceSegments/PutTelemetryRecords do not support resource-level permissions (Resource "*" is required by the service).',
    });
    if (!props.logsKey) {
      Validations.of(logGroup).acknowledge({
        id: 'cdk-validator-cfnguard::cloudwatch_log_group_encrypted_check',
        reason:
          'CloudWatch Logs encrypts every log group; a customer-managed key is the opt-in logs.encryption "kms" (the logs hold no secrets: docs/operations.md).',
      });
    }
    Validations.of(logGroup).acknowledge({
      id: 'cdk-validator-cfnguard::cloudwatch_log_group_retention_period_check',
      reason:
        'Operational logs, kept a month by default; the audit record is the event topic and its archive (docs/archive.md).',
    });
  }
}

/**
 * Writes the config to a content-addressed file outside the repository for `afterBundling` to
 * copy. The bundle's asset hash is computed from the output, so a config change redeploys.
 */
function writeConfigFile(config: Config): string {
  const json = `${JSON.stringify(config, null, 2)}\n`;
  const digest = createHash('sha256').update(json).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'membership-sync-config');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `config-${digest}.json`);
  writeFileSync(file, json);
  return file;
}

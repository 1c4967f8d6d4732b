import { afterAll, beforeAll, beforeEach } from 'vitest';
import { createBitrix24Client } from '../../../functions/bitrix24/bitrix24-client.js';
import type {
  Bitrix24Client,
  Bitrix24ClientOptions,
} from '../../../functions/bitrix24/client-types.js';
import { startSimulator } from '../../../local/simulator/start-simulator.js';
import type { RunningSimulator, SimulatorOptions } from '../../../local/simulator/types.js';
import { webhookStore } from './fixtures.js';

/** Plain HTTP on loopback, no rate limit unless asked: most client tests are about answers. */
export function startPlainSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  return startSimulator({ seed: 'empty', rateLimit: false, tls: false, ...options });
}

/**
 * The describe block's simulator (see {@link startPlainSimulator}): started before its tests,
 * closed after them, its faults and statistics cleared before each test. The function it returns
 * gives the running simulator inside hooks and tests.
 */
export function useSimulator(options: SimulatorOptions = {}): () => RunningSimulator {
  let sim: RunningSimulator | undefined;
  beforeAll(async () => {
    sim = await startPlainSimulator(options);
  });
  afterAll(() => sim?.close());
  beforeEach(() => {
    sim?.faults.clear();
    sim?.resetStats();
  });
  return () => {
    if (!sim) throw new Error('the simulator starts in beforeAll');
    return sim;
  };
}

/** A webhook client with fast retries and a generous bucket, overridable per test. */
export function webhookClient(
  sim: RunningSimulator,
  overrides: Partial<Bitrix24ClientOptions> = {},
): Bitrix24Client {
  return createBitrix24Client({
    credentials: webhookStore(sim.webhookUrl),
    rateLimit: { burst: 1_000_000, drainPerSecond: 1_000_000 },
    retry: { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 20 },
    ...overrides,
  });
}

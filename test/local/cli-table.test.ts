import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../local/simulator/start-simulator.js';
import type { RunningSimulator } from '../../local/simulator/types.js';
import { type DynamoEndpoint, startDynalite } from '../support/dynalite-server.js';
import { cli, lines } from './support.js';

/**
 * The on-call path for a held change in AWS: `status`/`release` against the deployed table
 * (`--table <TableName>`; here at an emulator endpoint), which they must never create.
 */

let sim: RunningSimulator;
let dynamo: DynamoEndpoint;

beforeAll(async () => {
  [sim, dynamo] = await Promise.all([
    startSimulator({ seed: 'demo', tls: false, rateLimit: false }),
    startDynalite(),
  ]);
});

afterAll(async () => {
  await Promise.all([sim?.close(), dynamo?.stop()]);
});

describe('membership-sync --table', () => {
  it('syncs into, lists and releases in the named table; a missing table is named, not created', async () => {
    const table = await dynamo.createSnapshotTable('deployed');
    const at = ['--dynamodb-endpoint', dynamo.endpoint, '--table', table];
    const sync = () => cli('sync', '--webhook', sim.webhookUrl, '--chat', '3', ...at);
    await sync();
    const engineers = (sim.admin.chat(3)?.memberIds ?? []).filter((id) => id !== 1 && id !== 6);
    sim.admin.removeMembers(3, engineers);
    const held = await sync();

    // Act
    const [status, missing] = await Promise.all([
      cli('status', '--webhook', sim.webhookUrl, '--json', ...at),
      cli('status', '--portal', 'p', '--dynamodb-endpoint', dynamo.endpoint, '--table', 'nope'),
    ]);
    const release = await cli('release', '--webhook', sim.webhookUrl, '--chat', '3', ...at);

    // Assess
    expect(held.code).toBe(1);
    expect(lines(status.stdout).map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ chatId: 3, held: expect.objectContaining({ released: false }) }),
    ]);
    expect(release.code).toBe(0);
    expect(missing.code).toBe(2);
    expect(lines(missing.stderr)).toEqual([
      expect.stringMatching(/^membership-sync: --table nope: /),
    ]);
    const { TableNames = [] } = await dynamo.client.send(new ListTablesCommand({}));
    expect(TableNames).not.toContain('nope');
    expect(TableNames).not.toContain('membership-sync-snapshots');
  });
});

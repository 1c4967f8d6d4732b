import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWAITING_CREDENTIALS_PLACEHOLDER } from '../../functions/adapters/secrets-manager-credentials.js';
import { type DynamoEndpoint, startDynalite } from '../support/dynalite-server.js';
import {
  type FakeSecretsManager,
  startFakeSecretsManager,
} from '../support/fake-secrets-manager.js';
import { cli, lines } from './support.js';

/**
 * After the first deploy, `status --secrets` tells which portals still await credentials, read
 * the way the functions read them (naming convention, validation), without printing a value.
 */

let secrets: FakeSecretsManager;
let dynamo: DynamoEndpoint;

beforeAll(async () => {
  [secrets, dynamo] = await Promise.all([startFakeSecretsManager(), startDynalite()]);
});

afterAll(async () => {
  await Promise.all([secrets?.stop(), dynamo?.stop()]);
});

describe('membership-sync status --secrets', () => {
  it('reports each portal ready, awaiting credentials or unreadable, and no secret value', async () => {
    // Prepare
    const code = 'SENTINELcode4f2a';
    secrets.createSecret('sync/ready', {
      type: 'webhook',
      webhookUrl: `https://ready.bitrix24.com/rest/1/${code}/`,
    });
    secrets.createSecret('sync/placeholder', AWAITING_CREDENTIALS_PLACEHOLDER);
    secrets.createSecret('sync/broken', { type: 'webhook', webhookUrl: `http://x/${code}` });
    const portal = (id: string) => ({ id, url: `https://${id}.bitrix24.com`, chats: [1] });
    const dir = mkdtempSync(join(tmpdir(), 'cli-secrets-'));
    const config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        portals: ['ready', 'placeholder', 'absent', 'broken'].map(portal),
        secrets: { prefix: 'sync/' },
      }),
    );
    const table = await dynamo.createSnapshotTable('deployed');
    const args = [
      'status',
      '--config',
      config,
      '--secrets',
      '--secrets-manager-endpoint',
      secrets.endpoint,
      '--dynamodb-endpoint',
      dynamo.endpoint,
      '--table',
      table,
    ];

    // Act
    const [text, json] = await Promise.all([cli(...args), cli(...args, '--json')]);

    // Assess
    expect(text.code).toBe(0);
    expect(lines(text.stdout).slice(0, 4)).toEqual([
      'ready: credentials ready (sync/ready)',
      'placeholder: awaiting credentials (sync/placeholder: holds the placeholder)',
      'absent: awaiting credentials (sync/absent: no secret or no value yet)',
      expect.stringMatching(/^broken: credentials unreadable: .*webhookUrl: must be an https URL/),
    ]);
    expect(lines(json.stdout).map((l) => JSON.parse(l))).toEqual([
      { portalId: 'ready', secretId: 'sync/ready', credentials: 'ready' },
      {
        portalId: 'placeholder',
        secretId: 'sync/placeholder',
        credentials: 'awaiting',
        reason: 'placeholder',
      },
      { portalId: 'absent', secretId: 'sync/absent', credentials: 'awaiting', reason: 'not_found' },
      expect.objectContaining({ portalId: 'broken', credentials: 'unreadable' }),
    ]);
    expect(`${text.stdout}${text.stderr}${json.stdout}${json.stderr}`).not.toContain(code);
  });

  it('needs --config to know the secrets', async () => {
    const result = await cli('status', '--portal', 'acme', '--secrets');
    expect(result.code).toBe(2);
    expect(lines(result.stderr)).toEqual([
      'membership-sync: --secrets needs --config FILE (it names the secrets)',
    ]);
  });
});

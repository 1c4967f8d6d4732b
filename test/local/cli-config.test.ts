import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveRunConfig } from '../../local/cli/resolve-run-config.js';

/** `--config FILE` with webhook URLs from `BITRIX24_WEBHOOK_<PORTAL_ID>`. */

const dir = mkdtempSync(join(tmpdir(), 'local-config-'));
const file = join(dir, 'config.json');
writeFileSync(
  file,
  JSON.stringify({
    portals: [
      { id: 'acme-eu', url: 'https://acme.bitrix24.eu', secret: { name: 'x' }, chats: [2] },
    ],
  }),
);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('resolveRunConfig --config', () => {
  it('takes the portal webhook from BITRIX24_WEBHOOK_<ID> (upper case, - → _)', async () => {
    const run = await resolveRunConfig(
      { config: file },
      { BITRIX24_WEBHOOK_ACME_EU: 'https://acme.bitrix24.eu/rest/1/code1234' },
    );
    expect(run.credentials.get('acme-eu')).toEqual({
      kind: 'webhook',
      webhookUrl: 'https://acme.bitrix24.eu/rest/1/code1234/',
    });
  });

  it.each([
    ['BITRIX24_WEBHOOK_ACME_EU', 'https://other.bitrix24.eu/rest/1/secretcode9/'],
    ['BITRIX24_WEBHOOK_URL', 'https://acme.bitrix24.com/rest/1/secretcode9/'],
  ])('refuses a webhook of another portal in %s, naming it without the code', async (name, url) => {
    const attempt = resolveRunConfig({ config: file }, { [name]: url });
    await expect(attempt).rejects.toThrow(
      new RegExp(`^${name}: the webhook is not on portal "acme-eu" \\(https://acme.bitrix24.eu\\)`),
    );
    await expect(attempt).rejects.not.toThrow(/secretcode9/);
  });
});

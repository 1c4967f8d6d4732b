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

describe('resolveRunConfig --reads / --reconcile-minutes', () => {
  const webhook = { webhook: 'https://acme.bitrix24.eu/rest/1/code1234/', chat: [2] };

  it('reads hinted with a 60-minute reconcile period by default', async () => {
    const run = await resolveRunConfig(webhook);
    expect(run.config.reads).toEqual({
      mode: 'hinted',
      reconcileMinutes: 60,
      learnedReconcile: true,
    });
  });

  it('overrides every portal with the flags', async () => {
    const full = await resolveRunConfig({ ...webhook, reads: 'full' });
    expect(full.config.reads).toEqual({ mode: 'full' });
    const hinted = await resolveRunConfig({ ...webhook, reconcileMinutes: 30 });
    expect(hinted.config.reads).toEqual({
      mode: 'hinted',
      reconcileMinutes: 30,
      learnedReconcile: true,
    });
    expect(hinted.config.portals.every((p) => p.reads === undefined)).toBe(true);
  });

  it('refuses a reconcile period with full reads, an unknown mode and a period over 7 days', async () => {
    await expect(
      resolveRunConfig({ ...webhook, reads: 'full', reconcileMinutes: 5 }),
    ).rejects.toThrow('--reconcile-minutes applies to --reads hinted only');
    await expect(resolveRunConfig({ ...webhook, reads: 'some' })).rejects.toThrow(
      '--reads: "some" is not hinted or full',
    );
    await expect(resolveRunConfig({ ...webhook, reconcileMinutes: 20_000 })).rejects.toThrow(
      /reconcileMinutes: at most 7 days/,
    );
  });
});

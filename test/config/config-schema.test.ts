import { describe, expect, it } from 'vitest';
import {
  type Config,
  ConfigError,
  type PortalConfig,
  parseConfig,
  portalSecretId,
  rateLimitOf,
  readsOf,
} from '../../functions/config/config-schema.js';

const portal = {
  id: 'main',
  url: 'https://example.bitrix24.com',
  secret: { name: 'bitrix24/main' },
  chats: [1, 2, 3],
};

function portalAt(config: Config, index = 0): PortalConfig {
  const found = config.portals[index];
  if (!found) throw new Error(`no portal at ${index}`);
  return found;
}

function issuesOf(input: unknown): { path: string; message: string }[] {
  try {
    parseConfig(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).issues];
  }
  throw new Error('expected the config to be rejected');
}

describe('parseConfig', () => {
  it('fills defaults for schedule, breaker, topic and archive', () => {
    const config = parseConfig({ portals: [portal] });
    expect(config.schedule).toEqual({ expression: 'rate(15 minutes)', timeZone: 'UTC' });
    expect(config.breaker).toEqual({ maxRemovedShare: 0.5, minRemoved: 5 });
    expect(config.topic.kind).toBe('standard');
    expect(config.archive.enabled).toBe(false);
    expect(rateLimitOf(portalAt(config))).toEqual({ burst: 50, drainPerSecond: 2, share: 1 });
  });

  it('reads hinted with a 60-minute reconcile period unless told otherwise, per portal too', () => {
    const config = parseConfig({
      portals: [portal, { ...portal, id: 'legacy', reads: { mode: 'full' } }],
      reads: { mode: 'hinted', reconcileMinutes: 120 },
    });
    expect(readsOf(config, portalAt(config))).toEqual({
      mode: 'hinted',
      reconcileMinutes: 120,
      learnedReconcile: true,
    });
    expect(readsOf(config, portalAt(config, 1))).toEqual({ mode: 'full' });
    expect(parseConfig({ portals: [portal] }).reads).toEqual({
      mode: 'hinted',
      reconcileMinutes: 60,
      learnedReconcile: true,
    });
    expect(
      parseConfig({ portals: [portal], reads: { mode: 'hinted', learnedReconcile: false } }).reads,
    ).toEqual({ mode: 'hinted', reconcileMinutes: 60, learnedReconcile: false });
  });

  it('names a bad read mode or reconcile period', () => {
    expect(issuesOf({ portals: [portal], reads: { mode: 'sometimes' } })).toEqual([
      expect.objectContaining({ path: 'reads.mode' }),
    ]);
    expect(
      issuesOf({ portals: [{ ...portal, reads: { mode: 'hinted', reconcileMinutes: 0 } }] }),
    ).toEqual([expect.objectContaining({ path: 'portals.0.reads.reconcileMinutes' })]);
    expect(issuesOf({ portals: [portal], reads: { mode: 'full', reconcileMinutes: 60 } })).toEqual([
      expect.objectContaining({ path: 'reads' }),
    ]);
  });

  it('uses the Enterprise bucket for enterprise portals unless overridden', () => {
    const config = parseConfig({
      portals: [
        { ...portal, plan: 'enterprise' },
        { ...portal, id: 'other', plan: 'enterprise', rateLimit: { burst: 10, drainPerSecond: 1 } },
      ],
    });
    expect(rateLimitOf(portalAt(config))).toEqual({ burst: 250, drainPerSecond: 5, share: 1 });
    expect(rateLimitOf(portalAt(config, 1))).toEqual({ burst: 10, drainPerSecond: 1, share: 1 });
  });

  it("takes a share of the plan's bucket, and names a share outside (0, 1]", () => {
    const config = parseConfig({
      portals: [{ ...portal, plan: 'enterprise', rateLimit: { share: 0.5 } }],
    });
    expect(rateLimitOf(portalAt(config))).toEqual({ burst: 250, drainPerSecond: 5, share: 0.5 });
    for (const share of [0, 1.5]) {
      expect(issuesOf({ portals: [{ ...portal, rateLimit: { share } }] })).toEqual([
        expect.objectContaining({ path: 'portals.0.rateLimit.share' }),
      ]);
    }
  });

  it('names a portal’s secret by the naming convention unless the portal names one', () => {
    const { secret: _omitted, ...withoutSecret } = portal;
    const config = parseConfig({
      portals: [withoutSecret, { ...portal, id: 'named' }],
      secrets: { prefix: 'sync/prod/' },
    });
    expect(portalSecretId(config, portalAt(config))).toBe('sync/prod/main');
    expect(portalSecretId(config, portalAt(config, 1))).toBe('bitrix24/main');
    expect(parseConfig({ portals: [withoutSecret] }).secrets.prefix).toBe('membership-sync/');
  });

  it.each([
    [
      'a prefix without the trailing slash',
      { secrets: { prefix: 'membership-sync' } },
      'secrets.prefix',
    ],
    [
      'a subscriber account that is not 12 digits',
      { topic: { subscriberAccounts: ['12345'] } },
      'topic.subscriberAccounts.0',
    ],
    [
      'a subscriber account listed twice',
      { topic: { subscriberAccounts: ['222222222222', '222222222222'] } },
      'topic.subscriberAccounts',
    ],
  ])('rejects %s, naming the field', (_case, extra, path) => {
    expect(issuesOf({ portals: [portal], ...extra })).toEqual([expect.objectContaining({ path })]);
  });

  it('lets no other account subscribe by default', () => {
    expect(parseConfig({ portals: [portal] }).topic.subscriberAccounts).toEqual([]);
  });

  it('names each chat ID that is not a positive integer', () => {
    const paths = issuesOf({ portals: [{ ...portal, chats: [1, 0, 2.5, 'x'] }] }).map(
      (i) => i.path,
    );
    expect(paths).toEqual(['portals.0.chats.1', 'portals.0.chats.2', 'portals.0.chats.3']);
  });

  it.each(['every 5 minutes', 'rate(5 minute)', 'rate(1 minutes)', 'cron(0 2 * * *)'])(
    'rejects the schedule expression %j',
    (expression) => {
      expect(issuesOf({ portals: [portal], schedule: { expression } })).toEqual([
        expect.objectContaining({ path: 'schedule.expression' }),
      ]);
    },
  );

  it.each(['rate(1 minute)', 'rate(15 minutes)', 'cron(0 2 * * ? *)'])(
    'accepts %j',
    (expression) => {
      expect(parseConfig({ portals: [portal], schedule: { expression } }).schedule.expression).toBe(
        expression,
      );
    },
  );

  it('rejects an unknown time zone', () => {
    expect(issuesOf({ portals: [portal], schedule: { timeZone: 'Mars/Olympus' } })).toEqual([
      expect.objectContaining({ path: 'schedule.timeZone' }),
    ]);
  });

  it('rejects a webhook URL in place of the portal base URL, without echoing it', () => {
    const issues = issuesOf({
      portals: [{ ...portal, url: 'https://example.bitrix24.com/rest/1/s3cr3tcode/' }],
    });
    expect(issues.map((i) => i.path)).toEqual(['portals.0.url']);
    expect(JSON.stringify(issues)).not.toContain('s3cr3tcode');
  });

  it('rejects duplicate portal ids and unknown keys', () => {
    const paths = issuesOf({ portals: [portal, portal], extra: true }).map((i) => i.path);
    expect(paths).toContain('portals');
    expect(paths).toContain('(root)');
  });
});

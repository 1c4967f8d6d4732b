import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it, vi } from 'vitest';
import {
  captureLogger,
  captureMetrics,
  secretStrings,
  sqsEvent,
  sqsRecord,
  useWorld,
  workItem,
} from './support/harness.js';

/**
 * docs/design.md, guarantee 7: webhook codes, OAuth tokens (old and refreshed) and the client secret never
 * appear in log lines (the real Powertools logger's stdout and the raw logger calls), metrics,
 * events, stored snapshot items or errors — through a run with faults, auth errors and a refresh.
 */

const world = useWorld();

describe('secrets stay secret', () => {
  it('keeps webhook codes, tokens and the client secret out of logs, metrics, events, snapshots and errors', async () => {
    // Prepare: a webhook portal, an OAuth portal, and a portal whose webhook code is wrong
    const chatId = world().sim.admin.createChat({ title: 'Leak check', memberIds: [1, 2, 3] }).id;
    const wrongCode = 'wrongcode1f2e3d4c5b6a';
    const deployment = await world().deploy({
      portals: [
        { id: 'hook', chats: [chatId] },
        { id: 'oauth', chats: [chatId], secret: { kind: 'oauth' } },
        {
          id: 'rejected',
          chats: [chatId],
          secret: { kind: 'webhook', webhookUrl: `${world().sim.baseUrl}/rest/1/${wrongCode}/` },
        },
      ],
    });
    const queueArn = deployment.workQueueArn;
    const item = (portalId: string, tick: number) =>
      sqsRecord(workItem(portalId, [chatId], tick), { queueArn, messageId: `${portalId}-${tick}` });
    const stdout: string[] = [];
    const rawLogger = captureLogger();
    const metrics = captureMetrics();
    const savedLevel = process.env.POWERTOOLS_LOG_LEVEL;
    process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
    const capture = (chunk: unknown) => {
      stdout.push(String(chunk));
      return true;
    };
    const spies = [
      vi.spyOn(process.stdout, 'write').mockImplementation(capture),
      vi.spyOn(process.stderr, 'write').mockImplementation(capture),
    ];

    // Act
    try {
      // The real Powertools logger (JSON on stdout) ...
      const powertools = deployment.worker({ logger: undefined, metrics: metrics.metrics });
      // ... and a raw one that sees the product's log calls before any redaction.
      const raw = deployment.worker({ logger: rawLogger });
      for (const worker of [powertools, raw]) {
        const tick = worker === powertools ? 1 : 10;
        await worker(sqsEvent([item('hook', tick), item('oauth', tick), item('rejected', tick)]));
        world().sim.faults.inject({ kind: 'html', status: 502, method: 'batch', times: 2 });
        world().sim.faults.inject({ kind: 'expire-tokens' });
        world().sim.admin.addMembers(chatId, [tick === 1 ? 4 : 5]);
        await worker(
          sqsEvent([item('hook', tick + 1), item('oauth', tick + 1), item('rejected', tick + 1)]),
        );
        await worker(
          sqsEvent([item('oauth', tick + 2), item('hook', tick + 2), item('rejected', tick + 2)]),
        );
        world().sim.faults.clear();
      }
      // A work item naming a portal the config lacks is refused with an error log line.
      await deployment.worker({ logger: rawLogger })(sqsEvent([item('nowhere', 1)]));
    } finally {
      for (const spy of spies) spy.mockRestore();
      if (savedLevel === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
      else process.env.POWERTOOLS_LOG_LEVEL = savedLevel;
    }
    const events = await deployment.events();
    const items = await world().dynamo.client.send(
      new ScanCommand({ TableName: deployment.tableName }),
    );

    // Assess: the scans have something to scan
    const oauthSecret = world().secrets.version(deployment.secretArns.oauth ?? '');
    const refreshed = secretStrings(oauthSecret?.secretString ?? '');
    expect(oauthSecret?.stages).toContain('AWSCURRENT');
    expect(refreshed.some((s) => !deployment.secretValues.includes(s))).toBe(true);
    expect(stdout.join('')).toContain('"message":"Bitrix24 request"');
    expect(stdout.join('')).toContain('work item failed; returned to the queue');
    expect(rawLogger.lines.join('\n')).toContain('INVALID_CREDENTIALS');
    expect(metrics.lines.join('')).toContain('"MembersJoined"');
    expect(events.length).toBeGreaterThanOrEqual(4);
    expect(items.Items?.length).toBeGreaterThanOrEqual(2);

    // Assess: no secret anywhere
    const secrets = [
      ...new Set([
        ...deployment.secretValues,
        ...refreshed,
        wrongCode,
        world().sim.oauth.clientSecret,
      ]),
    ];
    expect(secrets.length).toBeGreaterThanOrEqual(6);
    const haystacks: Record<string, string> = {
      'Powertools stdout/stderr': stdout.join(''),
      'raw log calls': rawLogger.lines.join('\n'),
      metrics: metrics.lines.join(''),
      events: events.map((e) => `${e.raw} ${JSON.stringify(e.attributes)}`).join('\n'),
      'snapshot items': JSON.stringify(items.Items),
    };
    for (const [where, text] of Object.entries(haystacks)) {
      for (const secret of secrets) {
        expect(text.includes(secret), `${where} contains a secret`).toBe(false);
      }
    }
  });
});

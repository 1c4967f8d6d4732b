import { describe, expect, it } from 'vitest';
import { createBitrix24Client } from '../../functions/bitrix24/bitrix24-client.js';
import { Bitrix24ConfigurationError } from '../../functions/bitrix24/errors.js';
import { createBitrix24MemberReader } from '../../functions/bitrix24/member-reader.js';
import { chatUserListSchema } from '../../functions/bitrix24/schemas.js';
import {
  captureLogger,
  caught,
  errorText,
  memoryOAuthStore,
  webhookStore,
} from './support/fixtures.js';
import { useSimulator } from './support/simulator.js';

const BAD_CODE = 'leakcanarywebhookcode42';

describe('secrets never leak', () => {
  const sim = useSimulator({ seed: 'demo' });

  it('keeps webhook codes, tokens and the client secret out of errors, causes, stacks and logs', async () => {
    const logger = captureLogger();
    const texts: string[] = [];
    const code = /\/rest\/\d+\/([^/]+)\//.exec(sim().webhookUrl)?.[1] ?? '';
    expect(code.length).toBeGreaterThan(5);
    const fast = { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 };
    const webhook = (url: string, timeoutMs = 60_000) =>
      createBitrix24Client({
        credentials: webhookStore(url),
        rateLimit: { burst: 1_000, drainPerSecond: 1_000 },
        retry: fast,
        timeoutMs,
        logger,
      });
    const list = (client: ReturnType<typeof webhook>) =>
      caught(client.call('im.chat.user.list', { CHAT_ID: 2 }, chatUserListSchema));

    // Auth failure with a wrong (distinctive) webhook code.
    const badUrl = sim().webhookUrl.replace(`/${code}/`, `/${BAD_CODE}/`);
    texts.push(errorText(await list(webhook(badUrl))));
    // Through the member reader too (auth errors are thrown, not turned into reads).
    texts.push(
      errorText(await caught(createBitrix24MemberReader(webhook(badUrl)).readMembers([2]))),
    );
    // 5xx with an HTML page, a JSON 500, a timeout and a dropped connection, all retried and logged.
    const good = webhook(sim().webhookUrl, 150);
    sim().faults.inject({ method: 'im.chat.user.list', kind: 'html', status: 502, times: 2 });
    texts.push(errorText(await list(good)));
    sim().faults.inject({
      method: 'im.chat.user.list',
      kind: 'status',
      status: 500,
      error: 'INTERNAL_SERVER_ERROR',
      description: `echo ${code}`,
      times: 2,
    });
    texts.push(errorText(await list(good)));
    sim().faults.inject({ method: 'im.chat.user.list', kind: 'slow', delayMs: 500, times: 2 });
    texts.push(errorText(await list(good)));
    sim().faults.inject({ method: 'im.chat.user.list', kind: 'drop-connection', times: 2 });
    texts.push(errorText(await list(good)));
    // Whole-request failures inside a member read become `failed` reads with messages.
    sim().faults.inject({ method: 'batch', kind: 'slow', delayMs: 500, times: 2 });
    const reads = await createBitrix24MemberReader(good).readMembers([2]);
    texts.push(JSON.stringify([...reads.values()]));
    // Plain HTTP to a non-loopback host is refused before anything is sent.
    const insecure = await list(webhook(`http://portal.example.com/rest/1/${BAD_CODE}/`));
    expect(insecure).toBeInstanceOf(Bitrix24ConfigurationError);
    texts.push(errorText(insecure));

    // OAuth: a refresh that works, then one whose refresh token was revoked.
    const pair = sim().oauth.issueTokens(1);
    const oauth = memoryOAuthStore({
      kind: 'oauth',
      clientId: sim().oauth.clientId,
      clientSecret: sim().oauth.clientSecret,
      accessToken: pair.accessToken,
      refreshToken: pair.refreshToken,
      clientEndpoint: `${sim().baseUrl}/rest/`,
      tokenEndpoint: sim().oauth.tokenEndpoint,
    });
    const app = createBitrix24Client({ credentials: oauth.store, retry: fast, logger });
    sim().faults.inject({ kind: 'expire-tokens' });
    await app.call('im.chat.user.list', { CHAT_ID: 2 }, chatUserListSchema);
    const refreshed = oauth.current();
    expect(refreshed.accessToken).not.toBe(pair.accessToken);
    sim().faults.inject({ kind: 'expire-tokens', times: 2 });
    texts.push(
      errorText(await caught(app.call('im.chat.user.list', { CHAT_ID: 2 }, chatUserListSchema))),
    );
    oauth.replace({ refreshToken: `${refreshed.refreshToken}x` });
    sim().faults.inject({ kind: 'expire-tokens' });
    const revoked = createBitrix24Client({ credentials: oauth.store, retry: fast, logger });
    texts.push(
      errorText(
        await caught(revoked.call('im.chat.user.list', { CHAT_ID: 2 }, chatUserListSchema)),
      ),
    );

    const secrets = [
      code,
      BAD_CODE,
      sim().oauth.clientSecret,
      pair.accessToken,
      pair.refreshToken,
      refreshed.accessToken,
      refreshed.refreshToken,
      oauth.current().accessToken,
    ];
    const everything = [...texts, ...logger.lines].join('\n');
    expect(logger.lines.length).toBeGreaterThan(4);
    for (const secret of secrets) expect(everything).not.toContain(secret);
    // What remains is still useful for diagnosis.
    expect(everything).toContain('INVALID_CREDENTIALS');
    expect(everything).toContain('TIMEOUT');
    expect(everything).toContain('NETWORK_ERROR');
    expect(everything).toContain('invalid_grant');
  });
});

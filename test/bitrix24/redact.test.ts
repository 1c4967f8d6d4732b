import { describe, expect, it } from 'vitest';
import { createRedactor, redact, sanitizeError } from '../../functions/bitrix24/redact.js';

describe('redaction', () => {
  it('hides the webhook code in a URL path', () => {
    expect(redact('POST https://p.bitrix24.com/rest/17/s3cr3tc0de/im.chat.user.list failed')).toBe(
      'POST https://p.bitrix24.com/rest/17/***/im.chat.user.list failed',
    );
    expect(redact('http://127.0.0.1:4000/rest/1/abc')).toBe('http://127.0.0.1:4000/rest/1/***');
  });

  it('leaves OAuth method paths alone', () => {
    expect(redact('https://p.bitrix24.com/rest/im.chat.user.list')).toBe(
      'https://p.bitrix24.com/rest/im.chat.user.list',
    );
  });

  it('hides token and secret values in queries and forms', () => {
    expect(
      redact(
        'https://p/rest/batch?auth=tok1&x=1&access_token=tok2 grant_type=refresh_token&client_secret=cs&refresh_token=rt',
      ),
    ).toBe(
      'https://p/rest/batch?auth=***&x=1&access_token=*** grant_type=refresh_token&client_secret=***&refresh_token=***',
    );
  });

  it('hides token values in JSON and bearer headers', () => {
    expect(redact('{"auth":"tok","refresh_token":"r\\"t","LIMIT":5}')).toBe(
      '{"auth":"***","refresh_token":"***","LIMIT":5}',
    );
    expect(redact('Authorization: Bearer abc.def')).toBe('Authorization: Bearer ***');
  });

  it('replaces known secret values wherever they appear', () => {
    const scrub = createRedactor(() => ['distinctive-token-42', 'abc']);
    expect(scrub('token distinctive-token-42 is unknown; abc stays')).toBe(
      'token *** is unknown; abc stays',
    );
  });

  it('copies an error chain with redacted messages and stacks', () => {
    const inner = new Error('connect to /rest/1/c0de/ failed');
    const outer = new Error('Request timed out: POST https://x/rest/1/c0de/batch', {
      cause: inner,
    });
    outer.name = 'TimeoutError';
    const copy = sanitizeError(outer);
    expect(copy.name).toBe('TimeoutError');
    expect(copy.message).not.toContain('c0de');
    expect(copy.stack).not.toContain('c0de');
    expect((copy.cause as Error).message).toBe('connect to /rest/1/***/ failed');
  });
});

import { describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.js';
import { cli, lines } from './support.js';

/** A flag the local environment cannot use is named in one line, exit 2, no stack trace. */
describe.concurrent('membership-sync local environment flags', () => {
  it('names --dynamodb-endpoint when it is not a URL or nothing answers there', async () => {
    const port = await freePort();
    const [invalid, closed] = await Promise.all([
      cli('status', '--portal', 'p', '--dynamodb-endpoint', 'not-a-url'),
      cli('status', '--portal', 'p', '--dynamodb-endpoint', `http://127.0.0.1:${port}`),
    ]);
    for (const result of [invalid, closed]) {
      expect(result.code).toBe(2);
      expect(lines(result.stderr)).toEqual([
        expect.stringMatching(/^membership-sync: --dynamodb-endpoint \S+: \S/),
      ]);
    }
  });

  it('names --ca-file when it cannot be read', async () => {
    const result = await cli(
      'sync',
      '--webhook',
      'https://a.bitrix24.com/rest/1/x/',
      '--chat',
      '2',
      '--ca-file',
      '/nonexistent/ca.pem',
      '--dynamodb-endpoint',
      'http://127.0.0.1:1',
    );
    expect(result.code).toBe(2);
    expect(lines(result.stderr)).toEqual([
      expect.stringMatching(/^membership-sync: --ca-file \/nonexistent\/ca.pem: ENOENT/),
    ]);
  });
});

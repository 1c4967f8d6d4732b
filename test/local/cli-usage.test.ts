import { describe, expect, it } from 'vitest';
import { cli } from './support.js';

/** Usage mistakes exit 2, like the CLI's own usage errors; 1 means "some chat did not sync". */
describe.concurrent('membership-sync usage errors', () => {
  it.each([
    ['a missing required option', ['watch', '--webhook', 'https://a.bitrix24.com/rest/1/x/']],
    ['an invalid option value', ['release', '--chat', 'x', '--portal', 'a']],
    ['an unknown option', ['sync', '--chats', '2']],
    ['an unknown command', ['syncc']],
  ])('exits 2 on %s', async (_what, args) => {
    const result = await cli(...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: /);
  });

  it('exits 0 for --help', async () => {
    const result = await cli('sync', '--help');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('--webhook');
  });
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { createRandom } from '../../local/simulator/seeded-random.js';
import { generateHistory, type Observation } from '../support/event-history.js';
import { cli } from './support.js';

/** Debian's Chromium (installed by .ci/run); the test never downloads a browser. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Independent of the report's code: runs of consecutive observations a user is in. */
function stretchesIn(observations: readonly Observation[]): number {
  const inPrevious = new Set<number>();
  let count = 0;
  for (const { members } of observations) {
    for (const id of members) if (!inPrevious.has(id)) count += 1;
    inPrevious.clear();
    for (const id of members) inPrevious.add(id);
  }
  return count;
}

const dir = mkdtempSync(join(tmpdir(), 'report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('membership-sync report', () => {
  it('writes a self-contained page that a browser renders with one bar per member stretch, and the same facts as a table', async () => {
    // Prepare: a chat with a baseline, joins and leaves
    const { events, truth } = generateHistory(createRandom(11), { chats: 1, steps: 14 });
    const file = join(dir, 'events.jsonl');
    writeFileSync(file, events.map((e) => `${JSON.stringify(e)}\n`).join(''));
    const last =
      events
        .map((e) => e.time)
        .sort()
        .at(-1) ?? '';
    const out = join(dir, 'chat-1.html');
    const expected = stretchesIn(truth.get(1) ?? []);

    // Act
    const run = await cli('report', '--from', file, '--chat', '1', '--out', out, '--to-time', last);

    // Assess: rendered by a real browser, offline
    expect(run.code, run.stderr).toBe(0);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      const requests: string[] = [];
      page.on('request', (request) => requests.push(request.url()));
      await page.goto(pathToFileURL(out).href);
      const bars = page.locator('#timeline rect.stretch');
      expect(expected).toBeGreaterThan(3);
      expect(await bars.count()).toBe(expected);
      // Every bar is drawn with a width, inside the picture.
      const boxes = await bars.evaluateAll((rects) =>
        rects.map(
          (r) =>
            (r as unknown as { getBoundingClientRect(): { width: number } }).getBoundingClientRect()
              .width,
        ),
      );
      expect(boxes.every((w) => w > 0)).toBe(true);
      expect(await page.locator('#stretches tbody tr').count()).toBe(expected);
      expect(await page.locator('#count polyline').count()).toBe(1);
      expect(requests).toEqual([pathToFileURL(out).href]);
      if (process.env.REPORT_SCREENSHOT) {
        await page.screenshot({ path: process.env.REPORT_SCREENSHOT, fullPage: true });
      }
    } finally {
      await browser.close();
    }
    // Nothing to fetch at view time: no script, no link, no source, no stylesheet URL.
    expect(readFileSync(out, 'utf8')).not.toMatch(/<script|\ssrc=|\shref=|url\(/);
  });
});

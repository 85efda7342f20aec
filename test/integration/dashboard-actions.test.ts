/**
 * The dashboard's task list and actions, end to end in Chromium: list by
 * state with paging, search by id, retry a failed task, cancel a running
 * one, and an action refused without the token.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';

import type { Dashboard, Processor } from '../../src/index.js';
import { haveBrowser, launchChromium, saveScreenshot } from '../helpers/browser.js';
import { nextEvent, nextEvents, useProcessor } from '../helpers/index.js';

const make = useProcessor({ workers: 2, maxRetries: 0 });
let dashboard: Dashboard | undefined;
afterEach(async () => {
  await dashboard?.close();
  dashboard = undefined;
});

const TOKEN = 'a-token-for-the-browser-test';

/**
 * 25 done tasks, a failed one whose cause the test can fix, and one running
 * until cancelled. `ended`: the done tasks in the order they ended, which is
 * the order they are listed in (two threads may end them out of submission order).
 */
async function someWork(p: Processor): Promise<{ fixed: string; ended: string[] }> {
  const fixed = join(mkdtempSync(join(tmpdir(), 'troupe-dash-')), 'fixed');
  const done = nextEvents(p.events, 'task.done', 25);
  for (let n = 0; n < 25; n++) p.submit({ id: `t${String(n).padStart(2, '0')}`, payload: n });
  const ended = (await done).map((event) => event.id);
  const started = nextEvent(p.events, 'task.started', (event) => event.id === 'running');
  p.submit({ id: 'running', handler: 'waitForAbort', payload: null });
  p.submit({ id: 'broken', handler: 'failsUntilFixed', payload: { fixed } });
  await Promise.all([started, p.result('broken')]);
  return { fixed, ended };
}

/** Waits until the element `selector` (in the page) has a text that includes `expected`. */
function shows(page: Page, selector: string, expected: string) {
  // Given as source text: this file is compiled without the DOM's types.
  return page.waitForFunction(`document.querySelector(${JSON.stringify(selector)})?.textContent?.includes(${JSON.stringify(expected)})`);
}

const listed = (page: Page) => page.locator('#tasks tr td:first-child').allTextContents();

describe.skipIf(!haveBrowser)('dashboard actions in Chromium', () => {
  it('lists by state a page at a time, searches, retries a failed task and cancels a running one', { timeout: 60_000 }, async () => {
    const browser = await launchChromium();
    try {
      const p = make();
      const { fixed, ended } = await someWork(p);
      dashboard = await p.serveDashboard({ interval: 100, token: TOKEN });
      const page = await browser.newPage();
      await page.goto(`${dashboard.url}#token=${TOKEN}`);
      // The token leaves the URL, and stays for the session.
      await shows(page, '#auth', 'actions enabled');
      expect(page.url()).toBe(dashboard.url);
      expect(await page.evaluate(`sessionStorage.getItem('troupe-token')`)).toBe(TOKEN);
      // Failed first; then done, 20 a page.
      await shows(page, '#tasks', 'broken');
      await page.selectOption('#list-state', 'done');
      await shows(page, '#list-size', '25 done');
      expect(await listed(page)).toEqual(ended.slice(0, 20));
      await page.click('#next-page');
      await shows(page, '#list-size', 'page 2');
      expect(await listed(page)).toEqual(ended.slice(20));
      expect(await page.isDisabled('#next-page')).toBe(true);
      // Search: the running task, and cancel it.
      await page.fill('#search', 'running');
      await page.press('#search', 'Enter');
      await shows(page, '#detail', 'processing on worker');
      await page.click('#detail button[data-action="cancel"]');
      expect(await p.result('running')).toMatchObject({ status: 'cancelled', reason: 'cancelled from the dashboard' });
      await shows(page, '#detail', 'cancelled: cancelled from the dashboard');
      // The failed task: its error and payload; fixed, then retried, it ends done.
      await page.selectOption('#list-state', 'failed');
      await page.click('#tasks button.task[data-id="broken"]');
      await shows(page, '#detail', 'Error: Not fixed yet');
      expect(await page.textContent('#detail')).toContain(fixed);
      writeFileSync(fixed, '');
      const done = nextEvent(p.events, 'task.done', (event) => event.id === 'broken');
      await page.click('#detail button[data-action="retry"]');
      expect((await done).result).toMatchObject({ status: 'done', value: 'fixed' });
      await page.fill('#search', 'broken');
      await page.press('#search', 'Enter');
      await shows(page, '#detail', '"fixed"');
      await saveScreenshot(page, 'dashboard-actions');
    } finally {
      await browser.close();
    }
  });

  it('refuses an action without the token, and changes nothing', { timeout: 60_000 }, async () => {
    const browser = await launchChromium();
    try {
      const p = make();
      await someWork(p);
      // Served with a token, the page holds a wrong one when Retry is pressed.
      dashboard = await p.serveDashboard({ interval: 100, token: TOKEN });
      const page = await browser.newPage();
      await page.goto(`${dashboard.url}#token=${TOKEN}`);
      await page.click('#tasks button.task[data-id="broken"]');
      await shows(page, '#detail', 'Retry');
      await page.evaluate(`sessionStorage.setItem('troupe-token', 'wrong')`);
      await page.click('#detail button[data-action="retry"]');
      await shows(page, '#action-said', 'refused');
      await shows(page, '#auth', 'refused the token');
      expect(p.getTask('broken')?.state).toBe('failed');
      // Served on loopback without a token, the page shows tasks but offers no action, and the API refuses one.
      await dashboard.close();
      dashboard = await p.serveDashboard({ interval: 100 });
      const open = await browser.newPage();
      await open.goto(dashboard.url);
      await shows(open, '#tasks', 'broken');
      await open.click('#tasks button.task[data-id="broken"]');
      await shows(open, '#detail', 'Cancel and Retry need the token');
      expect(await open.locator('#detail button[data-action]').count()).toBe(0);
      const status = await open.evaluate(`fetch('/api/tasks/broken/retry', { method: 'POST' }).then((response) => response.status)`);
      expect(status).toBe(403);
      expect(p.getTask('broken')?.state).toBe('failed');
      expect(p.getTask('running')?.state).toBe('processing');
      p.cancel('running');
    } finally {
      await browser.close();
    }
  });
});

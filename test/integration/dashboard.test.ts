/**
 * The dashboard, over HTTP and end to end in a real browser (Debian's
 * Chromium through playwright-core). Without a browser the browser test is
 * skipped with a message, except in CI, where it must run.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { afterEach, describe, expect, it } from 'vitest';

import { createProcessor, type Dashboard, natsBroker, type Processor } from '../../src/index.js';
import { natsAvailable, removeStream, uniqueStream } from '../distributed/nats.js';
import { handlers, nextEvents, settle, useProcessor } from '../helpers/index.js';

const CHROMIUM = '/usr/bin/chromium';
const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser && process.env['CI']) throw new Error(`CI is set but ${CHROMIUM} is missing: .ci/run installs it with apt-get`);
if (!haveBrowser) console.warn(`dashboard browser test skipped: no browser at ${CHROMIUM} (apt-get install chromium)`);

const make = useProcessor({ workers: 2 });
let dashboard: Dashboard | undefined;
afterEach(async () => {
  await dashboard?.close();
  dashboard = undefined;
});

async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** Holds both threads with tasks that run until cancelled; resolves once both run. */
async function blockBoth(p: Processor): Promise<void> {
  const ids = ['blocker-0', 'blocker-1'];
  const started = nextEvents(p.events, 'task.started', 2);
  for (const id of ids) p.submit({ id, handler: 'waitForAbort', payload: null });
  await started;
}

async function serve(p: Processor): Promise<Dashboard> {
  dashboard = await p.serveDashboard({ interval: 100 });
  return dashboard;
}

describe('dashboard over HTTP', () => {
  it('listens on loopback by default, and serves the page, uPlot, a task, Prometheus text', async () => {
    const p = make();
    const { url } = await serve(p);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const id = p.submit({ id: 'x', payload: 1 });
    await p.result(id);
    expect(await (await fetch(url)).text()).toContain('<title>Troupe</title>');
    expect((await fetch(`${url}uplot.js`)).status).toBe(200);
    const task = (await (await fetch(`${url}task/x`)).json()) as { timeline: Array<{ state: string }> };
    expect(task.timeline.map((entry) => entry.state)).toEqual(['queued', 'processing', 'done']);
    expect((await fetch(`${url}task/nope`)).status).toBe(404);
    expect(await (await fetch(`${url}metrics`)).text()).toContain('troupe_tasks_finished_total{status="done"} 1');
    // A queued task's view says why it has not started.
    await blockBoth(p);
    p.submit({ id: 'behind', payload: 1 });
    await settle();
    const behind = (await (await fetch(`${url}task/behind`)).json()) as { task: { state: string; waitingFor: string; workerId: number } };
    expect(behind.task).toMatchObject({ state: 'queued', waitingFor: 'slot', workerId: expect.any(Number) });
    for (const blocker of ['blocker-0', 'blocker-1']) p.cancel(blocker);
  });
});

describe.skipIf(!haveBrowser)('dashboard in Chromium', () => {
  it('loads, counts as tasks run, and shows a failed task’s error when clicked', { timeout: 60_000 }, async () => {
    const browser = await launchChromium();
    try {
      const p = make({ maxRetries: 0 });
      await p.ready;
      const { url } = await serve(p);
      const page = await browser.newPage();
      await page.goto(url);
      // Predicates run in the page: given as source text, since this file is compiled without the DOM's types.
      const shows = (id: string, expected: string) =>
        page.waitForFunction(`document.getElementById(${JSON.stringify(id)})?.textContent?.includes(${JSON.stringify(expected)})`);
      await shows('state', 'running');
      const ids = Array.from({ length: 20 }, (_, i) => p.submit({ id: `t${i}`, handler: 'sleep', payload: { ms: 10 } }));
      p.submit({ id: 'broken', handler: 'alwaysFail', payload: null });
      await Promise.all([...ids, 'broken'].map((id) => p.result(id)));
      await shows('count-done', '20');
      await shows('count-failed', '1');
      await page.click('button.failure[data-id="broken"]');
      await shows('detail', 'Always fails');
      expect(await page.textContent('#detail')).toMatch(/broken[\s\S]*Error: Always fails[\s\S]*processing[\s\S]*failed/);
      // A task in a thread's window: its worker's row names it, and its view says why it waits.
      await blockBoth(p);
      p.submit({ id: 'behind', payload: 1 });
      await page.waitForSelector('button.task[data-id="behind"]');
      await page.click('button.task[data-id="behind"]');
      await shows('detail', "queued: in a thread's window");
      await page.click('button.task[data-id="blocker-0"]');
      await shows('detail', 'processing on worker');
      for (const blocker of ['blocker-0', 'blocker-1']) p.cancel(blocker);
      const shots = fileURLToPath(new URL('../../test-results/', import.meta.url));
      mkdirSync(shots, { recursive: true });
      await page.screenshot({ path: `${shots}dashboard.png`, fullPage: true });
    } finally {
      await browser.close();
    }
  });
});

const natsUp = await natsAvailable();

describe.skipIf(!haveBrowser || !natsUp)('dashboard of a node, in Chromium', () => {
  it('shows the cluster: the backlog and every node with its counts', { timeout: 60_000 }, async () => {
    const browser = await launchChromium();
    const stream = uniqueStream('dashboard');
    const broker = natsBroker({ stream, storage: 'memory' });
    const nodes = [createProcessor({ handlers, workers: 1, broker }), createProcessor({ handlers, workers: 1, broker })];
    try {
      await Promise.all(nodes.map((node) => node.ready));
      const { url } = await serve(nodes[0] as Processor);
      const page = await browser.newPage();
      await page.goto(url);
      const ids = Array.from({ length: 10 }, (_, i) =>
        (nodes[1] as Processor).submit({ id: `c${i}`, handler: 'sleep', payload: { ms: 5 } }),
      );
      await Promise.all(ids.map((id) => (nodes[1] as Processor).result(id)));
      // Both nodes, from their heartbeats, with all ten tasks between them.
      await page.waitForFunction(`document.querySelectorAll('#nodes tr').length === 2`);
      await page.waitForFunction(
        `[...document.querySelectorAll('#nodes tr')].reduce((sum, row) => sum + Number(row.children[6].textContent), 0) === 10`,
      );
      expect(await page.isVisible('#cluster')).toBe(true);
      expect(await page.textContent('#backlog')).toContain('0 waiting');
      const shots = fileURLToPath(new URL('../../test-results/', import.meta.url));
      mkdirSync(shots, { recursive: true });
      await page.screenshot({ path: `${shots}dashboard-cluster.png`, fullPage: true });
    } finally {
      await browser.close();
      await Promise.all(nodes.map((node) => node.shutdown()));
      await removeStream(stream);
    }
  });
});

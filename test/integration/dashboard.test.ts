/**
 * The dashboard, over HTTP and end to end in a real browser (Debian's
 * Chromium through playwright-core). Without a browser the browser test is
 * skipped with a message, except in CI, where it must run.
 */

import { afterEach, describe, expect, it } from 'vitest';

import {
  type DashboardActor,
  type DashboardSource,
  type DashboardTasks,
  LISTED_ACTORS,
  serveDashboard,
} from '../../src/dashboard/server.js';
import { type ActorSnapshot, createProcessor, type Dashboard, natsBroker, type Processor } from '../../src/index.js';
import { natsAvailable, removeStream, uniqueStream } from '../distributed/nats.js';
import { haveBrowser, launchChromium, saveScreenshot } from '../helpers/browser.js';
import { fixture, handlers, nextEvents, settle, useProcessor } from '../helpers/index.js';

const make = useProcessor({ workers: 2 });
/** A processor whose handler module also exports actor logic (`counter`, `tally`). */
const makeWithActors = useProcessor({ handlers: fixture('actors.ts'), workers: 2 });
let dashboard: Dashboard | undefined;
afterEach(async () => {
  await dashboard?.close();
  dashboard = undefined;
});

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

interface ListedActor {
  id: string;
  logic: string;
  workerId?: number;
  status: string;
  processed: number;
}

/** The snapshot `/events` sends as a page connects. */
async function firstSnapshot(url: string): Promise<{ actorCount: number; actors: ListedActor[] }> {
  const stop = new AbortController();
  const response = await fetch(`${url}events`, { signal: stop.signal });
  const reader = (response.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
  let received = '';
  try {
    while (!received.includes('\n\n')) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`/events ended before its first snapshot: ${received}`);
      received += value;
    }
  } finally {
    stop.abort();
  }
  return JSON.parse(received.slice('data: '.length, received.indexOf('\n\n'))) as { actorCount: number; actors: ListedActor[] };
}

/**
 * Stands in for a live actor, for snapshots no live actor of the fixtures
 * holds: one that ends in error leaves the directory, and none keeps a bigint
 * or a Map in its context.
 */
function stubActor(id: string, snapshot: ActorSnapshot): DashboardActor {
  return { id, logic: 'stub', workerId: 1, processed: 0, getSnapshot: () => snapshot };
}

/** No task lists: the actors' tests read none. */
const noTasks: DashboardTasks = { page: () => ({ tasks: [], size: 0 }), input: () => undefined };

/** The processor as the dashboard reads it, with `stubs` as its live actors. */
function withActors(p: Processor, stubs: DashboardActor[]): DashboardSource {
  return {
    events: p.events,
    metricsRegistry: p.metricsRegistry,
    getStatus: () => p.getStatus(),
    getTask: (id) => p.getTask(id),
    getResult: (id) => p.getResult(id),
    submit: (task) => p.submit(task),
    cancel: (id) => p.cancel(id),
    clearResults: () => p.clearResults(),
    metrics: () => p.metrics(),
    prometheus: () => p.prometheus(),
    actors: () => stubs,
    actor: (id) => stubs.find((stub) => stub.id === id),
  };
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

  it('lists live actors in its snapshots, and shows one’s last snapshot at /actor/<id>', async () => {
    const p = makeWithActors();
    const { url } = await serve(p);
    const counter = await p.spawn('counter', { id: 'c1', input: { start: 5 } });
    await counter.ask({ type: 'inc' });
    await counter.ask({ type: 'note', text: 'hello' });
    const snapshot = await firstSnapshot(url);
    expect(snapshot.actorCount).toBe(1);
    expect(snapshot.actors).toEqual([{ id: 'c1', logic: 'counter', workerId: expect.any(Number), status: 'active', processed: 2 }]);
    const response = await fetch(`${url}actor/c1`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      id: 'c1',
      logic: 'counter',
      workerId: snapshot.actors[0]?.workerId,
      processed: 2,
      snapshot: { status: 'active', value: 'counting', context: { count: 6, log: ['hello'] } },
    });
    const unknown = await fetch(`${url}actor/nope`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: 'unknown actor nope' });
    // Gone once stopped.
    await counter.stop();
    expect((await fetch(`${url}actor/c1`)).status).toBe(404);
    expect((await firstSnapshot(url)).actors).toEqual([]);
  });

  it('lists only the first actors, with the count of all, and serializes what JSON would lose', async () => {
    const p = make();
    const stubs = Array.from({ length: LISTED_ACTORS + 50 }, (_, n) => stubActor(`a${n}`, { status: 'active', context: n }));
    stubs.push(
      stubActor('odd', {
        status: 'error',
        context: { big: 10n ** 20n, seen: new Set(['x']), byKey: new Map([[1, 'one']]) },
        error: new RangeError('the counter blew up'),
      }),
    );
    dashboard = await serveDashboard(withActors(p, stubs), noTasks, { interval: 100 });
    const snapshot = await firstSnapshot(dashboard.url);
    expect(snapshot.actorCount).toBe(LISTED_ACTORS + 51);
    expect(snapshot.actors.map((actor) => actor.id)).toEqual(stubs.slice(0, LISTED_ACTORS).map((stub) => stub.id));
    const odd = (await (await fetch(`${dashboard.url}actor/odd`)).json()) as { snapshot: unknown };
    expect(odd.snapshot).toEqual({
      status: 'error',
      context: { big: '100000000000000000000', seen: ['x'], byKey: [[1, 'one']] },
      error: { name: 'RangeError', message: 'the counter blew up' },
    });
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
      // The pool's size follows scale(), with what was added and retired.
      await shows('pool', '2 task threads');
      await p.scale(3);
      await shows('pool', '3 task threads · 1 added, 0 retired');
      await p.scale(2);
      await shows('pool', '2 task threads · 1 added, 1 retired');
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
      await saveScreenshot(page, 'dashboard');
    } finally {
      await browser.close();
    }
  });

  it('lists a live actor, and shows its context when its row is clicked', { timeout: 60_000 }, async () => {
    const browser = await launchChromium();
    try {
      const p = makeWithActors();
      const counter = await p.spawn('counter', { id: 'c1', input: { start: 40 } });
      await counter.ask({ type: 'add', by: 2 });
      const { url } = await serve(p);
      const page = await browser.newPage();
      await page.goto(url);
      const row = 'tr.actor[data-actor="c1"]';
      await page.waitForSelector(row);
      expect(await page.textContent('#actor-count')).toBe('1 live actor');
      expect(await page.locator(`${row} td`).allTextContents()).toEqual(['c1', 'counter', String(counter.workerId), 'active', '1']);
      await page.click(row);
      await page.waitForFunction(`document.getElementById('detail').textContent.includes('"count": 42')`);
      expect(await page.textContent('#detail')).toMatch(
        /c1[\s\S]*counter[\s\S]*active on worker \d+, 1 event processed[\s\S]*value[\s\S]*"counting"/,
      );
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
      await saveScreenshot(page, 'dashboard-cluster');
    } finally {
      await browser.close();
      await Promise.all(nodes.map((node) => node.shutdown()));
      await removeStream(stream);
    }
  });
});

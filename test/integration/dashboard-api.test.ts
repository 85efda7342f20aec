/**
 * The dashboard's JSON API over HTTP: every route with and without the
 * token, paging, cancel and retry.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { serveDashboard } from '../../src/dashboard/server.js';
import { type Dashboard, InvalidOptionError, type Processor, type TaskInfo } from '../../src/index.js';
import { nextEvent, nextEvents, useProcessor } from '../helpers/index.js';

const make = useProcessor({ workers: 2, maxRetries: 0 });
let dashboard: Dashboard | undefined;
afterEach(async () => {
  await dashboard?.close();
  dashboard = undefined;
});

const TOKEN = 'correct horse battery staple';

async function serve(p: Processor, token?: string): Promise<string> {
  dashboard = await p.serveDashboard({ interval: 100, ...(token === undefined ? {} : { token }) });
  return dashboard.url;
}

interface Answer {
  status: number;
  body: {
    error?: { code: string; message: string };
    tasks?: TaskInfo[];
    next?: string;
    size?: number;
    [key: string]: unknown;
  };
}

async function call(url: string, path: string, { method = 'GET', token }: { method?: string; token?: string } = {}): Promise<Answer> {
  const response = await fetch(`${url}${path}`, { method, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

/** A task running until cancelled, and a failed one whose cause a test can fix (`fixed`). */
async function runningAndFailed(p: Processor): Promise<{ fixed: string }> {
  const fixed = join(mkdtempSync(join(tmpdir(), 'troupe-dash-')), 'fixed');
  const started = nextEvent(p.events, 'task.started', (event) => event.id === 'running');
  p.submit({ id: 'running', handler: 'waitForAbort', payload: null });
  p.submit({ id: 'broken', handler: 'failsUntilFixed', payload: { fixed }, priority: 3, timeout: 5_000 });
  await Promise.all([started, p.result('broken')]);
  return { fixed };
}

const ROUTES = [
  ['GET', 'api/tasks?state=failed'],
  ['GET', 'api/tasks/broken'],
  ['POST', 'api/tasks/running/cancel'],
  ['POST', 'api/tasks/broken/retry'],
  ['POST', 'api/results/clear'],
  ['GET', 'events'],
  ['GET', 'task/broken'],
  ['GET', 'metrics'],
] as const;

describe('dashboard API access', () => {
  it('with a token: every route but the page answers 401 without it, or with a wrong one, and nothing changes', async () => {
    const p = make();
    await runningAndFailed(p);
    const url = await serve(p, TOKEN);
    expect((await fetch(url)).status).toBe(200);
    // What a browser loads with the page needs no token: its assets, and no icon (the page names an empty one; a
    // browser that asks for /favicon.ico anyway, at another route, gets nothing rather than a 401).
    expect(await (await fetch(url)).text()).toContain('<link rel="icon" href="data:,">');
    for (const [path, status] of [
      ['uplot.js', 200],
      ['uplot.css', 200],
      ['favicon.ico', 204],
    ] as const) {
      expect([path, (await fetch(`${url}${path}`)).status]).toEqual([path, status]);
    }
    for (const [method, path] of ROUTES) {
      for (const token of [undefined, 'wrong', `${TOKEN}x`, '']) {
        const response = await fetch(`${url}${path}`, { method, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
        expect([method, path, token, response.status]).toEqual([method, path, token, 401]);
        expect(response.headers.get('www-authenticate')).toBe('Bearer');
        expect(((await response.json()) as Answer['body']).error?.code).toBe('unauthorized');
      }
    }
    // A token as a cookie or in the query is not one.
    expect(
      (await fetch(`${url}api/tasks?state=failed&token=${encodeURIComponent(TOKEN)}`, { headers: { cookie: `token=${TOKEN}` } })).status,
    ).toBe(401);
    expect(p.getTask('running')?.state).toBe('processing');
    expect(p.getTask('broken')?.state).toBe('failed');
    expect(p.getResult('broken')?.status).toBe('failed');
    // With it, reads answer (the scheme's name in any case).
    expect((await call(url, 'api/tasks?state=failed', { token: TOKEN })).body.tasks?.map((task) => task.id)).toEqual(['broken']);
    expect((await fetch(`${url}api/tasks/broken`, { headers: { authorization: `bearer ${TOKEN}` } })).status).toBe(200);
    p.cancel('running');
  });

  it('on loopback without a token: reads are open, actions are refused with 403 and change nothing', async () => {
    const p = make();
    await runningAndFailed(p);
    const url = await serve(p);
    expect((await call(url, 'api/tasks?state=processing')).body.tasks?.map((task) => task.id)).toEqual(['running']);
    expect((await call(url, 'api/tasks/broken')).status).toBe(200);
    for (const path of ['api/tasks/running/cancel', 'api/tasks/broken/retry', 'api/results/clear']) {
      const { status, body } = await call(url, path, { method: 'POST' });
      expect([path, status, body.error?.code]).toEqual([path, 403, 'token_required']);
    }
    expect(p.getTask('running')?.state).toBe('processing');
    expect(p.getResult('broken')?.status).toBe('failed');
    p.cancel('running');
  });

  it('refuses a host other than loopback without a token, at the call, and listens on nothing', async () => {
    const p = make();
    const port = await freePort();
    for (const host of ['0.0.0.0', '::', '192.168.1.10']) {
      await expect(p.serveDashboard({ host, port })).rejects.toThrow(InvalidOptionError);
    }
    await expect(p.serveDashboard({ token: '' })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'token' });
    await expect(p.serveDashboard({ host: '0.0.0.0', port })).rejects.toThrow('Expected a `token` to serve the dashboard on `0.0.0.0`');
    // Nothing took the port.
    expect(await freePort(port)).toBe(port);
  });
});

describe('dashboard API', () => {
  it('pages the finished tasks of a state in the order they ended, each once', async () => {
    const p = make();
    const url = await serve(p, TOKEN);
    const ended = nextEvents(p.events, 'task.done', 23);
    for (let n = 0; n < 23; n++) p.submit({ id: `t${n}`, payload: n });
    const order = (await ended).map((event) => event.id);
    const seen: string[] = [];
    let after = '';
    for (let pages = 0; pages < 10; pages++) {
      const { body } = await call(url, `api/tasks?state=done&limit=5${after}`, { token: TOKEN });
      expect(body.size).toBe(23);
      seen.push(...(body.tasks ?? []).map((task) => task.id));
      if (body.next === undefined) break;
      after = `&after=${encodeURIComponent(body.next)}`;
    }
    expect(seen).toEqual(order);
    // The default page, and a cursor at the last one.
    expect((await call(url, 'api/tasks?state=done', { token: TOKEN })).body.tasks).toHaveLength(23);
    expect((await call(url, `api/tasks?state=done&after=${order[22]}`, { token: TOKEN })).body).toEqual({
      state: 'done',
      size: 23,
      tasks: [],
    });
    expect((await call(url, 'api/tasks?state=failed', { token: TOKEN })).body).toEqual({ state: 'failed', size: 0, tasks: [] });
  });

  it('pages the unfinished tasks of a state in the order they entered it; a cursor that left starts again', async () => {
    const p = make();
    const url = await serve(p, TOKEN);
    const started = nextEvents(p.events, 'task.started', 2);
    p.submit({ id: 'block-0', handler: 'waitForAbort', payload: null });
    p.submit({ id: 'block-1', handler: 'waitForAbort', payload: null });
    await started;
    for (let n = 0; n < 7; n++) p.submit({ id: `q${n}`, payload: n });
    const page = async (after?: string) => {
      const { body } = await call(url, `api/tasks?state=queued&limit=3${after ? `&after=${after}` : ''}`, { token: TOKEN });
      return body;
    };
    const first = await page();
    expect(first.size).toBe(7);
    expect(first.tasks?.map((task) => task.id)).toEqual(['q0', 'q1', 'q2']);
    expect(first.tasks?.[0]).toMatchObject({ state: 'queued', handler: 'default', waitingFor: expect.any(String) });
    expect((await page(first.next)).tasks?.map((task) => task.id)).toEqual(['q3', 'q4', 'q5']);
    expect((await page('q5')).tasks?.map((task) => task.id)).toEqual(['q6']);
    p.cancel('q2');
    expect((await page('q2')).tasks?.map((task) => task.id)).toEqual(['q0', 'q1', 'q3']);
    expect((await call(url, 'api/tasks?state=processing', { token: TOKEN })).body.tasks?.map((task) => task.id)).toEqual([
      'block-0',
      'block-1',
    ]);
    for (const id of ['block-0', 'block-1']) p.cancel(id);
  });

  it('answers 400 for a bad state or limit, 404 and 405 for what it has not', async () => {
    const p = make();
    const url = await serve(p, TOKEN);
    for (const query of [
      '',
      '?state=nope',
      '?state=done&limit=0',
      '?state=done&limit=501',
      '?state=done&limit=x',
      '?state=done&limit=1.5',
    ]) {
      const { status, body } = await call(url, `api/tasks${query}`, { token: TOKEN });
      expect([query, status, body.error?.code]).toEqual([query, 400, 'bad_request']);
    }
    expect((await call(url, 'api/tasks?state=done&limit=500', { token: TOKEN })).status).toBe(200);
    expect((await call(url, 'api/tasks?state=nope', { token: TOKEN })).body.error?.message).toBe(
      'Expected `state` to be one of scheduled, queued, processing, retrying, done, failed, cancelled, got `nope`',
    );
    expect((await call(url, 'api/tasks/%E0%A4%A', { token: TOKEN })).status).toBe(400);
    for (const path of ['api/tasks/nope', 'api/tasks/nope/cancel', 'api/tasks/nope/retry']) {
      const method = path.endsWith('nope') ? 'GET' : 'POST';
      expect((await call(url, path, { method, token: TOKEN })).body.error?.code).toBe('not_found');
    }
    expect((await call(url, 'api/nothing', { token: TOKEN })).status).toBe(404);
    expect((await call(url, 'api/tasks/x/retry', { token: TOKEN })).status).toBe(405);
    expect((await call(url, 'api/tasks?state=done', { method: 'POST', token: TOKEN })).status).toBe(405);
  });

  it('shows a task: its state, payload, result or error, and lifecycle', async () => {
    const p = make();
    const url = await serve(p, TOKEN);
    await runningAndFailed(p);
    const id = p.submit({ id: 'fine', payload: { n: 1n } });
    await p.result(id);
    const broken = (await call(url, 'api/tasks/broken', { token: TOKEN })).body;
    expect(broken).toMatchObject({
      id: 'broken',
      task: { state: 'failed', handler: 'failsUntilFixed', attempts: 1 },
      payload: { fixed: expect.any(String) },
      result: { status: 'failed', error: { name: 'Error', message: 'Not fixed yet' } },
    });
    expect((broken['result'] as Record<string, unknown>)['payload']).toBeUndefined();
    expect((broken['timeline'] as Array<{ state: string }>).map((step) => step.state)).toEqual(['queued', 'processing', 'failed']);
    expect((await call(url, 'api/tasks/fine', { token: TOKEN })).body).toMatchObject({
      task: { state: 'done' },
      result: { status: 'done', value: { n: '1' } },
    });
    expect((await call(url, 'api/tasks/running', { token: TOKEN })).body).toMatchObject({ task: { state: 'processing' }, payload: null });
    p.cancel('running');
  });

  it('cancels a running task, and retries a failed and a cancelled one with their id, handler, payload and options', async () => {
    const p = make();
    const url = await serve(p, TOKEN);
    const { fixed } = await runningAndFailed(p);
    // Cancel: the running task ends cancelled; a second cancel is refused.
    expect((await call(url, 'api/tasks/running/cancel', { method: 'POST', token: TOKEN })).body).toEqual({
      id: 'running',
      cancelled: true,
    });
    expect(await p.result('running')).toMatchObject({ status: 'cancelled', reason: 'cancelled from the dashboard' });
    expect((await call(url, 'api/tasks/running/cancel', { method: 'POST', token: TOKEN })).body.error?.code).toBe('not_cancellable');
    // Retry a failed task once its cause is fixed: it runs again and ends done, with its options.
    writeFileSync(fixed, '');
    const done = nextEvent(p.events, 'task.done', (event) => event.id === 'broken');
    expect((await call(url, 'api/tasks/broken/retry', { method: 'POST', token: TOKEN })).body).toEqual({ id: 'broken', retried: true });
    expect((await done).result).toMatchObject({ status: 'done', value: 'fixed', handler: 'failsUntilFixed', priority: 3, timeout: 5_000 });
    expect((await call(url, 'api/tasks/broken/retry', { method: 'POST', token: TOKEN })).body.error?.code).toBe('not_retryable');
    // Retry the cancelled one: it runs again; while it does, a retry is refused.
    const restarted = nextEvent(p.events, 'task.started', (event) => event.id === 'running');
    expect((await call(url, 'api/tasks/running/retry', { method: 'POST', token: TOKEN })).status).toBe(200);
    await restarted;
    const refused = await call(url, 'api/tasks/running/retry', { method: 'POST', token: TOKEN });
    expect([refused.status, refused.body.error?.code]).toEqual([409, 'not_retryable']);
    p.cancel('running');
  });

  it('refuses a retry when the payload is no longer known, and clears the results', async () => {
    const p = make();
    await runningAndFailed(p);
    // As with a cancelled result a store or a broker gave back: no payload kept.
    dashboard = await serveDashboard(p, { page: () => ({ tasks: [], size: 0 }), input: () => undefined }, { token: TOKEN });
    const refused = await call(dashboard.url, 'api/tasks/broken/retry', { method: 'POST', token: TOKEN });
    expect([refused.status, refused.body.error?.code]).toEqual([409, 'input_unknown']);
    expect(p.getTask('broken')?.state).toBe('failed');
    expect((await call(dashboard.url, 'api/results/clear', { method: 'POST', token: TOKEN })).body).toEqual({ cleared: true });
    expect(p.getResult('broken')).toBeUndefined();
    expect(p.getTask('running')?.state).toBe('processing');
    p.cancel('running');
  });
});

/** A port free on 127.0.0.1 now (`port`: that one, if it is free). */
function freePort(port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '0.0.0.0', () => {
      const { port: bound } = server.address() as { port: number };
      server.close(() => resolve(bound));
    });
  });
}

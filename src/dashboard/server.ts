/**
 * dashboard/: the live dashboard: an HTTP server (this file) over what it
 * reads of a processor (`DashboardSource`), the JSON API that lists tasks
 * and acts on them (api.ts), who may read and act (auth.ts), the page it
 * serves (page.ts), and each task's recent timeline (timeline.ts). Loaded
 * only when served.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

import type { Observable } from 'rxjs';

import type { ActorRef } from '../actors/actor-ref.js';
import type { ProcessorEvent } from '../observe/events.js';
import type { ProcessorMetrics } from '../observe/metrics.js';
import type { ProcessorStatus } from '../observe/status.js';
import { ApiError, createApi, type DashboardActions, type DashboardTasks } from './api.js';
import { checkAccess, createGate } from './auth.js';
import { asJson, sendJson } from './json.js';
import { PAGE } from './page.js';
import { Timelines } from './timeline.js';

export type { DashboardTasks };

export interface DashboardOptions {
  /** 0 picks a free port. @defaultValue 0 */
  port?: number;
  /**
   * Where to listen. A host other than loopback (`127.0.0.1`, `::1`,
   * `localhost`) needs a `token`: without one, `serveDashboard` throws
   * `InvalidOptionError` and starts nothing. @defaultValue '127.0.0.1'
   */
  host?: string;
  /** How often the page gets a fresh snapshot, in ms. @defaultValue 500 */
  interval?: number;
  /**
   * The secret every request for data must carry, as
   * `Authorization: Bearer <token>` (the page asks for it once, or reads it
   * from its URL's `#token=`); the answer without it is 401 and nothing
   * changes. Only with a token can the page and the API act: cancel, retry,
   * clear results. Without one (loopback only) anyone on this machine may
   * read, and nobody may act. Make it long and random, e.g.
   * `randomBytes(32).toString('base64url')`. @defaultValue none
   */
  token?: string;
}

/** What the dashboard reads of a live actor: no more, so it cannot send to one or stop it. */
export type DashboardActor = Pick<ActorRef, 'id' | 'logic' | 'workerId' | 'processed' | 'getSnapshot'>;

/**
 * How many actors each snapshot lists (the first spawned): a process may run
 * thousands, and every open page gets a snapshot per `interval`.
 */
export const LISTED_ACTORS = 200;

/**
 * What the dashboard reads of a processor, and all it may touch: a
 * `Processor` is one. The dashboard depends on this, not on the processor
 * module, so the processor can load it lazily.
 */
export interface DashboardSource extends DashboardActions {
  readonly events: Observable<ProcessorEvent>;
  getStatus(): ProcessorStatus;
  metrics(): ProcessorMetrics;
  prometheus(): Promise<string>;
  readonly metricsRegistry: { readonly contentType: string };
  actors(): readonly DashboardActor[];
  actor(id: string): DashboardActor | undefined;
}

export interface Dashboard {
  /** `http://host:port/` */
  readonly url: string;
  /** Stops the server and every open page's stream. */
  close(): Promise<void>;
}

const require = createRequire(import.meta.url);
/** uPlot, served from the installed package: the page needs no internet. */
const ASSETS: Record<string, { file: string; type: string }> = {
  '/uplot.js': { file: require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript' },
  '/uplot.css': { file: require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css' },
};

/**
 * Serves a live dashboard for one processor with `node:http`: the page at
 * `/`, a Server-Sent Events stream of snapshots at `/events` (status, metrics,
 * workers, recent failures, live actors), a task's timeline at `/task/<id>`,
 * an actor's last snapshot at `/actor/<id>`, Prometheus text at `/metrics`,
 * and the JSON API under `/api/` (see api.ts) that lists `tasks` by state
 * and cancels and retries them. With a `token`, all but the page and its
 * assets (and `/favicon.ico`, an empty 204) need it. Throws `InvalidOptionError`, having started nothing, for a
 * host other than loopback without a token.
 */
export async function serveDashboard(
  processor: DashboardSource,
  tasks: DashboardTasks,
  { port = 0, host = '127.0.0.1', interval = 500, token }: DashboardOptions = {},
): Promise<Dashboard> {
  checkAccess(host, token);
  const gate = createGate(token);
  const timelines = new Timelines(processor.events);
  const api = createApi(processor, tasks, (id) => timelines.timeline(id));
  const streams = new Set<ServerResponse>();

  const snapshot = () => {
    const metrics = processor.metrics();
    const actors = processor.actors();
    return {
      at: Date.now(),
      status: processor.getStatus(),
      throughput: metrics.throughput,
      runTime: metrics.runTime,
      queueWait: metrics.queueWait,
      retries: metrics.retries,
      workers: metrics.workers,
      crashes: metrics.crashes,
      restarts: metrics.restarts,
      resized: metrics.resized,
      store: metrics.store,
      failures: timelines.failures(),
      actorCount: actors.length,
      actors: actors.slice(0, LISTED_ACTORS).map((actor) => ({
        id: actor.id,
        logic: actor.logic,
        workerId: actor.workerId,
        status: actor.getSnapshot().status,
        processed: actor.processed,
      })),
    };
  };
  const tick = setInterval(() => {
    if (streams.size === 0) return;
    const data = `data: ${JSON.stringify(snapshot())}\n\n`;
    for (const response of streams) response.write(data);
  }, interval);
  tick.unref();

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    void route(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(String(error));
    });
  });

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://dashboard');
    const path = url.pathname;
    if (path === '/') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(PAGE);
      return;
    }
    // The page names an empty icon, so a browser does not ask; one that asks anyway (at `/metrics`, say) gets
    // nothing, not a 401 to log.
    if (path === '/favicon.ico') {
      response.writeHead(204, { 'cache-control': 'max-age=86400' });
      response.end();
      return;
    }
    const asset = ASSETS[path];
    if (asset) {
      response.writeHead(200, { 'content-type': asset.type, 'cache-control': 'max-age=3600' });
      response.end(await readFile(asset.file));
      return;
    }
    const access = gate(request);
    if (access === 'none') {
      response.setHeader('www-authenticate', 'Bearer');
      sendJson(response, 401, {
        error: { code: 'unauthorized', message: 'This dashboard needs its token, as `Authorization: Bearer <token>`' },
      });
      return;
    }
    if (path.startsWith('/api/')) {
      try {
        const { status, body } = api.answer(request.method ?? 'GET', url, access);
        sendJson(response, status, body);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        sendJson(response, error.status, { error: { code: error.code, message: error.message } });
      }
      return;
    }
    if (path === '/events') {
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      response.write(`data: ${JSON.stringify(snapshot())}\n\n`);
      streams.add(response);
      request.on('close', () => streams.delete(response));
      return;
    }
    if (path.startsWith('/task/')) {
      const id = decodeURIComponent(path.slice('/task/'.length));
      const task = processor.getTask(id);
      const timeline = timelines.timeline(id);
      if (!task && !timeline) {
        response.writeHead(404, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: `unknown task ${id}` }));
        return;
      }
      const result = processor.getResult(id);
      const error = result?.status === 'failed' ? { name: result.error.name, message: result.error.message } : undefined;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ id, task, timeline: timeline ?? [], error }));
      return;
    }
    if (path.startsWith('/actor/')) {
      const id = decodeURIComponent(path.slice('/actor/'.length));
      const actor = processor.actor(id);
      if (!actor) {
        response.writeHead(404, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: `unknown actor ${id}` }));
        return;
      }
      const { logic, workerId, processed } = actor;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ id, logic, workerId, processed, snapshot: actor.getSnapshot() }, asJson));
      return;
    }
    if (path === '/metrics') {
      response.writeHead(200, { 'content-type': processor.metricsRegistry.contentType });
      response.end(await processor.prometheus());
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain' });
    response.end('not found');
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shown}:${address.port}/`,
    close: async () => {
      clearInterval(tick);
      for (const response of streams) response.end();
      streams.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Else a page's or a client's idle keep-alive connection holds the close for up to its 5 s timeout.
      server.closeAllConnections();
      await closed;
    },
  };
}

/**
 * dashboard/: the live dashboard: an HTTP server (this file) over what it
 * reads of a processor (`DashboardSource`), the page it serves (page.ts),
 * and each task's recent timeline (timeline.ts). Loaded only when served.
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
import type { TaskInfo, TaskResult } from '../task/types.js';
import { PAGE } from './page.js';
import { Timelines } from './timeline.js';

export interface DashboardOptions {
  /** 0 picks a free port. @defaultValue 0 */
  port?: number;
  /**
   * Where to listen. Loopback by default: the dashboard has no
   * authentication, so binding elsewhere exposes the tasks' ids, errors and
   * counts to the network. @defaultValue '127.0.0.1'
   */
  host?: string;
  /** How often the page gets a fresh snapshot, in ms. @defaultValue 500 */
  interval?: number;
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
export interface DashboardSource {
  readonly events: Observable<ProcessorEvent>;
  getStatus(): ProcessorStatus;
  getTask(id: string): TaskInfo | undefined;
  getResult(id: string): TaskResult | undefined;
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
 * an actor's last snapshot at `/actor/<id>`, and Prometheus text at
 * `/metrics`.
 */
export async function serveDashboard(
  processor: DashboardSource,
  { port = 0, host = '127.0.0.1', interval = 500 }: DashboardOptions = {},
): Promise<Dashboard> {
  const timelines = new Timelines(processor.events);
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
    const path = new URL(request.url ?? '/', 'http://dashboard').pathname;
    if (path === '/') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(PAGE);
      return;
    }
    const asset = ASSETS[path];
    if (asset) {
      response.writeHead(200, { 'content-type': asset.type, 'cache-control': 'max-age=3600' });
      response.end(await readFile(asset.file));
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

/**
 * A JSON.stringify replacer for an actor's snapshot: structured-cloned data
 * may hold what JSON drops (an Error, a Map or a Set would print as `{}`) or
 * refuses (a bigint would throw, and the route answer 500).
 */
function asJson(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  // As its entries: a Map's keys need not be strings.
  if (value instanceof Map) return [...value];
  if (value instanceof Set) return [...value];
  if (typeof value === 'bigint') return value.toString();
  return value;
}

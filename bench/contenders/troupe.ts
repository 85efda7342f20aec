/**
 * Troupe, through its public API only, as users run it: the compiled `dist/`
 * (`npm run bench` builds it first), so its threads start from JavaScript like
 * the peers' do, without tsx. Types come from the source, which `dist/` is
 * compiled from.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type * as Troupe from '../../src/index.js';
import type { ProcessorOptions, TaskResult } from '../../src/index.js';
import { HANDLERS, type Pool, type PoolOptions, THREADS } from './pool.js';

const dist = new URL('../../dist/index.js', import.meta.url);
const { createProcessor, natsBroker, sqliteStore } = (await import(dist.href)) as typeof Troupe;

/**
 * The same compiled `createProcessor`, for a scenario that drives Troupe's own
 * API where the common `Pool` interface has no word for it (task priorities,
 * a broker); `natsBroker` from the same build, for the `--distributed` run.
 */
export { createProcessor, natsBroker };

export interface TroupeSettings {
  /** Async tasks run at once per thread (Troupe's `concurrency`); omitted = Troupe's default. */
  readonly concurrency?: number;
  /** Attach a do-nothing XState inspection observer. */
  readonly inspect?: boolean;
  /** Keep tasks and results in a task store (SQLite, `synchronous: 'normal'`) in a scratch folder. */
  readonly store?: boolean;
  /** `false`: Troupe's `tracing: false` (with a tracer provider registered, see `tracing.ts`). */
  readonly tracing?: boolean;
  /**
   * Serve the dashboard with a token, and keep one page's worth of it open
   * for the whole run: its stream of snapshots (`/events`, one every 500 ms,
   * read with the bearer token as the page reads it) and a page of each
   * state's tasks from the JSON API every second, as a page showing the
   * tasks table asks for them.
   */
  readonly dashboard?: boolean;
}

/** A dashboard served and watched as an open page would, until `close`. */
function watchDashboard(processor: Troupe.Processor): { close(): Promise<void> } {
  const token = 'bench-token';
  const headers = { authorization: `Bearer ${token}` };
  const stop = new AbortController();
  const served = processor.serveDashboard({ token });
  const watching = served.then(async ({ url }) => {
    const listing = setInterval(() => {
      for (const state of ['queued', 'processing', 'done']) {
        void fetch(new URL(`api/tasks?state=${state}&limit=20`, url), { headers, signal: stop.signal }).then(
          (response) => response.arrayBuffer(),
          () => {},
        );
      }
    }, 1_000);
    try {
      const response = await fetch(new URL('events', url), { headers, signal: stop.signal });
      if (!response.ok || !response.body) throw new Error(`the dashboard's /events answered ${response.status}`);
      for await (const _chunk of response.body);
    } catch (error) {
      if (!stop.signal.aborted) throw error;
    } finally {
      clearInterval(listing);
    }
  });
  return {
    async close() {
      stop.abort();
      await watching;
      await (await served).close();
    },
  };
}

function failure(result: Exclude<TaskResult, { status: 'done' }>): Error {
  return result.status === 'failed' ? result.error : new Error(`task cancelled: ${result.reason}`);
}

export function createTroupe(settings: TroupeSettings, { retry }: PoolOptions): Pool {
  const options: ProcessorOptions = { handlers: HANDLERS, workers: THREADS };
  if (settings.concurrency !== undefined) options.concurrency = settings.concurrency;
  if (settings.inspect) options.inspect = () => {};
  if (settings.tracing === false) options.tracing = false;
  const scratch = settings.store ? mkdtempSync(join(tmpdir(), 'troupe-bench-')) : undefined;
  if (scratch) options.store = sqliteStore({ path: join(scratch, 'tasks.db') });
  // Retry at once, as the peers' drivers resubmit at once: the scenario
  // measures the cost of a retry, not a backoff wait.
  if (retry) options.backoff = { delay: 0 };
  const processor = createProcessor(options);
  const dashboard = settings.dashboard ? watchDashboard(processor) : undefined;
  return {
    retries: true,
    run(handler, payload) {
      // The callback is the cheapest way the public API reports a result: no
      // extra lookup by id as `result(id)` would do.
      return new Promise((resolve, reject) => {
        processor.submit({
          handler,
          payload,
          callback: (result) => (result.status === 'done' ? resolve(result.value) : reject(failure(result))),
        });
      });
    },
    async close() {
      await dashboard?.close();
      await processor.shutdown();
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    },
  };
}

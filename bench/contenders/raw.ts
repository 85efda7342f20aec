/**
 * The baseline: plain `worker_threads` and the least protocol that works, a
 * request/response pair numbered per task. With `batch > 1`, the tasks
 * submitted in one tick go to a thread in messages of up to `batch` tasks and
 * come back the same way: the ceiling any pool could reach by batching.
 */
import { Worker } from 'node:worker_threads';

import { type HandlerName, type Pool, THREADS } from './pool.js';

const WORKER = new URL('../workers/raw-worker.mjs', import.meta.url);

type Request = [seq: number, name: HandlerName, payload: unknown];
type Reply = [seq: number, ok: boolean, value: unknown];

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

class Thread {
  readonly worker = new Worker(WORKER);
  readonly pending = new Map<number, Pending>();
  outbox: Request[] = [];
  flushScheduled = false;

  constructor() {
    this.worker.on('message', (message: Reply | Reply[]) => {
      if (typeof message[0] === 'number') this.settle(message as Reply);
      else for (const reply of message as Reply[]) this.settle(reply);
    });
  }

  settle([seq, ok, value]: Reply): void {
    const pending = this.pending.get(seq);
    if (!pending) return;
    this.pending.delete(seq);
    if (ok) pending.resolve(value);
    else pending.reject(new Error(String(value)));
  }

  flush(): void {
    this.flushScheduled = false;
    if (this.outbox.length === 0) return;
    this.worker.postMessage(this.outbox);
    this.outbox = [];
  }
}

export function createRaw(batch: number): Pool {
  const threads = Array.from({ length: THREADS }, () => new Thread());
  let seq = 0;

  // Least-pending, not round-robin: CPU-bound tasks would otherwise queue
  // behind a busy thread while the other idles.
  function pick(): Thread {
    let best = threads[0] as Thread;
    for (const thread of threads) if (thread.pending.size < best.pending.size) best = thread;
    return best;
  }

  return {
    retries: false,
    run(handler, payload) {
      const thread = pick();
      const request: Request = [seq++, handler, payload];
      const promise = new Promise<unknown>((resolve, reject) => thread.pending.set(request[0], { resolve, reject }));
      if (batch <= 1) {
        thread.worker.postMessage(request);
      } else {
        thread.outbox.push(request);
        if (thread.outbox.length >= batch) thread.flush();
        else if (!thread.flushScheduled) {
          // A microtask, not a timer: tasks submitted in the same tick share a
          // message, and a lone task (the latency scenario) waits for nothing.
          thread.flushScheduled = true;
          queueMicrotask(() => thread.flush());
        }
      }
      return promise;
    },
    async close() {
      await Promise.all(threads.map((thread) => thread.worker.terminate()));
    },
  };
}

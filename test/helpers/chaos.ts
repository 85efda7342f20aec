/**
 * The chaos run shared by the chaos test (seconds) and `npm run soak`
 * (minutes): tasks that throw, exit their thread, hang past their timeout or
 * spin past their abort, random cancels, and a shutdown in the middle. It
 * returns what the invariants are checked on.
 */
import { BroadcastChannel } from 'node:worker_threads';
import { createProcessor, type ProcessorEvent, type TaskInput, type TaskResult } from '../../src/index.js';
import type { ChaosReport } from '../fixtures/chaos-handlers.js';

export interface ChaosOptions {
  readonly tasks: number;
  readonly workers?: number;
  readonly concurrency?: number;
  /** The fraction of tasks settled when shutdown is called. */
  readonly shutdownAt?: number;
  /** Tasks submitted at once at most; the rest wait for room (memory stays flat on long soaks). */
  readonly inFlight?: number;
}

export interface ChaosReportSummary {
  readonly tasks: number;
  readonly attempts: number;
  readonly results: readonly TaskResult[];
  readonly unfinished: readonly TaskInput[];
  readonly callbacks: ReadonlyMap<string, number>;
  /** Ids that began on a thread while already running on another: must be empty. */
  readonly overlaps: readonly string[];
  readonly faults: { crashes: number; timeouts: number; failed: number; cancelled: number };
  readonly threadsAliveBeforeShutdown: number;
  readonly heapBeforeMb: number;
  readonly heapAfterMb: number;
}

const handlers = new URL('../fixtures/chaos-handlers.ts', import.meta.url);

function heapMb(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 1e6;
}

export async function runChaos({
  tasks,
  workers = 2,
  concurrency = 2,
  shutdownAt = 0.6,
  inFlight = 2_000,
}: ChaosOptions): Promise<ChaosReportSummary> {
  const heapBeforeMb = heapMb();
  const p = createProcessor({
    handlers,
    workers,
    concurrency,
    timeout: 100,
    abortGrace: 100,
    maxRetries: 3,
    maxCrashes: 3,
    backoff: { delay: 1, maxDelay: 20, jitter: 0.5 },
    restart: { minDelay: 0, maxDelay: 10, maxRestarts: 1_000_000 },
    retention: { maxResults: 100, maxFailed: 100 },
  });

  // Attempts running per id, by thread, as the threads report them.
  const open = new Map<string, Set<number>>();
  const overlaps: string[] = [];
  let attempts = 0;
  const channel = new BroadcastChannel('troupe-chaos');
  channel.onmessage = (message: unknown) => {
    const { id, threadId, phase } = (message as { data: ChaosReport }).data;
    const running = open.get(id) ?? new Set<number>();
    if (phase === 'begin') {
      attempts++;
      if (running.size > 0) overlaps.push(`${id} began on thread ${threadId} while running on ${[...running].join(', ')}`);
      running.add(threadId);
      open.set(id, running);
    } else {
      running.delete(threadId);
      if (running.size === 0) open.delete(id);
    }
  };
  const faults = { crashes: 0, timeouts: 0, failed: 0, cancelled: 0 };
  const alive = new Set<number>();
  p.events.subscribe((event: ProcessorEvent) => {
    if (event.type === 'worker.started') alive.add(event.threadId);
    if (event.type === 'worker.exited') {
      alive.delete(event.threadId);
      // A dead thread ends whatever it was running.
      for (const [id, threads] of open) if (threads.delete(event.threadId) && threads.size === 0) open.delete(id);
      if (!event.expected) faults.crashes++;
    }
    if (event.type === 'task.retrying' && event.error.name === 'TaskTimeoutError') faults.timeouts++;
    if (event.type === 'task.failed') faults.failed++;
    if (event.type === 'task.cancelled') faults.cancelled++;
  });

  const callbacks = new Map<string, number>();
  const results: TaskResult[] = [];
  const stopAfter = Math.floor(tasks * shutdownAt);
  let submitted = 0;
  let settled = 0;
  let stopping = false;
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (!stopping && submitted < tasks && submitted - settled < inFlight) {
        const i = submitted++;
        const id = p.submit({
          id: `chaos-${i}`,
          handler: 'chaos',
          payload: { seed: i + 1 },
          callback: (result) => callbacks.set(result.id, (callbacks.get(result.id) ?? 0) + 1),
        });
        if (i % 23 === 0) queueMicrotask(() => p.cancel(id, 'chaos cancel'));
        void p.result(id).then((result) => {
          results.push(result);
          settled++;
          // Cancel some while they run, too.
          if (settled % 97 === 0) p.cancel(`chaos-${Math.max(0, submitted - 1 - (settled % 50))}`, 'chaos cancel');
          if (settled === stopAfter) {
            stopping = true;
            resolve();
          } else pump();
        });
      }
    };
    pump();
  });
  // The pool must come back to full strength: wait for pending restarts.
  await new Promise<void>((resolve) => {
    if (alive.size === workers) return resolve();
    const subscription = p.events.subscribe((event) => {
      if (event.type === 'worker.started' && alive.size === workers) {
        subscription.unsubscribe();
        resolve();
      }
    });
  });
  const threadsAliveBeforeShutdown = alive.size;
  const { unfinished } = await p.shutdown({ timeout: 300 });
  // Every result promise settles, those handed back included.
  await new Promise<void>((resolve) => {
    const check = () => (settled === submitted ? resolve() : setImmediate(check));
    check();
  });
  channel.close();
  return {
    tasks: submitted,
    attempts,
    results,
    unfinished,
    callbacks,
    overlaps,
    faults,
    threadsAliveBeforeShutdown,
    heapBeforeMb,
    heapAfterMb: heapMb(),
  };
}

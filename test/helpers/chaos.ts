/**
 * The chaos run shared by the chaos test (seconds) and `npm run soak`
 * (minutes): tasks that throw, exit their thread, hang past their timeout or
 * spin past their abort, random cancels, and a shutdown in the middle. It
 * checks the invariants as it goes, keeping a few bytes per task (not the
 * results themselves), so the heap it reports is Troupe's.
 */
import { BroadcastChannel } from 'node:worker_threads';

import { createProcessor, type ProcessorEvent } from '../../src/index.js';
import type { ChaosFaults, ChaosReport } from '../fixtures/chaos-handlers.js';

export interface ChaosOptions {
  readonly tasks: number;
  readonly workers?: number;
  readonly concurrency?: number;
  /** The fraction of tasks settled when shutdown is called. */
  readonly shutdownAt?: number;
  /** Tasks unfinished at once at most; the rest are submitted as room frees up. */
  readonly inFlight?: number;
  /** How often handlers misbehave, and tasks are cancelled (see `ChaosFaults`). */
  readonly faults?: ChaosFaults;
  /** Called after every `every` settled tasks, with the count (the soak's heap and RSS lines). */
  readonly progress?: { readonly every: number; readonly report: (settled: number) => void };
}

/** Tasks cancelled as they are submitted (1 in n), and running ones (after 1 in n settle); 0: none. */
const CANCELS: Record<ChaosFaults, { readonly submitted: number; readonly running: number }> = {
  heavy: { submitted: 23, running: 97 },
  light: { submitted: 500, running: 0 },
  none: { submitted: 0, running: 0 },
};

export interface ChaosSummary {
  readonly tasks: number;
  readonly attempts: number;
  readonly outcomes: { done: number; failed: number; cancelled: number; handedBack: number };
  readonly faults: { crashes: number; timeouts: number };
  readonly threadsAliveBeforeShutdown: number;
  /** Every broken promise, described; empty when all held. */
  readonly violations: readonly string[];
  readonly heapBeforeMb: number;
  readonly heapAfterMb: number;
}

const MAX_RETRIES = 3;
const handlers = new URL('../fixtures/chaos-handlers.ts', import.meta.url);
const indexOf = (id: string) => Number(id.slice('chaos-'.length));

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
  faults: profile = 'heavy',
  progress,
}: ChaosOptions): Promise<ChaosSummary> {
  const cancels = CANCELS[profile];
  const heapBeforeMb = heapMb();
  const violations: string[] = [];
  const violation = (text: string) => {
    if (violations.length < 100) violations.push(text);
  };
  const p = createProcessor({
    handlers,
    workers,
    concurrency,
    timeout: 100,
    abortGrace: 100,
    maxRetries: MAX_RETRIES,
    maxCrashes: 3,
    backoff: { delay: 1, maxDelay: 20, jitter: 0.5 },
    restart: { minDelay: 0, maxDelay: 10, maxRestarts: 1_000_000 },
    retention: { maxResults: 100, maxFailed: 100 },
  });

  const alive = new Set<number>();
  // Attempts running per id, by thread, as the threads report them.
  const open = new Map<string, Set<number>>();
  let attempts = 0;
  const channel = new BroadcastChannel('troupe-chaos');
  channel.onmessage = (message: unknown) => {
    const { id, threadId, phase } = (message as { data: ChaosReport }).data;
    const running = open.get(id) ?? new Set<number>();
    if (phase === 'begin') {
      attempts++;
      // A report can arrive after the exit of the thread that sent it (the
      // channel and the exit travel separately): a dead thread runs nothing,
      // and what it began, it began before its task was given to another.
      if (!alive.has(threadId)) return;
      for (const thread of running) if (!alive.has(thread)) running.delete(thread);
      if (running.size > 0) violation(`${id} began on thread ${threadId} while running on ${[...running].join(', ')}`);
      running.add(threadId);
      open.set(id, running);
    } else {
      running.delete(threadId);
      if (running.size === 0) open.delete(id);
    }
  };
  const faults = { crashes: 0, timeouts: 0 };
  p.events.subscribe((event: ProcessorEvent) => {
    if (event.type === 'worker.started') alive.add(event.threadId);
    if (event.type === 'worker.exited') {
      alive.delete(event.threadId);
      // A dead thread ends whatever it was running.
      for (const [id, threads] of open) if (threads.delete(event.threadId) && threads.size === 0) open.delete(id);
      if (!event.expected) faults.crashes++;
    }
    if (event.type === 'task.retrying' && event.error.name === 'TaskTimeoutError') faults.timeouts++;
  });

  // A few bytes per task: how often its callback ran and its result settled, and how it ended.
  const callbacks = new Uint8Array(tasks);
  const settles = new Uint8Array(tasks);
  const endings = new Uint8Array(tasks); // 1 done, 2 failed, 3 cancelled, 4 cancelled by shutdown
  const outcomes = { done: 0, failed: 0, cancelled: 0, handedBack: 0 };
  const stopAfter = Math.floor(tasks * shutdownAt);
  let submitted = 0;
  let settled = 0;
  let stopping = false;
  let allSettled: () => void = () => {};

  await new Promise<void>((timeToStop) => {
    const pump = () => {
      while (!stopping && submitted < tasks && submitted - settled < inFlight) {
        const i = submitted++;
        const id = p.submit({
          id: `chaos-${i}`,
          handler: 'chaos',
          payload: { seed: i + 1, faults: profile },
          callback: () => callbacks[i]!++,
        });
        if (cancels.submitted > 0 && i % cancels.submitted === 0) queueMicrotask(() => p.cancel(id, 'chaos cancel'));
        void p.result(id).then((result) => {
          settles[i]!++;
          if (callbacks[i] !== 1) violation(`${id}: result settled after ${callbacks[i]} callbacks`);
          if (result.attempts > MAX_RETRIES + 1) violation(`${id}: ${result.attempts} attempts`);
          if (result.status === 'done') {
            endings[i] = 1;
            outcomes.done++;
          } else if (result.status === 'failed') {
            endings[i] = 2;
            outcomes.failed++;
          } else if (result.reason === 'shutdown') {
            endings[i] = 4;
          } else {
            endings[i] = 3;
            outcomes.cancelled++;
          }
          settled++;
          if (progress && settled % progress.every === 0) progress.report(settled);
          // Cancel some while they run, too.
          if (cancels.running > 0 && settled % cancels.running === 0) {
            p.cancel(`chaos-${Math.max(0, submitted - 1 - (settled % 50))}`, 'chaos cancel');
          }
          if (settled === submitted) allSettled();
          if (!stopping && settled >= stopAfter && submitted === tasks) {
            stopping = true;
            timeToStop();
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
  const everySettled = new Promise<void>((resolve) => {
    allSettled = resolve;
    if (settled === submitted) resolve();
  });
  const { unfinished } = await p.shutdown({ timeout: 300 });
  await everySettled;
  channel.close();

  outcomes.handedBack = unfinished.length;
  const handedBack = new Uint8Array(tasks);
  for (const task of unfinished) {
    const i = indexOf(task.id as string);
    handedBack[i] = 1;
    if (endings[i] !== 4) violation(`${task.id}: handed back, but it did not end cancelled by shutdown`);
  }
  for (let i = 0; i < submitted; i++) {
    if (settles[i] !== 1) violation(`chaos-${i}: result settled ${settles[i]} times`);
    if (callbacks[i] !== 1) violation(`chaos-${i}: callback ran ${callbacks[i]} times`);
    if (endings[i] === 4 && handedBack[i] !== 1) violation(`chaos-${i}: cancelled by shutdown but not handed back`);
  }
  if (threadsAliveBeforeShutdown !== workers) violation(`pool at ${threadsAliveBeforeShutdown} of ${workers} threads`);
  return {
    tasks: submitted,
    attempts,
    outcomes,
    faults,
    threadsAliveBeforeShutdown,
    violations,
    heapBeforeMb,
    heapAfterMb: heapMb(),
  };
}

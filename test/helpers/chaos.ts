/**
 * The chaos run shared by the chaos tests (seconds) and `npm run soak`
 * (minutes): tasks that throw, exit their thread, hang past their timeout or
 * spin past their abort, random cancels, and a shutdown in the middle. With
 * a store, shutdowns with work in flight every so many tasks, each followed
 * by a new processor on the same file that recovers what was unfinished and
 * finishes it. It checks the invariants as it goes (chaos-ledger.ts,
 * chaos-threads.ts), keeping a few bytes per task, so the heap it reports is
 * Troupe's.
 */

import { createProcessor, type Processor, ProcessorShutdownError, sqliteStore, type TaskInput } from '../../src/index.js';
import { storeFileBytes } from '../../src/store/sqlite.js';
import type { ChaosFaults } from '../fixtures/chaos-handlers.js';
import { chaosId, chaosIndex, ChaosLedger } from './chaos-ledger.js';
import { ThreadWatch } from './chaos-threads.js';

export interface ChaosOptions {
  readonly tasks: number;
  readonly workers?: number;
  readonly concurrency?: number;
  /** The fraction of tasks settled when shutdown is called (without a store; with one, the run ends with every task settled). */
  readonly shutdownAt?: number;
  /** Tasks unfinished at once at most; the rest are submitted as room frees up. */
  readonly inFlight?: number;
  /** How often handlers misbehave, and tasks are cancelled (see `ChaosFaults`). */
  readonly faults?: ChaosFaults;
  /** Called after every `every` settled tasks, with the count (the soak's heap and RSS lines). */
  readonly progress?: { readonly every: number; readonly report: (settled: number) => void };
  /** Run on a store, restarting the processor on it every so often. */
  readonly store?: ChaosStore;
}

export interface ChaosStore {
  /** The store's file: a new one (what an earlier run left in it would be recovered too). */
  readonly path: string;
  /** Settled tasks between restarts: a shutdown with work in flight, then a new processor on the same file. */
  readonly restartEvery: number;
  /** Called after each restart, once the new processor is ready (the soak's restart lines). */
  readonly report?: (restart: ChaosRestart) => void;
}

export interface ChaosRestart {
  /** Tasks settled when shutdown was called, over the whole run. */
  readonly settled: number;
  /** Tasks unfinished when shutdown was called (some finish during it). */
  readonly inFlight: number;
  /**
   * Whether the shutdown drained (queued tasks still started until its deadline) or not (only the running
   * ones could finish, the rest were kept at once): the restarts alternate, not draining first.
   */
  readonly drain: boolean;
  /** Tasks the new processor recovered from the file: every one unfinished at the end of the shutdown. */
  readonly recovered: number;
  readonly shutdownMs: number;
  /** From `createProcessor` to `ready`: the file opened, read and recovered, the threads up. */
  readonly readyMs: number;
  /** The file and its write-ahead log, before shutdown and after (shutdown checkpoints the log into the file). */
  readonly bytesBefore: number;
  readonly bytesAfter: number;
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
  /** With a store: each restart, in order. */
  readonly restarts: readonly ChaosRestart[];
  /** With a store: its file's size (with its log) before the last shutdown, and after it. */
  readonly storeBytes?: { readonly beforeShutdown: number; readonly atEnd: number };
}

const MAX_RETRIES = 3;
/** Tasks submitted in the same turn as the last shutdown: more than two threads hold (running and in their windows). */
const HELD_FOR_SHUTDOWN = 64;
/** With a store, 1 task in this many is submitted with `submitAsync` (on disk when it resolves), the rest with `submit`. */
const ASYNC_EVERY = 16;
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
  faults: profile = 'heavy',
  progress,
  store,
}: ChaosOptions): Promise<ChaosSummary> {
  const cancels = CANCELS[profile];
  const heapBeforeMb = heapMb();
  const ledger = new ChaosLedger(tasks, MAX_RETRIES + 1, store !== undefined);
  const violation = (text: string) => ledger.violation(text);
  const threads = new ThreadWatch(violation);
  const open = (): Processor => {
    const processor = createProcessor({
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
      ...(store ? { store: sqliteStore({ path: store.path }) } : {}),
    });
    threads.watch(processor);
    processor.events.subscribe((event) => {
      if (event.type === 'task.done' || event.type === 'task.failed' || event.type === 'task.cancelled') ledger.ended(chaosIndex(event.id));
    });
    return processor;
  };
  let p = open();
  let submitted = 0;
  /** The pump submits up to this many; the rest are submitted just before the last shutdown. */
  let submitUpTo = tasks;
  // What the run waits for next (a restart due, the shutdown point, every task settled), checked as each task settles.
  let waiting: { readonly holds: () => boolean; readonly resolve: () => void } | undefined;
  const until = (holds: () => boolean) =>
    new Promise<void>((resolve) => {
      if (holds()) resolve();
      else waiting = { holds, resolve };
    });
  let pumping = false;

  // A task's result from whichever processor ends it: the one it was submitted to, or one that recovered it.
  const awaitResult = (processor: Processor, i: number) => {
    processor.result(chaosId(i)).then(
      (result) => {
        ledger.settle(i, result);
        const { settled } = ledger;
        if (progress && settled % progress.every === 0) progress.report(settled);
        // Cancel some while they run, too.
        if (cancels.running > 0 && settled % cancels.running === 0) {
          p.cancel(chaosId(Math.max(0, submitted - 1 - (settled % 50))), 'chaos cancel');
        }
        if (waiting?.holds()) {
          const { resolve } = waiting;
          waiting = undefined;
          resolve();
        } else pump();
      },
      (error: unknown) => {
        // A processor that shuts down keeping the task in its store rejects the wait; the next one has the result.
        if (store && error instanceof ProcessorShutdownError) ledger.abandoned(i);
        else violation(`${chaosId(i)}: result() rejected: ${String(error)}`);
      },
    );
  };
  const submitOne = (i: number) => {
    const processor = p;
    const task: TaskInput = {
      id: chaosId(i),
      handler: 'chaos',
      payload: { seed: i + 1, faults: profile },
      callback: () => ledger.callback(i),
    };
    if (store && i % ASYNC_EVERY === 0) {
      // Accepted at once (no maxQueue to wait for); resolves once it is on disk.
      ledger.pendingAsync++;
      processor.submitAsync(task).then(
        () => ledger.pendingAsync--,
        (error: unknown) => violation(`${chaosId(i)}: submitAsync rejected: ${String(error)}`),
      );
    } else processor.submit(task);
    if (cancels.submitted > 0 && i % cancels.submitted === 0) queueMicrotask(() => processor.cancel(chaosId(i), 'chaos cancel'));
    awaitResult(processor, i);
  };
  const pump = () => {
    while (pumping && submitted < submitUpTo && submitted - ledger.settled < inFlight) submitOne(submitted++);
  };
  /** Submits as room frees up until `holds()`; then stops submitting. */
  const runUntil = async (holds: () => boolean) => {
    pumping = true;
    const reached = until(holds);
    pump();
    await reached;
    pumping = false;
  };

  const restarts: ChaosRestart[] = [];
  if (store) {
    const { restartEvery } = store;
    for (let next = restartEvery; next < tasks; next += restartEvery) {
      await runUntil(() => ledger.settled >= next);
      const restart = await restartOn(store.path, restarts.length % 2 === 1);
      restarts.push(restart);
      store.report?.(restart);
    }
    await runUntil(() => ledger.settled === tasks);
  } else {
    // The last tasks wait to be submitted just before shutdown, more than the threads can hold: while the pool comes
    // back to full strength below, whatever is in flight may end, and shutdown must still have tasks to hand back.
    submitUpTo = tasks - Math.min(tasks, HELD_FOR_SHUTDOWN);
    const stopAfter = Math.min(Math.floor(tasks * shutdownAt), submitUpTo);
    await runUntil(() => ledger.settled >= stopAfter && submitted === submitUpTo);
  }

  // The pool must come back to full strength: wait for pending restarts.
  await new Promise<void>((resolve) => {
    if (threads.alive.size === workers) return resolve();
    const subscription = p.events.subscribe((event) => {
      if (event.type === 'worker.started' && threads.alive.size === workers) {
        subscription.unsubscribe();
        resolve();
      }
    });
  });
  const threadsAliveBeforeShutdown = threads.alive.size;
  const beforeShutdown = store ? storeFileBytes(store.path) : 0;
  while (submitted < tasks) submitOne(submitted++);
  // Without a store, queued tasks are handed back rather than run in the deadline: the held ones above make sure
  // there are some, whatever the chaos left in flight. (With a store, the restarts above alternate both ways.)
  const { unfinished } = await p.shutdown({ timeout: 300, drain: !!store });
  await until(() => ledger.settled === submitted);
  if (store) {
    if (unfinished.length > 0) violation(`the last shutdown handed back ${unfinished.length} tasks: with a store it keeps them`);
    // Nothing is left in the file to run again.
    const last = open();
    const { queued, scheduled, retrying, processing } = last.getStatus();
    if (queued + scheduled + retrying + processing > 0) violation(`after the last shutdown, the file still held unfinished tasks`);
    await last.ready;
    await last.shutdown();
  }
  threads.close();
  ledger.check(submitted, store ? undefined : ledger.handedBack(unfinished, tasks));
  if (threadsAliveBeforeShutdown !== workers) violation(`pool at ${threadsAliveBeforeShutdown} of ${workers} threads`);
  return {
    tasks: submitted,
    attempts: threads.attempts,
    outcomes: ledger.outcomes,
    faults: threads.faults,
    threadsAliveBeforeShutdown,
    violations: ledger.violations,
    heapBeforeMb,
    heapAfterMb: heapMb(),
    restarts,
    ...(store ? { storeBytes: { beforeShutdown, atEnd: storeFileBytes(store.path) } } : {}),
  };

  /**
   * Shuts the processor down with work in flight, then opens a new one on
   * the same file: it must hold every task that had not ended, and no other.
   */
  async function restartOn(path: string, drain: boolean): Promise<ChaosRestart> {
    const { settled } = ledger;
    const bytesBefore = storeFileBytes(path);
    const shutdownStarted = performance.now();
    const { unfinished } = await p.shutdown({ timeout: 300, drain });
    const shutdownMs = performance.now() - shutdownStarted;
    if (unfinished.length > 0) violation(`a restart's shutdown handed back ${unfinished.length} tasks: with a store it keeps them`);
    if (threads.alive.size > 0) violation(`threads ${[...threads.alive].join(', ')} still alive after shutdown`);
    if (ledger.pendingAsync > 0) violation(`${ledger.pendingAsync} submitAsync promises unsettled after shutdown`);
    const bytesAfter = storeFileBytes(path);

    const opened = performance.now();
    p = open();
    let recovered = 0;
    for (let i = 0; i < submitted; i++) {
      if (ledger.hasEnded(i)) continue;
      const state = p.getTask(chaosId(i))?.state;
      if (state === undefined || state === 'done' || state === 'failed' || state === 'cancelled') {
        violation(`${chaosId(i)}: unfinished at a restart, but not recovered (${state ?? 'unknown'})`);
        continue;
      }
      ledger.recovered(i);
      recovered++;
      awaitResult(p, i);
    }
    const { queued, scheduled, retrying, processing } = p.getStatus();
    const held = queued + scheduled + retrying + processing;
    if (held !== recovered) violation(`a restart recovered ${held} tasks, ${recovered} of them unfinished ones`);
    await p.ready;
    const readyMs = performance.now() - opened;
    return { settled, inFlight: submitted - settled, drain, recovered, shutdownMs, readyMs, bytesBefore, bytesAfter };
  }
}

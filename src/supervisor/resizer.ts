import type { ProcessorEvent } from '../observe/events.js';
import type { Metrics } from '../observe/metrics.js';
import type { ElasticWorkers } from '../options/types.js';
import { type Clock, clockNow } from '../util/clock.js';
import type { WorkerActor } from '../workers/worker.js';
import type { SupervisorMessage } from './messages.js';
import type { WorkerPool } from './worker-pool.js';

/** Why the pool changed size: `scale` asked for it, or an elastic pool grew for waiting tasks or shrank after idle threads. */
export type ResizeReason = 'scale' | 'grow' | 'shrink';

export interface ResizerParts {
  readonly pool: WorkerPool;
  /** `workers: { min, max, idleTimeout }`; undefined for a pool of fixed size. */
  readonly elastic: Required<ElasticWorkers> | undefined;
  readonly clock: Clock;
  readonly metrics: Metrics;
  /** Tasks in line for a thread (`Dispatcher.waiting`). */
  readonly waiting: () => number;
  /** Whether actors live on the thread: it stays, or they would be lost with it. */
  readonly hostsActors: (worker: WorkerActor) => boolean;
  /** Whether the pool may change now: not before it is up, nor once the processor stops or fails. */
  readonly running: () => boolean;
  readonly emit: (event: ProcessorEvent) => void;
  /** An idle thread's timer fired: the supervisor hands it back to `idleTimerFired` inside a message. */
  readonly idleTimer: (worker: WorkerActor) => void;
}

/**
 * The size of the pool of task threads: what `scale(n)` sets, and for an
 * elastic pool, growth while tasks wait and shrinking after idle threads.
 * Owned by the supervisor and called inside its messages; its idle timers
 * reach it as messages.
 *
 * A thread that leaves retires: it takes nothing new, gives back what waits
 * in its window (to run elsewhere, uncharged), lets its running attempts
 * finish, and exits once it holds nothing, not replaced. A thread its
 * actors live on (with `actorThreads: 0`) is never chosen to leave.
 */
export class Resizer {
  readonly #parts: ResizerParts;
  /** Per idle thread: its `sent` count and the time it last went idle. */
  readonly #idleSince = new Map<WorkerActor, { readonly sent: number; readonly at: number }>();
  readonly #idleTimers = new Map<WorkerActor, unknown>();

  constructor(parts: ResizerParts) {
    this.#parts = parts;
  }

  /** The supervisor's messages for the pool's size: `scale(n)`, and an idle thread's timer. */
  handle(message: Extract<SupervisorMessage, { type: 'pool.resize' | 'worker.idle' }>): void {
    if (message.type === 'pool.resize') this.resize(message.workers, 'scale');
    else this.idleTimerFired(message.worker);
  }

  /** Opens or closes task slots until the pool has `n`. */
  resize(n: number, reason: ResizeReason): void {
    const { pool, hostsActors } = this.#parts;
    const previous = pool.taskSlots;
    if (n > previous) for (let added = previous; added < n; added++) pool.open('tasks');
    else if (n < previous) for (const worker of pool.close(previous - n, hostsActors)) this.#retiring(worker, reason);
    // Asked for by `scale`: the threads' idle time counts from now, or a thread
    // idle since before the call would leave at once and undo it.
    if (reason === 'scale') for (const worker of pool.ready) if (this.#idleSince.has(worker)) this.reported(worker);
    this.#resized(previous, reason);
  }

  /**
   * The mailbox has been emptied: an elastic pool grows by one thread when
   * tasks wait (in line, or in a thread's window, not started) and every
   * thread's run slots are taken, once the threads it started are up. A
   * rate limit that holds tasks back leaves slots free: no growth for it.
   * O(threads), and only for an elastic pool.
   */
  settled(): void {
    const { elastic, pool, waiting, running } = this.#parts;
    if (!elastic || pool.taskSlots >= elastic.max || !running() || pool.startingTasks > 0) return;
    let windowed = false;
    for (const worker of pool.ready) {
      if (worker.hasFreeSlot) return;
      windowed ||= worker.windowed > 0;
    }
    if (windowed || waiting() > 0) this.resize(pool.taskSlots + 1, 'grow');
  }

  /**
   * The thread reported (or its slot closed, or `scale` was called): a
   * retiring one that holds nothing (and hosts no actor) is stopped; in an
   * elastic pool, one that went idle starts its idle timer.
   */
  reported(worker: WorkerActor): void {
    if (worker.held > 0) return;
    const { pool, elastic, hostsActors, clock } = this.#parts;
    if (worker.isRetiring) {
      if (!hostsActors(worker)) void worker.stop();
      return;
    }
    if (!elastic || !pool.has(worker) || !pool.ready.includes(worker)) return;
    this.#idleSince.set(worker, { sent: worker.sent, at: clockNow(clock) });
    if (!this.#idleTimers.has(worker)) this.#arm(worker, elastic.idleTimeout);
  }

  /**
   * An idle timer fired. The thread leaves if it did no work since it went
   * idle `idleTimeout` ago, the pool is above `min` and no thread is
   * starting; if it went idle again since, the timer is armed for the rest;
   * a busy thread's is armed again when it next goes idle.
   */
  idleTimerFired(worker: WorkerActor): void {
    this.#idleTimers.delete(worker);
    const { pool, elastic, clock, running } = this.#parts;
    const idle = this.#idleSince.get(worker);
    if (!elastic || !idle || !pool.has(worker) || worker.isRetiring) return this.forget(worker);
    if (worker.held > 0 || worker.sent !== idle.sent || !running()) return;
    const rest = idle.at + elastic.idleTimeout - clockNow(clock);
    if (rest > 0) return this.#arm(worker, rest);
    // Threads are starting (the pool grows, or `scale` asked for more): none leaves meanwhile.
    if (pool.startingTasks > 0) return this.#arm(worker, elastic.idleTimeout);
    if (pool.taskSlots <= elastic.min) return;
    this.#idleSince.delete(worker);
    this.#retire(worker);
  }

  /** The worker left the pool: its idle timer goes. */
  forget(worker: WorkerActor): void {
    this.#idleSince.delete(worker);
    const timer = this.#idleTimers.get(worker);
    if (timer === undefined) return;
    this.#parts.clock.clearTimeout(timer);
    this.#idleTimers.delete(worker);
  }

  /** Every idle timer goes (the processor stops). */
  stop(): void {
    for (const worker of [...this.#idleTimers.keys()]) this.forget(worker);
  }

  #arm(worker: WorkerActor, ms: number): void {
    const { clock, idleTimer } = this.#parts;
    const timer = clock.setTimeout(() => idleTimer(worker), ms);
    // An idle pool must not keep the process alive, and neither must its timers.
    (timer as { unref?: () => void } | undefined)?.unref?.();
    this.#idleTimers.set(worker, timer);
  }

  /** An idle thread leaves: its own slot closes. */
  #retire(worker: WorkerActor): void {
    const { pool, hostsActors } = this.#parts;
    const previous = pool.taskSlots;
    if (!pool.closeOf(worker, hostsActors)) return;
    this.#retiring(worker, 'shrink');
    this.#resized(previous, 'shrink');
  }

  /** A thread's slot closed: it retires, and is stopped at once if it holds nothing. */
  #retiring(worker: WorkerActor, reason: ResizeReason): void {
    this.#parts.emit({ type: 'worker.retiring', workerId: worker.id, threadId: worker.threadId, reason });
    this.reported(worker);
  }

  /** The pool's size changed from `previous`: metrics and `pool.resized` say so. */
  #resized(previous: number, reason: ResizeReason): void {
    const workers = this.#parts.pool.taskSlots;
    if (workers === previous) return;
    this.#parts.metrics.resized(workers - previous);
    this.#parts.emit({ type: 'pool.resized', workers, previous, reason });
  }
}

import type { HeldBy } from '../machines/task.js';
import type { ResolvedOptions } from '../options/types.js';
import { PriorityQueue } from '../util/priority-queue.js';
import { type RateLimit, RateLimiter } from '../util/rate-limiter.js';
import type { TimerQueue } from '../util/timer-queue.js';
import type { TaskRecord } from './task-record.js';

/**
 * The limits of one handler (`handlerConcurrency`, `rateLimit.perHandler`).
 * Tasks it cannot admit wait here, off the ready queue, so they never block
 * the tasks of other handlers; when an attempt ends or the window slides, as
 * many as it can now admit go back to the ready queue at their priority:
 * O(1) per task either way, however many wait.
 */
class HandlerGate {
  readonly held = new PriorityQueue<TaskRecord>((record) => record.seq);
  /** Attempts of this handler in threads, running or waiting in a window. */
  running = 0;
  /** Tasks let back into line and not yet sent: their places are taken. */
  readonly admitted = new Set<TaskRecord>();
  /** Armed while tasks wait for the rate window to slide. */
  timer: unknown;
  readonly #cap: number | undefined;
  readonly #limiter: RateLimiter | undefined;

  constructor(cap: number | undefined, limit: RateLimit | undefined) {
    this.#cap = cap;
    this.#limiter = limit && new RateLimiter(limit);
  }

  /** What keeps one more attempt (of `record`, whose own place is not counted against it, if it has one) from being sent at `now`. */
  blocker(now: number, record?: TaskRecord): HeldBy | undefined {
    const reserved = this.admitted.size - (record && this.admitted.has(record) ? 1 : 0);
    if (this.#cap !== undefined && this.running + reserved >= this.#cap) return 'handlerConcurrency';
    if (this.#limiter && this.#limiter.available(now) - reserved <= 0) return 'rateLimit';
    return undefined;
  }

  /** An attempt was sent at `now`. */
  started(now: number): void {
    this.running++;
    this.#limiter?.record(now);
  }

  /** Ms until the rate window lets another start, 0 if it does or there is none. */
  wait(now: number): number {
    return this.#limiter ? this.#limiter.wait(now) : 0;
  }
}

/**
 * The processor-wide rate limit and one gate per limited handler (see
 * docs/scheduling.md), owned by the supervisor and called inside its
 * messages. Checks change nothing; a held task, a start or an end is told
 * by name. When a window will slide, a timer is armed that calls `reopen`,
 * which the supervisor turns into a `limits.open` message: the limits never
 * act on their own.
 */
export class Limits {
  readonly #global: RateLimiter | undefined;
  /** Armed while the processor-wide rate window is full. */
  #globalTimer: unknown;
  readonly #gates = new Map<string, HandlerGate>();
  readonly #timers: TimerQueue;
  readonly #reopen: () => void;

  constructor(options: Pick<ResolvedOptions, 'rateLimit' | 'perHandler'>, timers: TimerQueue, reopen: () => void) {
    this.#global = options.rateLimit && new RateLimiter(options.rateLimit);
    for (const [handler, { concurrency, rateLimit }] of options.perHandler) {
      this.#gates.set(handler, new HandlerGate(concurrency, rateLimit));
    }
    this.#timers = timers;
    this.#reopen = reopen;
  }

  /** Whether any limit is set: without one, a start needs no bookkeeping. */
  get any(): boolean {
    return this.#global !== undefined || this.#gates.size > 0;
  }

  /** Whether `handler` has limits of its own. */
  hasGate(handler: string): boolean {
    return this.#gates.has(handler);
  }

  /** Ms until the processor-wide rate window lets another attempt start; 0 if it does now. */
  globalWait(): number {
    return this.#global ? this.#global.wait(this.#timers.now()) : 0;
  }

  /** Reopens the limits when the processor-wide window slides, `wait` ms from now; once, however often asked. */
  armGlobal(wait: number): void {
    this.#globalTimer ??= this.#timers.setTimeout(() => {
      this.#globalTimer = undefined;
      this.#reopen();
    }, wait);
  }

  /** What of its handler's limits keeps `record` from being sent now, if anything (a place its gate keeps for it counts for it). */
  blocker(record: TaskRecord): HeldBy | undefined {
    return this.#gates.get(record.task.handler)?.blocker(this.#timers.now(), record);
  }

  /** Keeps `record` at its handler's gate until the gate admits it (see `release`). */
  hold(record: TaskRecord, heldBy: HeldBy): void {
    const gate = this.#gates.get(record.task.handler) as HandlerGate;
    gate.held.push(record, record.task.priority);
    if (heldBy === 'rateLimit') this.#armGate(gate);
  }

  /** An attempt of `handler` was sent to a thread: it counts against every limit from now. */
  started(handler: string): void {
    const now = this.#timers.now();
    this.#global?.record(now);
    this.#gates.get(handler)?.started(now);
  }

  /** An attempt of `handler` left its thread: its place under the handler's cap is free. */
  ended(handler: string): void {
    const gate = this.#gates.get(handler);
    if (gate) gate.running--;
  }

  /** A task its gate let back was taken off its line (to be sent, held again or parked), or ended: the place kept for it is given up. */
  unreserve(record: TaskRecord): void {
    if (this.#gates.size === 0) return;
    this.#gates.get(record.task.handler)?.admitted.delete(record);
  }

  /**
   * Lets held tasks back into line, as many as each gate (or only
   * `handler`'s) now admits, through `admit`, which returns false for a task
   * that ended while held (it takes no place). Each one let back keeps a
   * place at its gate until it is taken off its line (`unreserve`).
   */
  release(admit: (record: TaskRecord) => boolean, handler?: string): void {
    const now = this.#timers.now();
    if (handler === undefined) for (const gate of this.#gates.values()) this.#releaseFrom(gate, now, admit);
    else {
      const gate = this.#gates.get(handler);
      if (gate) this.#releaseFrom(gate, now, admit);
    }
  }

  /** Whether `handler`'s gate holds any task back. */
  holds(handler: string): boolean {
    return (this.#gates.get(handler)?.held.size ?? 0) > 0;
  }

  /** Nothing is left to start: the timers would only keep the process alive. */
  stop(): void {
    this.#timers.clearTimeout(this.#globalTimer);
    for (const gate of this.#gates.values()) this.#timers.clearTimeout(gate.timer);
  }

  #releaseFrom(gate: HandlerGate, now: number, admit: (record: TaskRecord) => boolean): void {
    while (gate.held.size > 0) {
      const blocker = gate.blocker(now);
      if (blocker !== undefined) {
        if (blocker === 'rateLimit') this.#armGate(gate);
        return;
      }
      const record = gate.held.shift() as TaskRecord;
      if (admit(record)) gate.admitted.add(record);
    }
  }

  #armGate(gate: HandlerGate): void {
    gate.timer ??= this.#timers.setTimeout(
      () => {
        gate.timer = undefined;
        this.#reopen();
      },
      Math.max(1, gate.wait(this.#timers.now())),
    );
  }
}

/**
 * The chaos run's books: a few bytes per task, in typed arrays indexed by
 * task number (not the results themselves), so the heap the soak reports is
 * Troupe's. They check that every accepted task ends exactly once, counted
 * across the processors of a run that restarts on a store: a task's
 * callback, its `result()` and its terminal event, wherever they come from.
 */
import type { TaskInput, TaskResult } from '../../src/index.js';

/** How a task ended, as the books keep it (0: not yet). HandedBack: cancelled with the reason `'shutdown'`. */
const Ending = { Done: 1, Failed: 2, Cancelled: 3, HandedBack: 4 } as const;

export const chaosId = (i: number) => `chaos-${i}`;
export const chaosIndex = (id: string) => Number(id.slice('chaos-'.length));

export class ChaosLedger {
  /** Every broken promise, described (the first 100); empty when all held. */
  readonly violations: string[] = [];
  readonly outcomes = { done: 0, failed: 0, cancelled: 0, handedBack: 0 };
  /** Results settled so far, over every processor of the run. */
  settled = 0;
  /** `submitAsync` calls that have not settled yet. */
  pendingAsync = 0;
  readonly #maxAttempts: number;
  /** With a store, shutdown keeps unfinished tasks for the next processor: none may end cancelled by it. */
  readonly #keeps: boolean;
  readonly #callbacks: Uint8Array;
  readonly #settles: Uint8Array;
  readonly #events: Uint8Array;
  readonly #endings: Uint8Array;
  /** How many times a restart found the task unfinished and the next processor recovered it. */
  readonly #recovered: Uint8Array;
  /** How many `result()` promises of processors that shut down keeping it rejected (one per restart that kept it). */
  readonly #abandoned: Uint8Array;

  constructor(tasks: number, maxAttempts: number, keeps: boolean) {
    this.#maxAttempts = maxAttempts;
    this.#keeps = keeps;
    this.#callbacks = new Uint8Array(tasks);
    this.#settles = new Uint8Array(tasks);
    this.#events = new Uint8Array(tasks);
    this.#endings = new Uint8Array(tasks);
    this.#recovered = new Uint8Array(tasks);
    this.#abandoned = new Uint8Array(tasks);
  }

  violation(text: string): void {
    if (this.violations.length < 100) this.violations.push(text);
  }

  /** The task's callback ran (only a task submitted to the processor that ends it has one). */
  callback(i: number): void {
    this.#callbacks[i]!++;
  }

  /** A `task.done`, `task.failed` or `task.cancelled` event named the task. */
  ended(i: number): void {
    this.#events[i]!++;
  }

  /** A processor shut down with the task unfinished, and the `result()` waiting on it there rejected. */
  abandoned(i: number): void {
    this.#abandoned[i]!++;
  }

  /** A restart found the task unfinished, and the new processor holds it. */
  recovered(i: number): void {
    this.#recovered[i]!++;
  }

  /** Whether the task has ended, as far as anything has told us. */
  hasEnded(i: number): boolean {
    return this.#settles[i] !== 0 || this.#events[i] !== 0;
  }

  /** The task's `result()` settled with `result`. */
  settle(i: number, result: TaskResult): void {
    this.#settles[i]!++;
    const callbacks = this.#callbacks[i]!;
    // A recovered task has no callback (functions are not stored); any other runs its own once, before result() settles.
    const expected = this.#recovered[i] === 0 ? 1 : 0;
    if (callbacks !== expected) this.violation(`${result.id}: result settled after ${callbacks} callbacks, not ${expected}`);
    if (result.attempts > this.#maxAttempts) this.violation(`${result.id}: ${result.attempts} attempts`);
    if (result.status === 'done') {
      this.#endings[i] = Ending.Done;
      this.outcomes.done++;
    } else if (result.status === 'failed') {
      this.#endings[i] = Ending.Failed;
      this.outcomes.failed++;
    } else if (result.reason === 'shutdown') {
      this.#endings[i] = Ending.HandedBack;
      if (this.#keeps) this.violation(`${result.id}: cancelled by shutdown, though the store should have kept it`);
    } else {
      this.#endings[i] = Ending.Cancelled;
      this.outcomes.cancelled++;
    }
    this.settled++;
  }

  /** What a shutdown without a store handed back: each must have ended cancelled by it. */
  handedBack(unfinished: readonly TaskInput[], tasks: number): Uint8Array {
    this.outcomes.handedBack = unfinished.length;
    const handedBack = new Uint8Array(tasks);
    for (const task of unfinished) {
      const i = chaosIndex(task.id as string);
      handedBack[i] = 1;
      if (this.#endings[i] !== Ending.HandedBack) this.violation(`${task.id}: handed back, but it did not end cancelled by shutdown`);
    }
    return handedBack;
  }

  /**
   * The last word, once every processor has stopped: each of the first
   * `submitted` tasks settled once, ended in one event, ran its callback if
   * it had one, and its `result()` on each processor that shut down keeping
   * it rejected; what ended cancelled by shutdown was handed back.
   */
  check(submitted: number, handedBack?: Uint8Array): void {
    for (let i = 0; i < submitted; i++) {
      const id = chaosId(i);
      if (this.#settles[i] !== 1) this.violation(`${id}: result settled ${this.#settles[i]} times`);
      if (this.#events[i] !== 1) this.violation(`${id}: ${this.#events[i]} terminal events`);
      const callbacks = this.#recovered[i] === 0 ? 1 : 0;
      if (this.#callbacks[i] !== callbacks) this.violation(`${id}: callback ran ${this.#callbacks[i]} times, not ${callbacks}`);
      if (this.#abandoned[i] !== this.#recovered[i]) {
        this.violation(`${id}: kept at ${this.#recovered[i]} restarts, but ${this.#abandoned[i]} waits on the processors it left ended`);
      }
      if (this.#endings[i] === Ending.HandedBack && handedBack?.[i] !== 1)
        this.violation(`${id}: cancelled by shutdown but not handed back`);
    }
    if (this.pendingAsync > 0) this.violation(`${this.pendingAsync} submitAsync promises never settled`);
  }
}

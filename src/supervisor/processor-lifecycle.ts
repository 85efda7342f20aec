import {
  ProcessorShutdownError,
  type RestartIntensityError,
  type StoreError,
  type StoreLockedError,
  type WorkerStartError,
} from '../errors/errors.js';
import type { Phase } from '../observe/status.js';

/** What stops new work: threads that could not start or crashed past the restart intensity, a store that failed. */
export type Fault = WorkerStartError | RestartIntensityError | StoreError | StoreLockedError;

/**
 * Where the processor is in its life: `starting` until every thread is up,
 * `running`, `draining` after `shutdown`, `stopped` once that resolved. It
 * only moves forward.
 */
export type Stage = 'starting' | 'running' | 'draining' | 'stopped';

/** What the facade and a broker read of the processor's lifecycle. */
export interface LifecycleView {
  readonly stage: Stage;
  /** Set by the fault that stopped new work, kept beside the stage. */
  readonly fault: Fault | undefined;
  /** What `getStatus().state` reports. */
  readonly phase: Phase;
  /** Up, and no fault: tasks start, the pool may be resized. */
  readonly running: boolean;
  /** `shutdown` was called. */
  readonly shuttingDown: boolean;
  /** Why new work is refused: a new `ProcessorShutdownError` once shutting down, else the fault; undefined while it is accepted. */
  refusal(): Error | undefined;
}

/**
 * The processor's lifecycle, kept by its supervisor: one stage, and beside
 * it the fault, if any. A fault is not a stage: a processor that fails
 * still shuts down through `draining` to `stopped`, and one that fails
 * while draining goes on draining. Its getters change nothing; the
 * supervisor moves it with the four verbs.
 */
export class ProcessorLifecycle implements LifecycleView {
  #stage: Stage = 'starting';
  #fault: Fault | undefined;

  get stage(): Stage {
    return this.#stage;
  }

  get fault(): Fault | undefined {
    return this.#fault;
  }

  get running(): boolean {
    return this.#stage === 'running' && this.#fault === undefined;
  }

  get shuttingDown(): boolean {
    return this.#stage === 'draining' || this.#stage === 'stopped';
  }

  get draining(): boolean {
    return this.#stage === 'draining';
  }

  get stopped(): boolean {
    return this.#stage === 'stopped';
  }

  /** Threads are started, taken into the pool and replaced: not stopped, and no fault (past one, the threads up keep working). */
  get keepsThreads(): boolean {
    return this.#stage !== 'stopped' && this.#fault === undefined;
  }

  /** The stage, but `error` for a fault until `shutdown`. */
  get phase(): Phase {
    return this.#fault !== undefined && !this.shuttingDown ? 'error' : this.#stage;
  }

  refusal(): Error | undefined {
    return this.shuttingDown ? new ProcessorShutdownError() : this.#fault;
  }

  /** Every thread is up: a processor still starting runs (one shut down meanwhile goes on draining). */
  run(): void {
    if (this.#stage === 'starting') this.#stage = 'running';
  }

  /** New work is refused with `fault` from now on; the stage stays. */
  fail(fault: Fault): void {
    this.#fault = fault;
  }

  /** `shutdown`: from `starting` or `running`. */
  drain(): void {
    if (!this.shuttingDown) this.#stage = 'draining';
  }

  /** Nothing is left to wait for. */
  stop(): void {
    this.#stage = 'stopped';
  }
}

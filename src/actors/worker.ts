import type { ResourceLimits, TransferListItem } from 'node:worker_threads';
import type { Clock } from '../clock.js';
import { WorkerCrashedError, WorkerStartError } from '../errors.js';
import { deserializeError, serializeError } from '../serialize-error.js';
import type { WireAttempt, WireOutcome } from './protocol.js';
import { ThreadHandle, type ThreadExit } from './thread-handle.js';

/** What a worker actor tells its supervisor. */
export type WorkerReport =
  | { readonly type: 'worker.ready'; readonly worker: WorkerActor; readonly handlers: readonly string[] }
  | { readonly type: 'worker.startFailed'; readonly worker: WorkerActor; readonly error: WorkerStartError }
  | {
      /** Every attempt that settled in one answer of the thread: many tasks per message. */
      readonly type: 'attempts.settled';
      readonly worker: WorkerActor;
      readonly settled: readonly SettledAttempt[];
    }
  | {
      readonly type: 'worker.exited';
      readonly worker: WorkerActor;
      readonly exit: ThreadExit;
      /** Attempts that were running when the thread died: they never settled. */
      readonly lost: ReadonlyArray<{ readonly token: number; readonly id: string }>;
      /** True when the supervisor asked for the stop. */
      readonly expected: boolean;
      /** Set when this actor terminated the thread because that attempt ignored its abort. */
      readonly killedFor: number | undefined;
    };

export interface SettledAttempt {
  readonly token: number;
  readonly id: string;
  readonly outcome: WireOutcome;
}

export interface WorkerActorOptions {
  readonly id: number;
  readonly handlers: URL;
  /** Attempts its thread runs at once. */
  readonly concurrency: number;
  readonly resourceLimits?: ResourceLimits | undefined;
  readonly clock: Clock;
  /** How long an aborted attempt may run on before the thread is terminated, in ms. */
  readonly abortGrace: number;
  readonly report: (report: WorkerReport) => void;
}


/**
 * Drives one worker thread. It owns the thread and the set of attempts running
 * on it, and talks to the supervisor only through `report`. It never decides a
 * task's fate: it reports what happened (settled, lost with the thread) and
 * the supervisor's task machines decide.
 */
export class WorkerActor {
  readonly id: number;
  readonly #options: WorkerActorOptions;
  #thread: ThreadHandle | undefined;
  #phase: 'idle' | 'starting' | 'ready' | 'failed' | 'exited' = 'idle';
  #stopping = false;
  #killedFor: number | undefined;
  readonly #running = new Map<number, string>();
  readonly #graceTimers = new Map<number, unknown>();
  /** Attempts dispatched in this tick, sent to the thread as one message. */
  #outbox: WireAttempt[] = [];

  constructor(options: WorkerActorOptions) {
    this.id = options.id;
    this.#options = options;
  }

  /** The `worker_threads` thread id; -1 before the thread exists. */
  get threadId(): number {
    return this.#thread?.threadId ?? -1;
  }

  /** Whether it can take another attempt now. */
  get hasCapacity(): boolean {
    return this.#phase === 'ready' && this.#running.size < this.#options.concurrency;
  }

  start(): void {
    if (this.#phase !== 'idle') return;
    this.#phase = 'starting';
    const { handlers, report } = this.#options;
    let thread: ThreadHandle;
    try {
      const { resourceLimits } = this.#options;
      thread = new ThreadHandle({ handlers, ...(resourceLimits ? { resourceLimits } : {}) });
    } catch (cause) {
      this.#phase = 'failed';
      queueMicrotask(() => report({ type: 'worker.startFailed', worker: this, error: startError(cause) }));
      return;
    }
    this.#thread = thread;
    void thread.exited.then((exit) => this.#onExit(exit));
    thread.load({ concurrency: this.#options.concurrency }, (outcomes) => this.#settle(outcomes)).then(
      (outcome) => {
        if (this.#phase !== 'starting') return;
        if (outcome.ok) {
          this.#phase = 'ready';
          // An idle pool must not keep the process alive; a running attempt does.
          if (this.#running.size === 0) thread.unref();
          report({ type: 'worker.ready', worker: this, handlers: outcome.handlers });
        } else {
          this.#phase = 'failed';
          void thread.terminate();
          report({
            type: 'worker.startFailed',
            worker: this,
            error: new WorkerStartError(`The handler module ${handlers.href} failed to load: ${outcome.error.message}`, {
              cause: deserializeError(outcome.error),
            }),
          });
        }
      },
      () => {
        // The thread exited while loading: #onExit reports it.
      },
    );
  }

  run(attempt: WireAttempt): void {
    const thread = this.#thread;
    const { token } = attempt;
    this.#running.set(token, attempt.id);
    if (!thread || this.#phase !== 'ready') {
      // The thread died before the supervisor heard of it: the attempt is lost
      // with it, reported a tick later like any other answer.
      const crash = new WorkerCrashedError(this.id, null);
      queueMicrotask(() => this.#settle([{ token, ok: false, retryable: true, error: serializeError(crash) }]));
      return;
    }
    if (this.#running.size === 1) thread.ref();
    if (this.#outbox.push(attempt) === 1) queueMicrotask(() => this.flush());
  }

  /**
   * Sends everything dispatched since the last send as one message; at the
   * latest a microtask after the first, sooner when the supervisor asks.
   */
  flush(): void {
    if (this.#outbox.length > 0 && this.#thread) this.#send(this.#thread);
  }

  #send(thread: ThreadHandle): void {
    const batch = this.#outbox;
    this.#outbox = [];
    let transfers: TransferListItem[] | undefined;
    for (const attempt of batch) if (attempt.transfer) (transfers ??= []).push(...attempt.transfer);
    try {
      thread.run(batch, transfers);
    } catch (error) {
      // A buffer could not be moved: the attempts never reached the thread,
      // so they fail here (retryable) rather than wait forever.
      const failure = serializeError(error);
      this.#settle(batch.map(({ token }) => ({ token, ok: false, error: failure, retryable: true })));
    }
  }

  /**
   * Aborts the attempt's signal in the thread. A handler that ignores it gets
   * `abortGrace` ms; then the whole thread is terminated, which is the only way
   * to stop synchronous JavaScript.
   */
  abort(token: number, reason: Error): void {
    const thread = this.#thread;
    if (!thread || !this.#running.has(token) || this.#graceTimers.has(token)) return;
    thread.call('abort', token, serializeError(reason)).catch(() => {});
    const { clock, abortGrace } = this.#options;
    this.#graceTimers.set(
      token,
      clock.setTimeout(() => {
        this.#graceTimers.delete(token);
        if (!this.#running.has(token)) return;
        this.#killedFor ??= token;
        void thread.terminate();
      }, abortGrace),
    );
  }

  /** Terminates the thread; the exit is reported as expected. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#clearTimers();
    if (this.#thread && this.#phase !== 'exited') await this.#thread.terminate();
  }

  #settle(outcomes: readonly WireOutcome[]): void {
    const settled: SettledAttempt[] = [];
    for (const outcome of outcomes) {
      const { token } = outcome;
      const id = this.#running.get(token);
      if (id === undefined) continue;
      this.#running.delete(token);
      if (this.#graceTimers.size > 0) this.#clearTimer(token);
      settled.push({ token, id, outcome });
    }
    if (this.#running.size === 0) this.#thread?.unref();
    if (settled.length > 0) this.#options.report({ type: 'attempts.settled', worker: this, settled });
  }

  #onExit(exit: ThreadExit): void {
    const phase = this.#phase;
    this.#phase = 'exited';
    this.#clearTimers();
    const lost = [...this.#running].map(([token, id]) => ({ token, id }));
    this.#running.clear();
    const { report } = this.#options;
    if (phase === 'failed') return; // already reported as a failed start
    if (phase === 'starting' && !this.#stopping) {
      const detail = exit.error ? `: ${exit.error.message}` : ` with code ${exit.code}`;
      report({
        type: 'worker.startFailed',
        worker: this,
        error: new WorkerStartError(`Worker ${this.id} exited before it was ready${detail}`, { cause: exit.error }),
      });
      return;
    }
    report({ type: 'worker.exited', worker: this, exit, lost, expected: this.#stopping, killedFor: this.#killedFor });
  }

  #clearTimer(token: number): void {
    const timer = this.#graceTimers.get(token);
    if (timer === undefined) return;
    this.#options.clock.clearTimeout(timer);
    this.#graceTimers.delete(token);
  }

  #clearTimers(): void {
    for (const token of [...this.#graceTimers.keys()]) this.#clearTimer(token);
  }
}

function startError(cause: unknown): WorkerStartError {
  return cause instanceof WorkerStartError
    ? cause
    : new WorkerStartError(`The worker thread could not be created: ${String(cause)}`, { cause });
}

import type { TransferListItem } from 'node:worker_threads';
import { Subject } from 'rxjs';
import {
  PoisonTaskError,
  ProcessorShutdownError,
  RestartIntensityError,
  TaskCancelledError,
  WorkerCrashedError,
  type WorkerStartError,
} from '../errors/errors.js';
import type { ProcessorEvent } from '../observe/events.js';
import type { Phase, StatusCounts } from '../observe/status.js';
import { deferred } from '../util/deferred.js';
import type { TaskContext, TaskEntered } from '../machines/task.js';
import type { ResolvedOptions } from '../options/types.js';
import { Metrics, type ProcessorMetrics, type WorkerMetrics } from '../observe/metrics.js';
import { PriorityQueue } from '../util/priority-queue.js';
import { RateLimiter } from '../util/rate-limiter.js';
import { TimerQueue } from '../util/timer-queue.js';
import { Queue } from '../util/queue.js';
import { Conditions } from '../util/conditions.js';
import { ResultStore } from '../util/result-store.js';
import { resultInfo } from '../task/results.js';
import { deserializeError } from '../errors/serialize.js';
import type { FailedResult, FinalTaskState, TaskInfo, TaskInput, TaskResult, TaskState } from '../task/types.js';
import type { NormalizedTask } from '../task/normalize.js';
import { HandlerGate, type BlockedBy } from './handler-gate.js';
import { RestartPolicy } from './restart-policy.js';
import { CompiledLifecycles } from '../machines/lifecycles.js';
import { Inspection, InspectedActor, machineSnapshot, ROOT_ID } from '../observe/inspection.js';
import type { LifecycleHooks, TaskLifecycle, TaskLifecycles } from '../machines/lifecycles.js';
import type { WireAttempt, WireOutcome } from '../workers/protocol.js';
import { WorkerActor, type SettledAttempt, type StartedAttempt, type WorkerReport } from '../workers/worker.js';

/** One accepted, unfinished task. Owned by the supervisor alone. */
interface TaskRecord {
  readonly task: NormalizedTask;
  /** The payload as the next attempt gets it: a failed attempt hands moved buffers back. */
  payload: unknown;
  transfer: readonly TransferListItem[] | undefined;
  readonly lifecycle: TaskLifecycle;
  state: TaskState;
  readonly submittedAt: number;
  startedAt: number | undefined;
  /** While scheduled: when it is due, on the clock. */
  readonly runAt: number | undefined;
  /** Token of this record's attempt in a thread (running or waiting there); 0 when none. */
  token: number;
  /** Token of the last attempt whose start the machine was told of. */
  startedToken: number;
  /** It was on a thread that died with other attempts: it runs alone from now on. */
  suspect: boolean;
  /** When it last entered the queue, and when its running attempt started (performance.now()). */
  queuedAt: number;
  runStart: number;
  /** Held by its handler's gate, and why. */
  blockedBy: BlockedBy | undefined;
  /** Let back into the ready queue by its handler's gate, not yet sent. */
  released: boolean;
  /** Queued, but an earlier attempt of the same id is still stopping. */
  parked: boolean;
  /** Attempts that ended with their thread crashing. */
  crashes: number;
  /** Delivered by a broker: its retries and its result go back to the broker. */
  readonly remote: boolean;
  /** A broker's task given back unfinished (shutdown): the broker delivers it again elsewhere. */
  returned: boolean;
  /** Listens to the task's AbortSignal until the task ends. */
  onAbort?: () => void;
  waiters: Array<(result: TaskResult) => void> | undefined;
}

/** An attempt in flight on a worker, possibly orphaned (timed out, cancelled) and still stopping. */
interface Attempt {
  readonly token: number;
  readonly record: TaskRecord;
  readonly worker: WorkerActor;
}

/** What the supervisor processes, one at a time, in order. */
export type SupervisorMessage =
  /** `attempts`: set for a task a broker delivered, the attempts its earlier deliveries made. */
  | { readonly type: 'task.submit'; readonly task: NormalizedTask; readonly attempts?: number; readonly submittedAt?: number }
  | { readonly type: 'task.cancel'; readonly id: string; readonly reason: string }
  | TaskEntered
  | { readonly type: 'task.timer'; readonly fire: () => void }
  | { readonly type: 'results.clear' }
  | { readonly type: 'shutdown'; readonly timeout: number; readonly drain: boolean }
  | { readonly type: 'task.abort'; readonly record: TaskRecord; readonly reason: string }
  | { readonly type: 'shutdown.deadline' }
  | { readonly type: 'worker.respawn'; readonly slot: number }
  | { readonly type: 'limits.open' }
  | { readonly type: 'limits.ended'; readonly handler: string }
  | WorkerReport;


export interface ShutdownOutcome {
  /** Tasks that had not finished at the deadline: cancelled here, and handed back so they can be resubmitted. */
  readonly unfinished: TaskInput[];
}

/**
 * Where a broker's tasks go when they leave this node. A broker (see
 * `broker/`) delivers tasks with `task.submit` and `attempts`; the supervisor
 * runs each attempt under the same machine, and gives the task back through
 * these, called after the message that decided it.
 */
export interface RemoteTaskHooks {
  /** An attempt failed and the machine chose to retry: deliver the task again after `delay` ms. */
  retry(id: string, delay: number, error: Error): void;
  /** The task ended here: store `result` as its one terminal result. */
  finished(result: TaskResult): void;
  /** The task leaves this node unfinished (shutdown): deliver it again, to any node. */
  returned(id: string): void;
}

/**
 * The supervisor actor. It alone owns the registry of unfinished tasks, the
 * ready queue, the in-flight attempts and the worker table; every change to
 * them is a message it processes from its mailbox, one at a time, to
 * completion. Task machines and worker actors talk to it only by messages.
 *
 * User code (callbacks, `result()` continuations, event subscribers) never
 * runs inside a message: it is deferred until the mailbox is empty, so it may
 * call back into the processor (`submit` from a callback) without seeing or
 * causing a half-applied change.
 */
export class Supervisor {
  readonly events = new Subject<ProcessorEvent>();
  readonly ready = deferred<void>();
  readonly stopped = deferred<ShutdownOutcome>();

  readonly #options: ResolvedOptions;
  readonly #mailbox = new Queue<SupervisorMessage>();
  readonly #effects = new Queue<() => void>();
  readonly #conditions = new Conditions();
  #draining = false;
  #flushing = false;

  readonly #live = new Map<string, TaskRecord>();
  readonly #ready = new PriorityQueue<TaskRecord>();
  /** Tasks that run only alone on a thread (see #workerExited). */
  readonly #suspects = new Queue<TaskRecord>();
  readonly #attempts = new Map<string, Attempt>();
  readonly #done: ResultStore<TaskResult>;
  readonly #failed: ResultStore<FailedResult>;
  readonly #counts = { scheduled: 0, queued: 0, processing: 0, retrying: 0, done: 0, failed: 0, cancelled: 0 };
  /** Every machine delay of every task, on one timer of the clock. */
  readonly #timers: TimerQueue;
  /** `rateLimit` across the processor, if set. */
  readonly #limiter: RateLimiter | undefined;
  /** Armed while the processor-wide rate window is full. */
  #limiterTimer: unknown;
  /** Handlers whose attempts left their threads in the message being processed. */
  readonly #ended: string[] = [];
  /** Handlers with limits of their own. */
  readonly #gates = new Map<string, HandlerGate<TaskRecord>>();

  readonly #workers = new Set<WorkerActor>();
  readonly #slotOf = new Map<WorkerActor, number>();
  /** Ready workers, taken round-robin so work spreads evenly across threads. */
  readonly #ring: WorkerActor[] = [];
  #cursor = 0;
  #workerSeq = 0;
  #started = 0;
  #tokenSeq = 0;
  readonly #restarts: RestartPolicy;
  readonly #restartTimers = new Set<unknown>();

  #phase: Phase = 'starting';
  #error: WorkerStartError | RestartIntensityError | undefined;
  #deadline: unknown;
  /** Whether queued tasks still start while shutting down. */
  #drain = true;
  readonly #unfinished: TaskInput[] = [];

  readonly #lifecycles: TaskLifecycles;
  /** XState inspection of the supervisor, its workers and every task, while an observer is attached. */
  readonly inspection = new Inspection();
  readonly #ref = new InspectedActor(ROOT_ID, () => machineSnapshot(this.#phase, this.counts(), this.#phase === 'stopped'));
  readonly #workerRefs = new Map<WorkerActor, InspectedActor>();
  /** Counters and histograms of everything that passes; read by `metrics()` and Prometheus. */
  readonly metrics = new Metrics({
    tasks: () => {
      const { scheduled, queued, processing, retrying } = this.#counts;
      return { scheduled, queued, processing, retrying };
    },
    workers: () => [...this.#workers].map((worker) => this.#workerMetrics(worker)),
  });

  readonly #remote: RemoteTaskHooks | undefined;

  constructor(options: ResolvedOptions, remote?: RemoteTaskHooks) {
    this.#options = options;
    this.#remote = remote;
    this.#restarts = new RestartPolicy(options.restart);
    this.#done = new ResultStore(options.retention.maxResults);
    this.#failed = new ResultStore(options.retention.maxFailed);
    this.ready.promise.catch(() => {});
    // One listener for every task: no closure per task.
    const hooks: LifecycleHooks = {
      entered: (event) => this.send(event),
      timer: (fire) => this.send({ type: 'task.timer', fire }),
    };
    // An inspector is shown real actors, one per task; without one, the
    // machines are stepped through their compiled tables, at a fraction of the cost.
    this.#timers = new TimerQueue(options.clock);
    this.#limiter = options.rateLimit && new RateLimiter(options.rateLimit);
    for (const [handler, { concurrency, rateLimit }] of options.perHandler) {
      this.#gates.set(handler, new HandlerGate(concurrency, rateLimit));
    }
    if (options.inspect) this.inspection.attach(options.inspect);
    this.inspection.started(this.#ref);
    this.#lifecycles = new CompiledLifecycles(this.#timers, hooks, this.inspection, this.#ref);
    for (let slot = 1; slot <= options.workers; slot++) this.#spawnWorker(slot);
    // A pure client of a broker runs nothing here: it is ready at once.
    if (options.workers === 0) {
      this.#phase = 'running';
      this.ready.resolve();
    }
  }

  // ── queries: read-only views of the supervisor's state ────────────────────

  get phase(): Phase {
    return this.#phase;
  }

  /** Set when the threads could not start; new submits are refused with it. */
  get error(): WorkerStartError | RestartIntensityError | undefined {
    return this.#error;
  }

  counts(): StatusCounts {
    return { ...this.#counts };
  }

  /** Tasks waiting: scheduled, queued or retrying (not running). */
  get waiting(): number {
    const counts = this.#counts;
    return counts.scheduled + counts.queued + counts.retrying;
  }

  /** Unfinished tasks, waiting or running. */
  get unfinished(): number {
    return this.#live.size;
  }

  /**
   * Resolves once `holds()` is true: at once if it already is, else after the
   * first message that makes it so. Checked after each drain of the mailbox,
   * O(conditions waiting).
   */
  until(holds: () => boolean): Promise<void> {
    return this.#conditions.until(holds);
  }

  isLive(id: string): boolean {
    return this.#live.has(id);
  }

  isProcessing(id: string): boolean {
    return this.#live.get(id)?.state === 'processing';
  }

  getResult(id: string): TaskResult | undefined {
    return this.#done.get(id) ?? this.#failed.get(id);
  }

  getFailedTasks(): Map<string, FailedResult> {
    return new Map(this.#failed.entries());
  }

  getTask(id: string): TaskInfo | undefined {
    const record = this.#live.get(id);
    if (record) return taskInfo(record.task, record.state, record.lifecycle.context, record, this.#blockedBy(record));
    const result = this.getResult(id);
    return result && resultInfo(result);
  }

  #workerMetrics(worker: WorkerActor): WorkerMetrics {
    const slot = this.#slotOf.get(worker) ?? 1;
    const { crashes, restarts } = this.metrics.ofSlot(slot);
    return { id: worker.id, slot, threadId: worker.threadId, state: worker.phase, held: worker.held, tasks: worker.tasks(5), crashes, restarts };
  }

  snapshotMetrics(): ProcessorMetrics {
    return this.metrics.snapshot(Date.now());
  }

  /** Why a queued task has not been sent to a thread, if a limit holds it back. */
  #blockedBy(record: TaskRecord): BlockedBy | undefined {
    if (record.blockedBy) return record.blockedBy;
    const waiting = record.state === 'queued' && record.token === 0;
    return waiting && this.#limiter && this.#limiter.available(this.#timers.now()) === 0 ? 'rateLimit' : undefined;
  }

  /** Resolves with the task's final result; `undefined` if the id is unknown. */
  result(id: string): Promise<TaskResult> | undefined {
    const record = this.#live.get(id);
    if (record) return new Promise((resolve) => (record.waiters ??= []).push(resolve));
    const result = this.getResult(id);
    return result && Promise.resolve(result);
  }

  // ── the mailbox ────────────────────────────────────────────────────────────

  send(message: SupervisorMessage): void {
    this.#mailbox.push(message);
    if (this.#draining) return;
    this.#draining = true;
    try {
      for (let next = this.#mailbox.shift(); next !== undefined; next = this.#mailbox.shift()) this.#receive(next);
    } finally {
      this.#draining = false;
    }
    this.#conditions.check();
    this.#flush();
  }

  #effect(effect: () => void): void {
    this.#effects.push(effect);
  }

  #emit(event: ProcessorEvent): void {
    if (this.events.observed) this.#effect(() => this.events.next(event));
  }

  #flush(): void {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      for (let next = this.#effects.shift(); next !== undefined; next = this.#effects.shift()) next();
    } finally {
      this.#flushing = false;
    }
  }

  #receive(message: SupervisorMessage): void {
    if (!this.inspection.active) return this.#handle(message);
    const event = inspectable(message);
    const source = 'worker' in message ? this.#workerRefs.get(message.worker) : undefined;
    this.inspection.received(this.#ref, event, source);
    this.#handle(message);
    this.inspection.changed(this.#ref, event);
    if ('worker' in message && (message.type === 'worker.ready' || message.type === 'worker.exited')) {
      const ref = this.#workerRefs.get(message.worker);
      if (ref) this.inspection.changed(ref, event);
    }
  }

  #handle(message: SupervisorMessage): void {
    switch (message.type) {
      case 'task.submit':
        return this.#submit(message.task, message.attempts, message.submittedAt);
      case 'task.cancel':
        return this.#live.get(message.id)?.lifecycle.send({ type: 'task.cancel', reason: message.reason });
      case 'task.abort':
        // The task's own AbortSignal: it cancels that run, not a later one of the same id.
        if (this.#live.get(message.record.task.id) === message.record) {
          message.record.lifecycle.send({ type: 'task.cancel', reason: message.reason });
        }
        return;
      case 'task.entered':
        return this.#entered(message.state, message.context);
      case 'task.timer':
        return message.fire();
      case 'results.clear':
        this.#done.clear();
        return this.#failed.clear();
      case 'attempts.settled':
        return this.#heard(message.worker, message.started, message.settled);
      case 'worker.ready':
        return this.#workerReady(message.worker, message.handlers);
      case 'worker.startFailed':
        return this.#workerStartFailed(message.worker, message.error);
      case 'worker.exited':
        return this.#workerExited(message);
      case 'limits.open':
        return this.#openLimits();
      case 'limits.ended':
        return this.#gateRoom(message.handler);
      case 'worker.respawn':
        if (this.#phase !== 'stopped' && this.#phase !== 'error') {
          this.metrics.restarted(message.slot);
          this.#spawnWorker(message.slot);
        }
        return;
      case 'shutdown':
        return this.#shutdown(message.timeout, message.drain);
      case 'shutdown.deadline':
        return this.#deadlinePassed();
    }
  }

  // ── tasks ──────────────────────────────────────────────────────────────────

  #submit(task: NormalizedTask, attempts?: number, submittedAt = Date.now()): void {
    // A finished id may be reused: its old result is discarded.
    this.#done.delete(task.id);
    this.#failed.delete(task.id);
    const { backoff } = this.#options;
    const now = this.#timers.now();
    const wait = task.runAt !== undefined ? task.runAt - now : task.delay;
    const startDelay = wait !== undefined && wait > 0 ? wait : undefined;
    const lifecycle = this.#lifecycles.create({
      id: task.id,
      handler: task.handler,
      maxRetries: task.maxRetries,
      timeout: task.timeout,
      backoff,
      startDelay,
      attempts,
    });
    const record: TaskRecord = {
      task,
      payload: task.payload,
      transfer: task.transfer,
      lifecycle,
      state: 'scheduled',
      runAt: startDelay === undefined ? undefined : now + startDelay,
      submittedAt,
      startedAt: undefined,
      token: 0,
      startedToken: 0,
      suspect: false,
      blockedBy: undefined,
      released: false,
      queuedAt: 0,
      runStart: 0,
      parked: false,
      crashes: 0,
      remote: attempts !== undefined,
      returned: false,
      waiters: undefined,
    };
    this.#live.set(task.id, record);
    this.#counts.scheduled++;
    this.metrics.submitted();
    const { signal } = task;
    if (signal) {
      const reason = () => {
        const why: unknown = signal.reason;
        return why instanceof Error ? why.message : why === undefined ? 'aborted' : String(why);
      };
      if (signal.aborted) {
        record.lifecycle.send({ type: 'task.cancel', reason: reason() });
      } else {
        record.onAbort = () => this.send({ type: 'task.abort', record, reason: reason() });
        signal.addEventListener('abort', record.onAbort, { once: true });
      }
    }
  }

  #entered(state: TaskState, context: TaskContext): void {
    const record = this.#live.get(context.id);
    if (!record) return;
    if (state === 'done' || state === 'failed' || state === 'cancelled') return this.#finish(record, state, context);
    const previous = record.state;
    if (previous !== state) {
      this.#counts[previous]--;
      this.#counts[state]++;
      record.state = state;
    }
    // Shutting down without draining: nothing starts again; it is handed back.
    // A broker's task is given back to the broker, for another node to run.
    if (this.#phase === 'draining' && (!this.#drain || record.remote) && state !== 'processing') return this.#handBack(record);
    switch (state) {
      case 'scheduled':
        if (record.runAt !== undefined) this.#emit({ type: 'task.scheduled', id: context.id, runAt: record.runAt });
        return;
      case 'queued':
        record.token = 0; // no attempt of it is in a thread any more
        record.queuedAt = performance.now();
        this.#enqueue(record);
        this.#emit({ type: 'task.queued', id: context.id, attempts: context.attempts });
        return this.#dispatch();
      case 'retrying':
        this.metrics.retried();
        this.#leaveProcessing(record, context.error);
        if (record.remote) return this.#retryElsewhere(record, context);
        this.#emit({
          type: 'task.retrying',
          id: context.id,
          attempt: context.attempts,
          delay: context.retryDelay ?? 0,
          error: context.error ?? new Error('unknown failure'),
        });
        return;
      case 'processing':
        return; // announced by #dispatch, which knows the worker
    }
  }

  /**
   * The machine left `processing`. If the attempt has not settled (it timed
   * out, or was cancelled) it is orphaned: abort it in the thread. It stays in
   * #attempts until it stops, so no second attempt of the id can start.
   */
  #leaveProcessing(record: TaskRecord, reason: Error | undefined): void {
    const attempt = this.#attempts.get(record.task.id);
    if (record.token !== 0 && attempt?.token === record.token) {
      attempt.worker.abort(attempt.token, reason ?? new Error('The attempt was abandoned'));
    }
    record.token = 0;
  }

  /**
   * A broker's task will retry: the broker delivers it again after the
   * backoff, to whichever node has room, so it leaves this one now, unfinished.
   */
  #retryElsewhere(record: TaskRecord, context: TaskContext): void {
    const { id } = record.task;
    const delay = context.retryDelay ?? 0;
    const error = context.error ?? new Error('unknown failure');
    this.#live.delete(id);
    this.#counts.retrying--;
    record.lifecycle.stop();
    this.#emit({ type: 'task.retrying', id, attempt: context.attempts, delay, error });
    const remote = this.#remote;
    if (remote) this.#effect(() => remote.retry(id, delay, error));
    this.#checkDrained();
  }

  #finish(record: TaskRecord, state: FinalTaskState, context: TaskContext): void {
    const { id, signal } = record.task;
    this.#live.delete(id);
    // A long-lived signal must not keep every finished task it served alive.
    if (record.onAbort) signal?.removeEventListener('abort', record.onAbort);
    this.#counts[record.state]--;
    this.#counts[state]++;
    // Running, or sent and waiting in a thread's window: either way it is stopped there.
    if (record.token !== 0) {
      this.#leaveProcessing(record, state === 'cancelled' ? new TaskCancelledError(context.reason ?? 'cancelled') : context.error);
    }
    record.state = state;
    const remote = this.#remote;
    if (record.returned && remote) {
      // Not an end: the broker delivers it again. Nothing is stored or announced.
      this.#counts[state]--;
      this.#effect(() => remote.returned(id));
      return this.#checkDrained();
    }
    this.metrics.finished(state, Date.now());
    const result = finalResult(record, state, context);
    if (result.status === 'failed') this.#failed.set(result);
    else this.#done.set(result);
    if (record.remote && remote) this.#effect(() => remote.finished(result));
    const { callback } = record.task;
    const waiters = record.waiters;
    if (callback || waiters) {
      this.#effect(() => {
        if (callback) {
          try {
            callback(result);
          } catch (error) {
            this.events.next({ type: 'callback.error', id, error });
          }
        }
        if (waiters) for (const resolve of waiters) resolve(result);
      });
    }
    this.#emit({ type: `task.${result.status}`, id, result } as ProcessorEvent);
    this.#checkDrained();
  }

  /**
   * Sends ready tasks to threads: first to threads with a free run slot, then
   * into their windows. A task sent stays `queued` until its thread reports
   * that it started it. When the queue runs dry while a thread sits empty,
   * half of the largest window waiting elsewhere is taken back for it.
   */
  #dispatch(): void {
    this.#dispatchSuspects();
    while (this.#ready.size > 0) {
      const worker = this.#nextWorker();
      if (!worker || this.#rateLimited()) return;
      const record = this.#ready.shift() as TaskRecord;
      if (this.#sendable(record) && this.#admitted(record)) this.#send(record, worker, false);
    }
    this.#steal();
  }

  /** The processor-wide rate window is full: nothing starts until it slides (a timer is armed for that). */
  #rateLimited(): boolean {
    const limiter = this.#limiter;
    if (!limiter) return false;
    const wait = limiter.wait(this.#timers.now());
    if (wait <= 0) return false;
    this.#limiterTimer ??= this.#timers.setTimeout(() => {
      this.#limiterTimer = undefined;
      this.send({ type: 'limits.open' });
    }, wait);
    return true;
  }

  /** Passes the task's handler gate, or leaves the task held there. */
  #admitted(record: TaskRecord): boolean {
    const gate = this.#gates.get(record.task.handler);
    if (!gate) return true;
    const now = this.#timers.now();
    const blocker = gate.blocker(now);
    if (blocker === undefined) return true;
    record.blockedBy = blocker;
    gate.held.push(record, record.task.priority);
    if (blocker === 'rateLimit') this.#armGate(gate, now);
    return false;
  }

  #armGate(gate: HandlerGate<TaskRecord>, now: number): void {
    gate.timer ??= this.#timers.setTimeout(() => {
      gate.timer = undefined;
      this.send({ type: 'limits.open' });
    }, Math.max(1, gate.wait(now)));
  }

  /** Lets back into the ready queue as many held tasks as each gate now admits, then dispatches. */
  #openLimits(): void {
    const now = this.#timers.now();
    for (const gate of this.#gates.values()) this.#openGate(gate, now);
    this.#dispatch();
  }

  #openGate(gate: HandlerGate<TaskRecord>, now: number): void {
    while (gate.held.size > 0) {
      const blocker = gate.blocker(now);
      if (blocker !== undefined) {
        if (blocker === 'rateLimit') this.#armGate(gate, now);
        return;
      }
      const record = gate.held.shift() as TaskRecord;
      if (record.state !== 'queued' || this.#live.get(record.task.id) !== record) continue; // ended while held
      record.blockedBy = undefined;
      record.released = true;
      gate.released++;
      this.#enqueue(record);
    }
  }

  /**
   * An attempt left its thread (settled, or lost with it). Its handler's gate
   * learns it from a message of its own, queued behind the task's own
   * transitions, so the next task's `task.started` never precedes this one's
   * `task.done`: a cap read from the events holds too.
   */
  #leftThread(record: TaskRecord): void {
    if (this.#gates.has(record.task.handler)) this.#ended.push(record.task.handler);
  }

  /** Sends the gates' messages, once the tasks' own transitions are queued. */
  #sendEnded(): void {
    for (const handler of this.#ended.splice(0)) this.send({ type: 'limits.ended', handler });
  }

  #gateRoom(handler: string): void {
    const gate = this.#gates.get(handler) as HandlerGate<TaskRecord>;
    gate.running--;
    if (gate.held.size === 0) return;
    this.#openGate(gate, this.#timers.now());
    this.#dispatch();
  }

  /** Whether a task taken from a queue is still to be sent (not cancelled, not sent already, not parked). */
  #sendable(record: TaskRecord): boolean {
    const { id } = record.task;
    if (record.released) {
      record.released = false;
      (this.#gates.get(record.task.handler) as HandlerGate<TaskRecord>).released--;
    }
    if (record.state !== 'queued' || this.#live.get(id) !== record || record.token !== 0) return false;
    if (this.#attempts.has(id)) {
      // An earlier attempt of this id is still stopping: at most one runs at a time.
      record.parked = true;
      return false;
    }
    return true;
  }

  #send(record: TaskRecord, worker: WorkerActor, alone: boolean): void {
    const { id } = record.task;
    const token = ++this.#tokenSeq;
    record.token = token;
    this.#attempts.set(id, { token, record, worker });
    if (this.#limiter || this.#gates.size > 0) {
      const now = this.#timers.now();
      this.#limiter?.record(now);
      this.#gates.get(record.task.handler)?.started(now);
    }
    const attempt = record.lifecycle.context.attempts + 1;
    const { payload, transfer } = record;
    const { handler } = record.task;
    // Into a free slot it starts on arrival; into the window, when the thread says so.
    const startsNow = alone || worker.hasFreeSlot;
    // Built field by field: a spread per task showed up in profiles.
    const wire: { -readonly [K in keyof WireAttempt]: WireAttempt[K] } = { token, id, handler, attempt, payload };
    if (transfer) wire.transfer = transfer;
    if (!startsNow) wire.windowed = true;
    if (alone) worker.runAlone(wire);
    else worker.run(wire);
    if (this.inspection.active) {
      const ref = this.#workerRefs.get(worker) as InspectedActor;
      this.inspection.received(ref, { type: 'attempt.run', id, attempt, token }, this.#ref);
    }
    if (startsNow) this.#start(record, worker);
  }

  /** Each suspect goes to an empty thread, alone; if none is empty, one thread is drained for them. */
  #dispatchSuspects(): void {
    while (this.#suspects.size > 0) {
      let empty: WorkerActor | undefined;
      let draining = false;
      let fewest: WorkerActor | undefined;
      for (const worker of this.#ring) {
        if (worker.isEmpty) {
          empty = worker;
          break;
        }
        if (worker.isDraining) draining = true;
        else if (!fewest || worker.held < fewest.held) fewest = worker;
      }
      if (!empty) {
        if (!draining) fewest?.drain();
        return;
      }
      if (this.#rateLimited()) return;
      const record = this.#suspects.shift() as TaskRecord;
      if (this.#sendable(record) && this.#admitted(record)) this.#send(record, empty, true);
    }
  }

  /** The next worker with room, round-robin, preferring a free run slot to a window; O(workers). */
  #nextWorker(): WorkerActor | undefined {
    const ring = this.#ring;
    let windowed: WorkerActor | undefined;
    let windowedAt = 0;
    for (let scanned = 0; scanned < ring.length; scanned++) {
      const index = (this.#cursor + scanned) % ring.length;
      const worker = ring[index] as WorkerActor;
      if (worker.hasFreeSlot) {
        this.#cursor = index + 1;
        return worker;
      }
      if (!windowed && worker.canTake()) {
        windowed = worker;
        windowedAt = index;
      }
    }
    if (windowed) this.#cursor = windowedAt + 1;
    return windowed;
  }

  /** Work waiting in one thread's window while another thread has nothing is taken back. */
  #steal(): void {
    if (this.#ready.size > 0 || this.#ring.length < 2) return;
    let empty = false;
    let donor: WorkerActor | undefined;
    for (const worker of this.#ring) {
      if (worker.isEmpty) empty = true;
      else if (worker.revocable > (donor?.revocable ?? 0)) donor = worker;
    }
    if (empty && donor) donor.revoke(Math.ceil(donor.revocable / 2));
  }

  /** The attempt's slot is free: a parked task of the same id may now run. */
  #unpark(id: string): void {
    const record = this.#live.get(id);
    if (record?.parked) {
      record.parked = false;
      this.#enqueue(record);
    }
  }

  /**
   * A thread's news: attempts it started, attempts that settled. Freed slots
   * are refilled (and the new attempts sent) before the settled tasks'
   * machines and results are updated: the thread waits for its next task for
   * as long as that takes, and for a CPU-bound pool that wait is the overhead.
   */
  #heard(worker: WorkerActor, started: readonly StartedAttempt[], settled: readonly SettledAttempt[]): void {
    for (const { token, id } of started) {
      const record = this.#attempts.get(id)?.record;
      if (!record || record.token !== token || record.startedToken === token || this.#live.get(id) !== record) continue;
      this.#start(record, worker);
    }
    const verdicts: Array<[TaskRecord, Exclude<WireOutcome, { unstarted: true }>]> = [];
    for (const { token, id, outcome } of settled) {
      const attempt = this.#attempts.get(id);
      if (attempt?.token !== token) continue;
      this.#attempts.delete(id);
      const { record } = attempt;
      this.#leftThread(record);
      if (!outcome.ok && outcome.returned) {
        record.payload = outcome.returned.payload;
        record.transfer = outcome.returned.transfer;
      }
      const current = record.token === token && this.#live.get(id) === record;
      if ('unstarted' in outcome) {
        if (current) this.#putBack(record, token);
      } else if (current) verdicts.push([record, outcome]);
      this.#unpark(id);
    }
    this.#dispatch();
    for (const ring of this.#ring) ring.flush();
    for (const [record, outcome] of verdicts) {
      // It ended without a start on record (it could not be sent at all): it started and ended here.
      if (record.startedToken !== record.token) this.#start(record, worker);
      this.metrics.ran(performance.now() - record.runStart);
      // The machine is the arbiter: if it already left `processing` it ignores these.
      record.lifecycle.send(
        outcome.ok
          ? { type: 'task.succeed', value: outcome.value }
          : { type: 'task.fail', error: deserializeError(outcome.error), retryable: outcome.retryable },
      );
    }
    this.#sendEnded();
    this.#checkDrained();
  }

  /** Its thread started the attempt: the machine enters `processing`, and its timeout runs from now. */
  #start(record: TaskRecord, worker: WorkerActor): void {
    record.startedToken = record.token;
    record.startedAt = Date.now();
    record.runStart = performance.now();
    this.metrics.started(record.runStart - record.queuedAt);
    record.lifecycle.send({ type: 'task.dispatch' });
    this.#emit({ type: 'task.started', id: record.task.id, attempt: record.lifecycle.context.attempts, workerId: worker.id });
  }

  /**
   * The attempt ended without a verdict (taken back, or lost with a thread
   * stopped for another reason): the task waits again, uncharged.
   */
  #putBack(record: TaskRecord, token: number): void {
    if (record.startedToken === token) {
      record.lifecycle.send({ type: 'task.release' }); // re-enters `queued`, which queues it
      return;
    }
    record.token = 0;
    if (record.state === 'queued') this.#enqueue(record);
  }

  #enqueue(record: TaskRecord): void {
    if (record.suspect) this.#suspects.push(record);
    else this.#ready.push(record, record.task.priority);
  }

  // ── workers ────────────────────────────────────────────────────────────────

  /** Starts a worker in `slot` (1 to `workers`): a replacement takes the slot of the thread it replaces. */
  #spawnWorker(slot: number): void {
    const { handlers, clock, abortGrace, concurrency, window, resourceLimits } = this.#options;
    const worker = new WorkerActor({
      id: ++this.#workerSeq,
      handlers,
      concurrency,
      window,
      resourceLimits,
      clock,
      abortGrace,
      report: (report) => this.send(report),
    });
    this.#workers.add(worker);
    this.#slotOf.set(worker, slot);
    const ref = new InspectedActor(
      `troupe.worker.${worker.id}`,
      () => machineSnapshot(worker.phase, { threadId: worker.threadId, held: worker.held }, worker.phase === 'exited'),
      this.#ref,
    );
    this.#workerRefs.set(worker, ref);
    this.inspection.started(ref);
    worker.start();
  }

  /** Removes a worker from the tables; returns the slot it held. */
  #removeWorker(worker: WorkerActor): number {
    const slot = this.#slotOf.get(worker) ?? 1;
    this.#slotOf.delete(worker);
    this.#workers.delete(worker);
    const ref = this.#workerRefs.get(worker);
    if (ref) this.inspection.stopped(ref);
    this.#workerRefs.delete(worker);
    const index = this.#ring.indexOf(worker);
    if (index !== -1) this.#ring.splice(index, 1);
    return slot;
  }

  #workerReady(worker: WorkerActor, handlers: readonly string[]): void {
    if (!this.#workers.has(worker) || this.#phase === 'stopped' || this.#phase === 'error') {
      void worker.stop();
      return;
    }
    this.#ring.push(worker);
    this.#emit({ type: 'worker.started', workerId: worker.id, threadId: worker.threadId, handlers });
    if (++this.#started === this.#options.workers) {
      if (this.#phase === 'starting') this.#phase = 'running';
      this.ready.resolve();
      this.#emit({ type: 'processor.ready' });
    }
    this.#dispatch();
  }

  #workerStartFailed(worker: WorkerActor, error: WorkerStartError): void {
    const slot = this.#removeWorker(worker);
    if (this.#phase === 'stopped' || this.#phase === 'error') return;
    if (this.#started < this.#options.workers) return this.#failStart(error);
    // A replacement thread failed to start: it counts as a restart.
    this.#restartLater(slot);
  }

  /**
   * Restarts a thread after the policy's backoff, or, past the restart
   * intensity, stops restarting: the processor enters its `error` state.
   */
  #restartLater(slot: number): void {
    const delay = this.#restarts.next(Date.now());
    if (delay === undefined) return this.#giveUp();
    const { clock } = this.#options;
    const timer = clock.setTimeout(() => {
      this.#restartTimers.delete(timer);
      this.send({ type: 'worker.respawn', slot });
    }, delay);
    this.#restartTimers.add(timer);
  }

  /**
   * Restarting does not help: new submits are refused with the error, the
   * threads still up keep working, and accepted tasks stay until `shutdown`
   * hands them back.
   */
  #giveUp(): void {
    const { maxRestarts, window } = this.#options.restart;
    const error = new RestartIntensityError(maxRestarts, window);
    this.#phase = 'error';
    this.#error = error;
    this.#emit({ type: 'processor.error', error });
  }

  /**
   * The pool never came up (the handler module does not load): nothing
   * accepted can ever run, so every accepted task ends `cancelled` with the
   * reason, new submits are refused with the error, and `ready` rejects.
   */
  #failStart(error: WorkerStartError): void {
    this.#phase = 'error';
    this.#error = error;
    for (const worker of this.#workers) void worker.stop();
    this.#workers.clear();
    this.#ring.length = 0;
    for (const record of this.#live.values()) {
      record.lifecycle.send({ type: 'task.cancel', reason: `The worker threads could not start: ${error.message}` });
    }
    this.ready.reject(error);
    this.#emit({ type: 'processor.error', error });
  }

  #workerExited({ worker, exit, lost, expected, killedFor }: Extract<WorkerReport, { type: 'worker.exited' }>): void {
    const slot = this.#removeWorker(worker);
    // Alone on its thread, an attempt that dies with it is the cause. With
    // others beside it, the cause cannot be told (a thread's news of what it
    // started and finished travels in batches): every attempt it held becomes
    // a suspect, put back uncharged, and runs alone from now on, where a
    // crash is its own.
    const alone = lost.length === 1;
    for (const { token, id } of lost) {
      const attempt = this.#attempts.get(id);
      if (attempt?.token !== token) continue;
      this.#attempts.delete(id);
      const { record } = attempt;
      this.#leftThread(record);
      if (record.token === token && this.#live.get(id) === record) {
        if (expected) {
          // Stopped by the supervisor (shutdown): back to the queue, not charged.
          this.#putBack(record, token);
        } else if (!alone || killedFor !== undefined) {
          record.suspect = true;
          this.#putBack(record, token);
        } else {
          const crash = new WorkerCrashedError(worker.id, exit.code, exit.error ? { cause: exit.error } : undefined);
          const crashes = ++record.crashes;
          const poisoned = crashes >= this.#options.maxCrashes;
          if (record.startedToken !== token) this.#start(record, worker);
          record.lifecycle.send({
            type: 'task.fail',
            error: poisoned ? new PoisonTaskError(id, crashes, { cause: crash }) : crash,
            retryable: !poisoned,
          });
        }
      }
      this.#unpark(id);
    }
    this.#sendEnded();
    if (!expected) this.metrics.crashed(slot);
    this.#emit({
      type: 'worker.exited',
      workerId: worker.id,
      threadId: worker.threadId,
      exitCode: exit.code,
      error: exit.error,
      expected,
    });
    // A drain this exit completed needs no replacement thread.
    this.#checkDrained();
    if (!expected && this.#phase !== 'stopped' && this.#phase !== 'error') this.#restartLater(slot);
    this.#dispatch();
  }

  // ── shutdown ───────────────────────────────────────────────────────────────

  #shutdown(timeout: number, drain: boolean): void {
    if (this.#phase === 'draining' || this.#phase === 'stopped') return;
    this.#phase = 'draining';
    this.#drain = drain;
    for (const record of this.#live.values()) {
      if (record.state !== 'processing' && (!drain || record.remote)) this.#handBack(record);
    }
    // No time to wait: hand everything back now, not on the clock's next tick.
    if (timeout === 0) return this.#deadlinePassed();
    this.#deadline = this.#options.clock.setTimeout(() => this.send({ type: 'shutdown.deadline' }), timeout);
    this.#checkDrained();
  }

  /** Whatever has not finished by the deadline is cancelled and handed back, never dropped. */
  #deadlinePassed(): void {
    this.#deadline = undefined;
    if (this.#phase !== 'draining') return;
    for (const record of this.#live.values()) this.#handBack(record);
    this.#stop();
  }

  /** Cancels a task for shutdown and keeps its input, to return in `unfinished`. */
  #handBack(record: TaskRecord): void {
    if (record.remote) {
      record.returned = true;
      return record.lifecycle.send({ type: 'task.cancel', reason: 'shutdown' });
    }
    const { id, handler, priority, maxRetries, timeout, callback, signal } = record.task;
    const { payload, transfer } = record;
    this.#unfinished.push({
      id,
      payload,
      ...(transfer ? { transfer } : {}),
      handler,
      priority,
      ...(record.state === 'scheduled' && record.runAt !== undefined ? { runAt: record.runAt } : {}),
      maxRetries,
      ...(timeout !== undefined ? { timeout } : {}),
      ...(callback ? { callback } : {}),
      ...(signal ? { signal } : {}),
    });
    record.lifecycle.send({ type: 'task.cancel', reason: 'shutdown' });
  }

  #checkDrained(): void {
    if (this.#phase === 'draining' && this.#live.size === 0 && this.#attempts.size === 0) this.#stop();
  }

  #stop(): void {
    this.#phase = 'stopped';
    this.ready.reject(new ProcessorShutdownError('The processor was shut down before its threads were ready'));
    const { clock } = this.#options;
    if (this.#deadline !== undefined) clock.clearTimeout(this.#deadline);
    // Nothing is left to start: the limits' timers would only keep the process alive.
    this.#timers.clearTimeout(this.#limiterTimer);
    for (const gate of this.#gates.values()) this.#timers.clearTimeout(gate.timer);
    for (const timer of this.#restartTimers) clock.clearTimeout(timer);
    this.#restartTimers.clear();
    const workers = [...this.#workers];
    this.#ring.length = 0;
    void Promise.all(workers.map((worker) => worker.stop())).then(() => {
      const unfinished = this.#unfinished.splice(0);
      this.stopped.resolve({ unfinished });
      this.events.next({ type: 'processor.shutdown', unfinished: unfinished.length });
      this.events.complete();
    });
  }
}

/** Each shape spelled out: a spread of a shared base per task showed up in profiles. */
function finalResult(record: TaskRecord, state: FinalTaskState, context: TaskContext): TaskResult {
  const { id, handler, priority, maxRetries, timeout } = record.task;
  const { submittedAt, startedAt } = record;
  const { attempts } = context;
  const finishedAt = Date.now();
  switch (state) {
    case 'done':
      return { id, handler, priority, maxRetries, timeout, attempts, submittedAt, startedAt, finishedAt, status: 'done', value: context.value };
    case 'failed': {
      const error = context.error ?? new Error('unknown failure');
      const { payload } = record;
      return { id, handler, priority, maxRetries, timeout, attempts, submittedAt, startedAt, finishedAt, status: 'failed', error, payload };
    }
    case 'cancelled': {
      const reason = context.reason ?? 'cancelled';
      return { id, handler, priority, maxRetries, timeout, attempts, submittedAt, startedAt, finishedAt, status: 'cancelled', reason };
    }
  }
}

function taskInfo(
  task: NormalizedTask,
  state: TaskState,
  context: TaskContext,
  record: Pick<TaskRecord, 'submittedAt' | 'startedAt' | 'runAt'>,
  blockedBy: BlockedBy | undefined,
): TaskInfo {
  return {
    id: task.id,
    state,
    handler: task.handler,
    priority: task.priority,
    runAt: state === 'scheduled' ? record.runAt : undefined,
    blockedBy,
    attempts: context.attempts,
    maxRetries: task.maxRetries,
    timeout: task.timeout,
    submittedAt: record.submittedAt,
    startedAt: record.startedAt,
    lastError: context.error,
    retryDelay: state === 'retrying' ? context.retryDelay : undefined,
  };
}

/** A supervisor message as an inspector sees it: its type and what names its subject, not its internals. */
function inspectable(message: SupervisorMessage): { type: string } & Record<string, unknown> {
  switch (message.type) {
    case 'task.submit':
      return { type: message.type, id: message.task.id, handler: message.task.handler, priority: message.task.priority };
    case 'task.cancel':
      return { type: message.type, id: message.id, reason: message.reason };
    case 'task.abort':
      return { type: message.type, id: message.record.task.id, reason: message.reason };
    case 'task.entered':
      return { type: message.type, id: message.context.id, state: message.state };
    case 'attempts.settled':
      return { type: message.type, workerId: message.worker.id, started: message.started.length, settled: message.settled.length };
    case 'worker.ready':
    case 'worker.startFailed':
    case 'worker.exited':
      return { type: message.type, workerId: message.worker.id };
    case 'shutdown':
      return { type: message.type, timeout: message.timeout, drain: message.drain };
    case 'limits.ended':
      return { type: message.type, handler: message.handler };
    default:
      return { type: message.type };
  }
}

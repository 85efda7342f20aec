/**
 * The facade users call: the `Processor` class (`createProcessor` makes
 * one). It owns no task state: it checks input and calls the backend it
 * picked in its constructor (backend.ts), and reads its supervisor's
 * read-only views. Exported by name from index.ts.
 */
import type { Registry } from 'prom-client';
import type { Observable } from 'rxjs';

import type { ActorRef } from './actors/actor-ref.js';
import { checkActorOf } from './actors/spawn-options.js';
import type { ActorOfOptions, SpawnOptions } from './actors/types.js';
import type { VirtualActorRef } from './actors/virtual-ref.js';
import type { Backend, OpenBroker } from './backend.js';
import type { Dashboard, DashboardOptions } from './dashboard/server.js';
import { InvalidOptionError, ProcessorShutdownError, UnknownTaskError } from './errors/errors.js';
import { LocalBackend } from './local-backend.js';
import type { ProcessorEvent } from './observe/events.js';
import type { InspectionObserver } from './observe/inspection.js';
import type { ProcessorMetrics } from './observe/metrics.js';
import type { ProcessorStatus } from './observe/status.js';
import { status$, TaskStreams } from './observe/streams.js';
import { checkScale } from './options/resolve.js';
import type { ResolvedOptions, ShutdownOptions } from './options/types.js';
import type { ShutdownOutcome, Supervisor } from './supervisor/supervisor.js';
import { normalizeTask } from './task/normalize.js';
import type { FailedResult, TaskInfo, TaskInput, TaskResult } from './task/types.js';
import { abortable } from './util/abortable.js';
import { aNumber, checkNumber, describe, nonNegativeNumber, optionalBoolean } from './util/validate.js';

export type { ShutdownOptions, ShutdownOutcome };

/**
 * A pool of worker threads that runs tasks by id, retries them with backoff,
 * and shuts down without losing any. Create one with {@link createProcessor}.
 *
 * The processor is a thin facade over one backend, chosen when it is made:
 * the supervisor actor of this process, which owns all state, or a broker
 * over it.
 */
export class Processor {
  readonly #backend: Backend;
  /** This process's threads, actors and measurements, whichever the backend. */
  readonly #supervisor: Supervisor;
  readonly #options: ResolvedOptions;
  #shutdown: Promise<ShutdownOutcome> | undefined;

  /**
   * Resolves when every thread has loaded the handler module; rejects with
   * `WorkerStartError` if it fails to load. Tasks may be submitted before.
   *
   * @example
   * ```ts
   * await processor.ready; // throws WorkerStartError for a broken handler module
   * ```
   */
  readonly ready: Promise<void>;
  /**
   * Every task and worker event, as an rxjs Observable (hot: subscribe before
   * the events you want). Completes after shutdown. rxjs is loaded the first
   * time this (or `status$`, `task$`) is read, not when Troupe is imported.
   *
   * @example
   * ```ts
   * processor.events
   *   .pipe(filter((event) => event.type === 'task.failed'))
   *   .subscribe((event) => alert(event.id, event.result.error));
   * ```
   */
  get events(): Observable<ProcessorEvent> {
    return (this.#events ??= this.#backend.events());
  }

  /**
   * The processor's status (as `getStatus()`): the current one on subscribe,
   * then at most one per tick after anything changes, however many tasks
   * changed in it. Completes after shutdown.
   *
   * @example
   * ```ts
   * processor.status$.subscribe(({ queued, processing, done }) => render(queued, processing, done));
   * ```
   */
  get status$(): Observable<ProcessorStatus> {
    return (this.#status ??= status$(this.events, () => this.getStatus()));
  }

  // The Observables are made on first use: rxjs is loaded then (see `observe/rx.ts`).
  #events: Observable<ProcessorEvent> | undefined;
  #status: Observable<ProcessorStatus> | undefined;
  #tasks: TaskStreams | undefined;

  /** @internal Use {@link createProcessor}. */
  constructor(options: ResolvedOptions) {
    this.#options = options;
    // Options type a broker's `open` loosely, knowing no backend (see `OpenBroker`).
    const broker = options.broker as OpenBroker | undefined;
    this.#backend = broker ? broker.open({ options, local: (remote) => new LocalBackend(options, remote) }) : new LocalBackend(options);
    this.#supervisor = this.#backend.supervisor;
    this.ready = this.#backend.ready;
  }

  /**
   * One task's snapshots (as `getTask(id)`): the current one on subscribe,
   * then one per state it enters; completes after its final state (at once
   * for a finished task still retained). Errors with `UnknownTaskError` for
   * an id the processor does not know.
   *
   * @example
   * ```ts
   * processor.task$(id).subscribe((task) => console.log(task.state, task.attempts));
   * ```
   */
  task$(id: string): Observable<TaskInfo> {
    this.#tasks ??= new TaskStreams(this.events, (taskId) => this.getTask(taskId));
    return this.#tasks.task$(id, () => new UnknownTaskError(id));
  }

  /**
   * Accepts a task and returns its id (generated when the task has none).
   * Throws, and changes nothing, when the task is invalid
   * (`InvalidTaskError`), its id is unfinished (`DuplicateTaskError`),
   * `maxQueue` tasks are already waiting (`QueueFullError`), or the processor
   * is shut down (`ProcessorShutdownError`) or failed to start
   * (`WorkerStartError`). A finished id may be reused: its old result is discarded.
   *
   * @example
   * ```ts
   * const id = processor.submit({ id: 'img-1', handler: 'resize', payload: { url } });
   * ```
   */
  submit<P>(task: TaskInput<P>): string {
    this.#checkAccepting();
    const normalized = normalizeTask(task, this.#options);
    this.#backend.submit(normalized);
    return normalized.id;
  }

  /** Refuses new tasks once shutting down, or after a fault (threads that could not start, a store that failed). */
  #checkAccepting(): void {
    const refusal = this.#supervisor.lifecycle.refusal();
    if (refusal) throw refusal;
  }

  /**
   * Like `submit`, but waits for room when `maxQueue` tasks are waiting,
   * instead of throwing `QueueFullError`: a producer that awaits it cannot
   * flood memory. It rejects at once for a task `submit` would refuse for
   * its content, and with the signal's reason if `signal` aborts first. The
   * payload is copied when the task is accepted. With a broker it resolves
   * once the broker holds the task, and rejects with `DuplicateTaskError` for
   * an id taken within the duplicate window by any process.
   *
   * @example
   * ```ts
   * for await (const line of lines) await processor.submitAsync({ payload: line });
   * ```
   */
  async submitAsync<P>(task: TaskInput<P>, { signal }: { signal?: AbortSignal } = {}): Promise<string> {
    // Refused for its content before it waits for anything.
    normalizeTask(task, this.#options);
    const { maxQueue } = this.#options;
    for (;;) {
      signal?.throwIfAborted();
      if (this.#backend.waiting < maxQueue) {
        this.#checkAccepting();
        const normalized = normalizeTask(task, this.#options);
        await this.#backend.submitAsync(normalized);
        return normalized.id;
      }
      await abortable(this.onSizeLessThan(maxQueue), signal);
    }
  }

  /**
   * Resolves when fewer than `limit` tasks wait (scheduled, queued or
   * retrying); at once if that is already so (p-queue's semantics).
   *
   * @example
   * ```ts
   * if (processor.getStatus().queued > 1_000) await processor.onSizeLessThan(100);
   * ```
   */
  onSizeLessThan(limit: number): Promise<void> {
    checkNumber('limit', limit, aNumber);
    const backend = this.#backend;
    return backend.until(() => backend.waiting < limit);
  }

  /**
   * Resolves when no task waits (some may still run); at once if none does.
   * With a broker, this process cannot tell waiting from running elsewhere:
   * it resolves when its submissions have ended.
   *
   * @example
   * ```ts
   * await processor.onEmpty(); // everything submitted has started
   * ```
   */
  onEmpty(): Promise<void> {
    const backend = this.#backend;
    return backend.until(() => backend.waiting === 0);
  }

  /**
   * Resolves when no task waits or runs; at once if none does.
   *
   * @example
   * ```ts
   * await processor.onIdle(); // every task accepted so far has finished
   * ```
   */
  onIdle(): Promise<void> {
    const backend = this.#backend;
    return backend.until(() => backend.unfinished === 0);
  }

  /**
   * Resolves with the task's final result: `done`, `failed` or `cancelled`.
   * It never rejects for a task failure; it rejects with `UnknownTaskError`
   * for an id the processor never accepted or has already forgotten
   * (see `retention`). With a broker, any process's task: its result comes
   * from whichever node ran it.
   *
   * @example
   * ```ts
   * const result = await processor.result(id);
   * if (result.status === 'done') use(result.value);
   * ```
   */
  result<T = unknown>(id: string): Promise<TaskResult<T>> {
    return this.#backend.result(id) as Promise<TaskResult<T>>;
  }

  /**
   * The result of a finished task, if it is still retained; `undefined` while
   * it runs.
   *
   * @example
   * ```ts
   * const result = processor.getResult('img-1');
   * if (result?.status === 'failed') console.error(result.error);
   * ```
   */
  getResult<T = unknown>(id: string): TaskResult<T> | undefined {
    return this.#backend.getResult(id) as TaskResult<T> | undefined;
  }

  /**
   * A task in any state: unfinished, or finished and retained.
   *
   * @example
   * ```ts
   * const info = processor.getTask('img-1');
   * if (info?.state === 'retrying') console.log(`attempt ${info.attempts} failed, next in ${info.retryDelay} ms`);
   * ```
   */
  getTask(id: string): TaskInfo | undefined {
    return this.#backend.getTask(id);
  }

  /**
   * Starts an actor of your own on a worker thread: `logic` names an export
   * of the handler module that is XState actor logic (a machine, or
   * `fromTransition` / `fromPromise` / … logic). Resolves with its ref once
   * it runs. Rejects with `DuplicateActorError` for an id a live actor has,
   * `InvalidActorError` for an export that is not actor logic (naming what
   * the module exports) or an input that cannot be cloned to a thread,
   * `ProcessorShutdownError` once shutting down, and with `ActorStartError`
   * (naming the actor and its logic, what it threw as its `cause`) if it
   * fails as it starts. Not with a broker: see docs/actors.md.
   * `snapshot` resumes it from a persisted snapshot (as `shutdown()` returns
   * them); `restart: 'on-error'` restarts it when its logic throws, as a
   * thread crash does.
   *
   * @example
   * ```ts
   * const counter = await processor.spawn('counter', { id: 'counter-1', input: { start: 0 } });
   * const { context } = await counter.ask({ type: 'inc' });
   * ```
   */
  async spawn(logic: string, options: SpawnOptions = {}): Promise<ActorRef> {
    return this.#backend.spawn(logic, options);
  }

  /**
   * The address of a virtual actor: the handler module's actor logic
   * `logic` under `key`. Synchronous, and nothing runs yet: the actor is
   * always addressable, and its first event activates it on a thread,
   * restored from the key's persisted snapshot (with a store, from the
   * file), or started with this `input` if it has none. Events from one
   * sender are processed in order; `ask` resolves with the snapshot right
   * after its event, once kept. Throws `InvalidActorError`, changing
   * nothing, for a `logic` or `key` that is not a non-empty string or an
   * input that cannot be cloned to a thread; with a broker, virtual actors
   * are not available yet. See docs/actors.md.
   *
   * @example
   * ```ts
   * const ada = processor.actorOf('account', 'ada', { input: { owner: 'Ada' } });
   * ada.send({ type: 'deposit', amount: 10 });
   * const { context } = await ada.ask({ type: 'withdraw', amount: 5 });
   * ```
   */
  actorOf(logic: string, key: string, options?: ActorOfOptions): VirtualActorRef {
    const { input, restart } = checkActorOf(logic, key, options);
    return this.#backend.actorOf(logic, key, input, restart);
  }

  /** The live actor of this id, or undefined. */
  actor(id: string): ActorRef | undefined {
    return this.#supervisor.actors.ref(id);
  }

  /** Every live actor. */
  actors(): ActorRef[] {
    return this.#supervisor.actors.refs();
  }

  /**
   * With a store: the actors earlier runs left in it (stopped by shutdown, or
   * live when the process died) that have not been resumed yet. Spawning
   * one's `logic` under its `id` resumes it from its stored snapshot.
   *
   * @example
   * ```ts
   * for (const { id, logic } of processor.storedActors()) await processor.spawn(logic, { id });
   * ```
   */
  storedActors(): Array<{ id: string; logic: string }> {
    return this.#supervisor.actors.storedActors();
  }

  /**
   * True only while an attempt of the task is running (not while it waits in
   * the queue or for a retry).
   *
   * @example
   * ```ts
   * if (!processor.isProcessing(id)) processor.cancel(id);
   * ```
   */
  isProcessing(id: string): boolean {
    return this.#supervisor.tasks.isProcessing(id);
  }

  /**
   * The retained failed results by id, as a copy: changing it changes nothing.
   * Each keeps the task's payload, so failed tasks can be resubmitted.
   *
   * @example
   * ```ts
   * for (const [id, failed] of processor.getFailedTasks()) {
   *   processor.submit({ id, handler: failed.handler, payload: failed.payload });
   * }
   * ```
   */
  getFailedTasks(): Map<string, FailedResult> {
    return this.#backend.getFailedTasks();
  }

  /**
   * Forgets every retained result, failed ones included. Unfinished tasks and
   * the totals of `getStatus()` are not touched.
   *
   * @example
   * ```ts
   * processor.clearResults();
   * processor.getResult(id); // undefined
   * ```
   */
  clearResults(): void {
    this.#backend.clearResults();
  }

  /**
   * Counts by state, throughput over the last minute, queue wait and run time
   * as percentiles (p50, p90, p99, max, in ms, read to within 5%), retries,
   * and each worker's state and crashes. Each update along the way is O(1).
   *
   * @example
   * ```ts
   * const { throughput, queueWait, runTime } = processor.metrics();
   * console.log(`${throughput.perSecond.toFixed(1)}/s, wait p99 ${queueWait.p99} ms, run p50 ${runTime.p50} ms`);
   * ```
   */
  metrics(): ProcessorMetrics {
    return this.#supervisor.metrics.snapshot(Date.now());
  }

  /**
   * The same measurements as a prom-client `Registry`, in Prometheus' naming
   * (`troupe_tasks_finished_total{status}`, `troupe_task_run_seconds`, …; see
   * docs/metrics.md). Merge it into an app's registry with
   * `Registry.merge([appRegistry, processor.metricsRegistry])`, or serve
   * `prometheus()`.
   */
  get metricsRegistry(): Registry {
    return this.#supervisor.metrics.registry;
  }

  /**
   * Serves a live dashboard: counts by state, a throughput and run-time chart,
   * the workers and what they run, recent failures, tasks by state a page at
   * a time, and a task's payload, result or error and lifecycle; `/metrics`
   * serves Prometheus text, `/api/` a JSON API (docs/dashboard.md). With a
   * `token`, every request for data needs it as a bearer token, and the page
   * and the API can cancel and retry tasks and clear results. It listens on
   * 127.0.0.1 unless `host` says otherwise; another host without a `token`
   * is refused with `InvalidOptionError`, and nothing is served.
   *
   * @example
   * ```ts
   * const token = randomBytes(32).toString('base64url');
   * const dashboard = await processor.serveDashboard({ port: 8080, token });
   * console.log(`dashboard at ${dashboard.url}#token=${token}`);
   * ```
   */
  async serveDashboard(options?: DashboardOptions): Promise<Dashboard> {
    // Loaded on first use: a processor that never serves one never loads it.
    const { serveDashboard } = await import('./dashboard/server.js');
    return serveDashboard(this, this.#supervisor.tasks, options);
  }

  /**
   * The measurements in Prometheus' text exposition format, for a `/metrics` endpoint.
   *
   * @example
   * ```ts
   * http.createServer(async (_req, res) => res.end(await processor.prometheus())).listen(9464, '127.0.0.1');
   * ```
   */
  prometheus(): Promise<string> {
    return this.#supervisor.metrics.registry.metrics();
  }

  /**
   * Attaches an XState inspection observer (a function or `{ next }`), as the
   * `inspect` option does at creation: the supervisor (`troupe.supervisor`),
   * every worker actor (`troupe.worker.<n>`) and every task lifecycle
   * (`troupe.task.<id>`) appear as actors with their events and snapshots.
   * Actors that exist already are announced at once. With no observer
   * attached, inspection costs nothing.
   *
   * @example
   * ```ts
   * const subscription = processor.inspect((event) => {
   *   if (event.type === '@xstate.snapshot') console.log(event.actorRef.sessionId, (event.snapshot as { value?: unknown }).value);
   * });
   * subscription.unsubscribe();
   * ```
   */
  inspect(observer: InspectionObserver): { unsubscribe(): void } {
    if (typeof observer !== 'function' && typeof (observer as { next?: unknown } | null)?.next !== 'function') {
      throw new InvalidOptionError('observer', `Expected an inspection observer (a function or { next }), got ${describe(observer)}`);
    }
    return this.#supervisor.inspection.attach(observer);
  }

  /**
   * Counts of tasks by state, and totals of finished tasks since start.
   *
   * @example
   * ```ts
   * const { queued, processing, retrying, done, failed } = processor.getStatus();
   * ```
   */
  getStatus(): ProcessorStatus {
    return this.#backend.status();
  }

  /**
   * Resizes the pool of task threads to `workers`, and resolves once that
   * many are ready (at once when shrinking). A thread that leaves first
   * gives back the tasks waiting in its window, lets its running attempts
   * finish, then exits: nothing is lost or charged. An elastic pool then
   * grows and shrinks from there, within its `min` and `max`. A later call
   * takes over from an earlier one, which then resolves. Refused with
   * `InvalidOptionError` for a `workers` that is not a positive integer
   * (within `min`..`max` for an elastic pool), `ProcessorShutdownError`
   * once shut down, or the error that stopped the pool.
   *
   * @example
   * ```ts
   * await processor.scale(8); // a burst is coming
   * processor.getStatus().workers; // 8
   * ```
   */
  async scale(workers: number): Promise<void> {
    checkScale(workers, this.#options);
    if (this.#shutdown) throw new ProcessorShutdownError();
    // Not before the threads are up: a thread stopped while it starts would keep `ready` waiting.
    await this.ready;
    const supervisor = this.#supervisor;
    const { lifecycle } = supervisor;
    if (!lifecycle.running) throw lifecycle.fault ?? new ProcessorShutdownError();
    const growing = workers >= supervisor.threads.size;
    this.#backend.resize(workers);
    // Reached, or overtaken by a later size (a `scale`, an elastic pool's change), or the pool stopped.
    await supervisor.until(() => {
      const { size, ready } = supervisor.threads;
      if (!lifecycle.running) return true;
      return growing ? ready >= workers || size < workers : ready <= workers || size > workers;
    });
    if (!lifecycle.running) throw lifecycle.fault ?? new ProcessorShutdownError();
  }

  /**
   * Cancels an unfinished task. A queued or retrying task ends `cancelled` at
   * once; a running one ends `cancelled` at once too, while its handler's
   * `ctx.signal` aborts and its thread is replaced if it does not stop within
   * `abortGrace`. Returns false, changing nothing, for an unknown or finished id.
   * With a broker, true means requested: the cancelled result is stored
   * unless the task ended first, and the node running it aborts the attempt.
   *
   * @example
   * ```ts
   * processor.cancel('img-1', 'user left the page');
   * (await processor.result('img-1')).status; // 'cancelled'
   * ```
   */
  cancel(id: string, reason = 'cancelled'): boolean {
    return this.#backend.cancel(id, reason);
  }

  /**
   * Stops accepting tasks, lets the accepted ones finish, stops the actors,
   * then terminates the threads. Tasks still unfinished at the deadline are
   * cancelled and returned, so nothing is silently lost; actors not stopped
   * by then are returned with their last reported snapshot. Calling it again
   * returns the same promise.
   *
   * @example
   * ```ts
   * const { unfinished } = await processor.shutdown({ timeout: 5_000 });
   * await saveForLater(unfinished);
   * ```
   */
  shutdown({ timeout = 10_000, drain = true }: ShutdownOptions = {}): Promise<ShutdownOutcome> {
    if (this.#shutdown) return this.#shutdown;
    checkNumber('timeout', timeout, nonNegativeNumber);
    optionalBoolean('drain', drain, true);
    return (this.#shutdown = this.#backend.shutdown(timeout, drain));
  }
}

/**
 * supervisor/: the supervisor actor (this file), which owns every task of a
 * processor until it ends and every thread, and the parts it owns and calls
 * inside its messages, built in order by `parts.ts`: the registry, the
 * attempts in threads, the journal (with a store), the limits, the worker
 * pool and its resizer, the metrics, the dispatcher, an attempt's start
 * (`attempt-starts.ts`), the outcomes of attempts, how a task leaves
 * (`task-endings.ts`), shutdown, the task lifecycles and the read-only task
 * view; with its mailbox, its messages, the processor's lifecycle, the
 * recovery of a store and the restart policy. The actor directory and the
 * virtual actors are in `actors/`.
 */

import type { ActorDirectory } from '../actors/directory.js';
import type { VirtualActors } from '../actors/virtual.js';
import {
  ProcessorShutdownError,
  RestartIntensityError,
  type StoreError,
  type StoreLockedError,
  type WorkerStartError,
} from '../errors/errors.js';
import type { TaskContext, TaskMachineState } from '../machines/task.js';
import type { ProcessorEvent } from '../observe/events.js';
import { InspectedActor, Inspection, machineSnapshot, ROOT_ID } from '../observe/inspection.js';
import type { Metrics } from '../observe/metrics.js';
import type { Phase } from '../observe/status.js';
import type { ResolvedOptions } from '../options/types.js';
import type { OpenStore, Recovered } from '../store/store.js';
import { abortReason } from '../util/abort-reason.js';
import { Broadcast } from '../util/broadcast.js';
import { Conditions } from '../util/conditions.js';
import { deferred } from '../util/deferred.js';
import type { WorkerActor, WorkerReport } from '../workers/worker.js';
import { Mailbox } from './mailbox.js';
import { handleInspected, type RemoteTaskHooks, type ShutdownOutcome, type SupervisorMessage, type TaskSubmit } from './messages.js';
import { buildParts, type SupervisorParts, type SupervisorPorts } from './parts.js';
import { type Fault, type LifecycleView, ProcessorLifecycle } from './processor-lifecycle.js';
import { recover, SUSPICIONS_BEFORE_ISOLATION } from './recovery.js';
import { stopInOrder } from './shutdown.js';
import { createRecord, type TaskRecord } from './task-record.js';
import type { TaskView } from './task-view.js';

export type { RemoteTaskHooks, ShutdownOutcome } from './messages.js';
export type { Fault } from './processor-lifecycle.js';

/**
 * The supervisor actor. It alone owns the tasks of a processor from `submit`
 * to their final state, and the threads that run them; every change to
 * either is a message it processes from its mailbox, one at a time, to
 * completion. What it owns is kept by named parts it calls inside a message:
 * the {@link TaskRegistry} (unfinished tasks, counts, results), the
 * {@link Dispatcher} (the lines tasks wait in, and which goes to which
 * thread), the {@link Limits} (rate limits and handler gates), the
 * {@link WorkerPool} (worker actors, slots, restarts) and the
 * {@link Attempts} in threads. None of them sends anything on its own but
 * through a callback that makes a message. Task machines and worker actors
 * talk to it only by messages.
 *
 * User code (callbacks, `result()` continuations, event subscribers) never
 * runs inside a message: the mailbox defers it until it is empty, so it may
 * call back into the processor (`submit` from a callback) without seeing or
 * causing a half-applied change.
 */
export class Supervisor {
  readonly events = new Broadcast<ProcessorEvent>();
  readonly ready = deferred<void>();
  readonly stopped = deferred<ShutdownOutcome>();
  /** XState inspection of the supervisor, its workers and every task, while an observer is attached. */
  readonly inspection = new Inspection();
  /** Counters and histograms of everything that passes; read by `metrics()` and Prometheus. */
  readonly metrics: Metrics;
  /** Its tasks, read-only. */
  readonly tasks: TaskView;
  /** The actors users spawned on the threads. */
  readonly actors: ActorDirectory;
  /** The virtual actors users address by logic and key (`actorOf`). */
  readonly virtualActors: VirtualActors;

  readonly #options: ResolvedOptions;
  readonly #mailbox = new Mailbox<SupervisorMessage>(
    (message) => this.#receive(message),
    () => this.#settled(),
    (run) => this.#afterCommit(run),
  );
  readonly #conditions = new Conditions();
  readonly #lifecycle = new ProcessorLifecycle();
  readonly #ref = new InspectedActor(ROOT_ID, () =>
    machineSnapshot(this.#lifecycle.phase, this.#registry.counts(), this.#lifecycle.stopped),
  );
  /** The supervisor as its parts see it (see `parts.ts`). */
  readonly #ports: SupervisorPorts = {
    send: (message) => this.send(message),
    defer: (effect) => this.#mailbox.defer(effect),
    emit: (event) => this.#emit(event),
    listened: () => this.events.observed,
    callbackFailed: (id, error) => this.events.next({ type: 'callback.error', id, error }),
    left: () => this.#stopIfDone(),
    lifecycle: this.#lifecycle,
    inspection: this.inspection,
    root: this.#ref,
  };
  // The parts, from `buildParts` (see SupervisorParts for what each is).
  readonly #timers: SupervisorParts['timers'];
  readonly #registry: SupervisorParts['registry'];
  readonly #attempts: SupervisorParts['attempts'];
  readonly #journal: SupervisorParts['journal'];
  readonly #limits: SupervisorParts['limits'];
  readonly #pool: SupervisorParts['pool'];
  readonly #dispatcher: SupervisorParts['dispatcher'];
  readonly #outcomes: SupervisorParts['outcomes'];
  readonly #endings: SupervisorParts['endings'];
  readonly #resizer: SupervisorParts['resizer'];
  readonly #shutdown: SupervisorParts['shutdown'];
  readonly #lifecycles: SupervisorParts['lifecycles'];

  /**
   * `store`: the opened task store (its unfinished tasks are queued again,
   * its results retained), or the error that kept it from opening (the
   * processor then starts in its `error` state and `ready` rejects with it).
   */
  constructor(options: ResolvedOptions, remote?: RemoteTaskHooks, store?: OpenStore | StoreError | StoreLockedError) {
    this.#options = options;
    this.ready.promise.catch(() => {});
    // Attached before the parts are built: those that trace read whether anyone inspects as they start.
    if (options.inspect) this.inspection.attach(options.inspect);
    const opened = store instanceof Error ? undefined : store;
    ({
      timers: this.#timers,
      registry: this.#registry,
      attempts: this.#attempts,
      journal: this.#journal,
      limits: this.#limits,
      pool: this.#pool,
      metrics: this.metrics,
      dispatcher: this.#dispatcher,
      outcomes: this.#outcomes,
      endings: this.#endings,
      actors: this.actors,
      virtualActors: this.virtualActors,
      resizer: this.#resizer,
      shutdown: this.#shutdown,
      lifecycles: this.#lifecycles,
      tasks: this.tasks,
    } = buildParts(options, this.#ports, opened, remote));
    this.inspection.started(this.#ref);
    this.inspection.onToggle((on) => this.send({ type: 'actor.trace', on }));
    if (store instanceof Error) {
      // The store could not be opened: nothing can be accepted, and `ready` rejects.
      this.#fail(store);
      this.ready.reject(store);
      return;
    }
    if (opened) this.#recover(opened.recovered);
    for (let n = 0; n < options.workers; n++) this.#pool.open('tasks');
    for (let n = 0; n < options.actorThreads; n++) this.#pool.open('actors');
    // A pure client of a broker runs nothing here: it is ready at once.
    if (options.workers === 0) {
      this.#lifecycle.run();
      this.ready.resolve();
    }
  }

  // ── queries: read-only views of the supervisor's state ────────────────────

  /** Its stage, its fault and what they allow. */
  get lifecycle(): LifecycleView {
    return this.#lifecycle;
  }

  /** What `getStatus().state` reports. */
  get phase(): Phase {
    return this.#lifecycle.phase;
  }

  /** Set when the threads could not start, or the store failed; new submits are refused with it. */
  get error(): Fault | undefined {
    return this.#lifecycle.fault;
  }

  /** Task threads: the pool's size (open slots, as `scale` set it) and those ready now. */
  get threads(): { readonly size: number; readonly ready: number } {
    return { size: this.#pool.taskSlots, ready: this.#pool.ready.length };
  }

  /** Resolves once every change so far is on disk (at once without a store); rejects if the store failed. */
  committed(): Promise<void> {
    return this.#journal ? this.#journal.committed() : Promise.resolve();
  }

  /**
   * Resolves once `holds()` is true: at once if it already is, else after the
   * first message that makes it so. Checked each time the mailbox has been
   * emptied, O(conditions waiting).
   */
  until(holds: () => boolean): Promise<void> {
    return this.#conditions.until(holds);
  }

  // ── the mailbox ────────────────────────────────────────────────────────────

  send(message: SupervisorMessage): void {
    this.#mailbox.send(message);
  }

  #emit(event: ProcessorEvent): void {
    if (this.events.observed) this.#mailbox.defer(() => this.events.next(event));
  }

  /** The mailbox was emptied: the pool's size is settled, conditions checked, and a full batch of changes written. */
  #settled(): void {
    this.#resizer.settled();
    this.#conditions.check();
    this.#journal?.settled();
  }

  /** With a store, effects that promise durability wait for the commit holding their change. */
  #afterCommit(run: () => void): void {
    if (this.#journal) this.#journal.afterCommit(run);
    else run();
  }

  /** Tells the gates of the attempts that left their threads in this message (see `Outcomes.takeEnded`). */
  #sendEnded(): void {
    for (const handler of this.#outcomes.takeEnded()) this.send({ type: 'limits.ended', handler });
  }

  #receive(message: SupervisorMessage): void {
    if (!this.inspection.active) return this.#handle(message);
    handleInspected(
      message,
      this.inspection,
      this.#ref,
      (worker) => this.#pool.ref(worker),
      (inspected) => this.#handle(inspected),
    );
  }

  #handle(message: SupervisorMessage): void {
    switch (message.type) {
      case 'task.submit':
        return this.#submit(message);
      case 'task.cancel':
        return this.#registry.get(message.id)?.lifecycle.send({ type: 'task.cancel', reason: message.reason });
      case 'task.abort':
        if (this.#registry.holds(message.record)) message.record.lifecycle.send({ type: 'task.cancel', reason: message.reason });
        return;
      case 'task.entered':
        return this.#entered(message.state, message.context, message.lifecycle.owner);
      case 'task.timer':
        return message.fire();
      case 'results.clear':
        this.#journal?.clearResults();
        return this.#registry.results.clear();
      case 'store.failed':
        return this.#storeFailed(message.error);
      case 'store.committed':
        return this.metrics.committed(message.ms);
      case 'attempts.reported':
        this.#outcomes.reported(message.started, message.settled);
        this.#sendEnded();
        this.#resizer.reported(message.worker);
        return this.#stopIfDone();
      case 'worker.ready':
        this.#workerReady(message.worker, message.handlers);
        // Joined the pool first: spawns that waited for a thread can go to it.
        return this.actors.workerReady(message.worker, message.handlers, message.actors);
      case 'actors.reported':
        this.actors.reported(message.worker, message.reports);
        return this.#resizer.reported(message.worker);
      case 'worker.startFailed':
        return this.#workerStartFailed(message.worker, message.error);
      case 'worker.exited':
        return this.#workerExited(message);
      case 'limits.open':
        return this.#dispatcher.reopen();
      case 'limits.ended':
        return this.#dispatcher.attemptEnded(message.handler);
      case 'pool.resize':
      case 'worker.idle':
        return this.#resizer.handle(message);
      case 'worker.respawn':
        if (this.#lifecycle.keepsThreads && this.#pool.isOpen(message.slot)) {
          this.metrics.restarted(message.slot);
          this.#pool.spawn(message.slot);
        }
        return;
      case 'shutdown':
        return this.#beginShutdown(message.timeout, message.drain);
      case 'shutdown.deadline':
        return this.#deadlinePassed();
      case 'virtual.send':
      case 'virtual.ask':
      case 'virtual.activated':
      case 'virtual.refused':
      case 'virtual.askTimeout':
      case 'virtual.ended':
      case 'virtual.idle':
      case 'virtual.passivated':
      case 'virtual.due':
      case 'virtual.loaded':
        return this.virtualActors.handle(message);
      default:
        // What is left is the actors' (`actor.*`): the directory handles those.
        return this.actors.handle(message);
    }
  }

  // ── tasks ──────────────────────────────────────────────────────────────────

  #submit({ task, attempts, submittedAt = Date.now(), resumed, trace }: TaskSubmit): void {
    const now = this.#timers.now();
    const wait = task.runAt !== undefined ? task.runAt - now : task.delay;
    const startDelay = wait !== undefined && wait > 0 ? wait : undefined;
    const { id, handler, maxRetries, timeout } = task;
    // Suspected of earlier process deaths too often: it runs isolated in the process from the start.
    const isolation = resumed && resumed.suspected >= SUSPICIONS_BEFORE_ISOLATION ? ('process' as const) : undefined;
    const input = { id, handler, maxRetries, timeout, backoff: this.#options.backoff, startDelay, attempts, isolation };
    const lifecycle = this.#lifecycles.create(input);
    const runAt = startDelay === undefined ? undefined : now + startDelay;
    const record = createRecord(task, lifecycle, submittedAt, runAt, attempts !== undefined && !resumed, trace, resumed);
    lifecycle.owner = record;
    this.#registry.add(record);
    if (resumed) this.#journal?.adopted(record, resumed.key);
    else this.#journal?.accepted(record);
    this.metrics.submitted();
    const { signal } = task;
    if (!signal) return;
    if (signal.aborted) return lifecycle.send({ type: 'task.cancel', reason: abortReason(signal) });
    record.onAbort = () => this.send({ type: 'task.abort', record, reason: abortReason(signal) });
    signal.addEventListener('abort', record.onAbort, { once: true });
  }

  /** `record`: the task's, from its lifecycle; a state entered after it left the registry changes nothing. */
  #entered(state: TaskMachineState, context: TaskContext, record: TaskRecord | undefined): void {
    if (!record?.live) return;
    if (state === 'handedBack') return this.#endings.handedBack(record, context);
    record.trace?.entered(state, context);
    if (state === 'done' || state === 'failed' || state === 'cancelled') return this.#endings.finish(record, state, context);
    const previous = record.state;
    this.#registry.enter(record, state);
    if (this.#journal) this.#journal.changed(record, state === 'retrying' ? this.#timers.now() + (context.retryDelay ?? 0) : record.runAt);
    // Shutting down without draining: nothing starts again; it is handed back.
    // A broker's task is given back to the broker, for another node to run.
    if (this.#lifecycle.draining && state !== 'processing' && this.#shutdown.handsBack(record)) return this.#shutdown.handBack(record);
    switch (state) {
      case 'scheduled':
        if (record.runAt !== undefined) this.#emit({ type: 'task.scheduled', id: context.id, runAt: record.runAt });
        return;
      case 'queued':
        record.queuedAt = performance.now();
        // Released from `processing` uncharged: back to its place in line; else to the back.
        if (previous === 'processing') this.#dispatcher.putBack(record);
        else this.#dispatcher.arrive(record);
        // Each task's events are built only while someone listens: three a task, on every task's path.
        if (this.events.observed) this.#emit({ type: 'task.queued', id: context.id, attempts: context.attempts });
        return this.#dispatcher.dispatch();
      case 'retrying':
        this.metrics.retried();
        this.#endings.leaveProcessing(record, context.error);
        // A broker delivers it again after the backoff, to whichever node has room: it leaves this one now.
        if (record.remote) return record.lifecycle.send({ type: 'task.handBack', reason: 'retry' });
        this.#emit({
          type: 'task.retrying',
          id: context.id,
          attempt: context.attempts,
          delay: context.retryDelay ?? 0,
          error: context.error ?? new Error('unknown failure'),
        });
        return;
      case 'processing':
        return; // announced when the attempt starts (`Outcomes.start`), which knows the worker
    }
  }

  // ── workers ────────────────────────────────────────────────────────────────

  #workerReady(worker: WorkerActor, handlers: readonly string[]): void {
    if (!this.#pool.has(worker) || !this.#pool.fillsOpenSlot(worker) || !this.#lifecycle.keepsThreads) {
      void worker.stop();
      return;
    }
    this.#pool.join(worker);
    this.#emit({ type: 'worker.started', workerId: worker.id, threadId: worker.threadId, handlers });
    if (this.#pool.joined === this.#options.workers + this.#options.actorThreads) {
      this.#lifecycle.run();
      this.ready.resolve();
      this.#emit({ type: 'processor.ready' });
    }
    this.#dispatcher.dispatch();
    this.#resizer.reported(worker);
  }

  #workerStartFailed(worker: WorkerActor, error: WorkerStartError): void {
    const slot = this.#pool.remove(worker);
    if (!this.#lifecycle.keepsThreads) return;
    if (this.#pool.joined < this.#options.workers + this.#options.actorThreads) return this.#failStart(error);
    // A replacement or added thread failed to start: it counts as a restart, in a slot still open.
    if (this.#pool.isOpen(slot)) this.#restartLater(slot);
  }

  /**
   * Restarts a thread after the policy's backoff, or, past the restart
   * intensity, stops restarting: the processor enters its `error` state. New
   * submits are refused with the error, the threads still up keep working,
   * and accepted tasks stay until `shutdown` hands them back.
   */
  #restartLater(slot: number): void {
    if (this.#pool.restartLater(slot)) return;
    const { maxRestarts, window } = this.#options.restart;
    this.#fail(new RestartIntensityError(maxRestarts, window));
  }

  /** A fault: new submits are refused with it; what runs finishes, and a shutdown goes on as it would. */
  #fail(error: Fault): void {
    this.#lifecycle.fail(error);
    this.#emit({ type: 'processor.error', error });
  }

  /**
   * The pool never came up (the handler module does not load): nothing
   * accepted can ever run, so every accepted task ends `failed` with the
   * error, new submits are refused with it, and `ready` rejects.
   */
  #failStart(error: WorkerStartError): void {
    void this.#pool.stopAll();
    this.#fail(error);
    for (const record of this.#registry.unfinished()) record.lifecycle.send({ type: 'task.giveUp', error });
    this.ready.reject(error);
  }

  #workerExited({ worker, exit, lost, expected, killedFor }: Extract<WorkerReport, { type: 'worker.exited' }>): void {
    const slot = this.#pool.remove(worker);
    this.#resizer.forget(worker);
    this.#outcomes.lost(lost, exit, expected, killedFor);
    this.actors.threadLost(worker, exit);
    this.#sendEnded();
    if (!expected) this.metrics.crashed(slot);
    this.#emit({ type: 'worker.exited', workerId: worker.id, threadId: worker.threadId, exitCode: exit.code, error: exit.error, expected });
    // A shutdown this exit completed needs no replacement thread.
    this.#stopIfDone();
    // A retired thread's slot is closed: it is not replaced, even after a crash.
    if (!expected && this.#lifecycle.keepsThreads && this.#pool.isOpen(slot)) this.#restartLater(slot);
    this.#dispatcher.dispatch();
  }

  // ── shutdown ───────────────────────────────────────────────────────────────

  #beginShutdown(timeout: number, drain: boolean): void {
    if (this.#lifecycle.shuttingDown) return;
    this.#lifecycle.drain();
    this.#shutdown.begin(timeout, drain, this.#registry.unfinished());
    // No time to wait: hand everything back now, not on the clock's next tick.
    if (timeout === 0) return this.#deadlinePassed();
    this.#stopIfDone();
  }

  /** What earlier runs left in the store comes back (see `recovery.ts`). */
  #recover(recovered: Recovered): void {
    recover(recovered, {
      now: this.#timers.now(),
      maxCrashes: this.#options.maxCrashes,
      backoff: this.#options.backoff,
      retain: (result) => this.#registry.results.store(result),
      requeue: (task, attempts, submittedAt, resumed) => this.send({ type: 'task.submit', task, attempts, submittedAt, resumed }),
      failed: (result, key) => {
        this.#registry.results.store(result);
        this.#journal?.resolved(result, key);
        this.metrics.finished('failed', Date.now());
      },
      announce: (result) => this.events.next({ type: 'task.failed', id: result.id, result }),
      announceAfter: () => this.ready.promise.then(() => this.committed()),
    });
  }

  /** A write failed: nothing more is accepted or written; what runs finishes, what was acknowledged is on disk. */
  #storeFailed(error: StoreError): void {
    if (!this.#lifecycle.stopped) this.#fail(error);
  }

  /** Whatever has not finished by the deadline is cancelled and handed back, never dropped; actors still stopping stop now. */
  #deadlinePassed(): void {
    if (this.#lifecycle.stopped) return this.actors.stopOverdue();
    if (!this.#lifecycle.draining) return;
    this.#shutdown.handBackAll(this.#registry.unfinished());
    this.#stop();
  }

  /** Shutting down, and nothing is left to wait for: stop. */
  #stopIfDone(): void {
    if (this.#lifecycle.draining && this.#registry.size === 0 && this.#attempts.size === 0) this.#stop();
  }

  #stop(): void {
    this.#lifecycle.stop();
    this.ready.reject(new ProcessorShutdownError('The processor was shut down before its threads were ready'));
    const unfinished = this.#shutdown.end(this.#options.abortGrace);
    // Nothing is left to start: the limits' and the pool's timers would only keep the process alive.
    this.#limits.stop();
    this.#resizer.stop();
    void stopInOrder(this.actors, this.#shutdown, this.#pool, this.#journal).then((actors) => {
      this.stopped.resolve({ unfinished, actors });
      this.events.next({ type: 'processor.shutdown', unfinished: unfinished.length });
      this.events.complete();
    });
  }
}

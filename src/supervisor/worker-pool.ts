import type { AnyEventObject } from 'xstate';

import { InspectedActor, type Inspection, machineSnapshot } from '../observe/inspection.js';
import type { Metrics, WorkerMetrics } from '../observe/metrics.js';
import type { ResolvedOptions } from '../options/types.js';
import { WorkerActor, type WorkerReport } from '../workers/worker.js';
import { RestartPolicy } from './restart-policy.js';

/**
 * The supervisor's table of worker actors: which exist, which slot (1 to
 * `workers`) each fills, which are ready to take attempts, how each appears
 * to an inspector, and when a crashed one's replacement starts (the restart
 * policy's backoff and intensity). Owned by the supervisor and called inside
 * its messages; a worker's reports and a restart's timer reach the
 * supervisor through the callbacks it is given, as messages.
 */
export class WorkerPool {
  /** Ready task threads, in the order they became ready: the dispatcher goes round them. */
  readonly ready: WorkerActor[] = [];
  /** Ready threads kept for actors (slots past `workers`, with `actorThreads`): tasks never go there. */
  readonly actorReady: WorkerActor[] = [];
  readonly #workers = new Set<WorkerActor>();
  readonly #slotOf = new Map<WorkerActor, number>();
  readonly #refs = new Map<WorkerActor, InspectedActor>();
  readonly #restarts: RestartPolicy;
  readonly #restartTimers = new Set<unknown>();
  readonly #options: ResolvedOptions;
  readonly #inspection: Inspection;
  readonly #parent: InspectedActor;
  readonly #report: (report: WorkerReport) => void;
  readonly #respawn: (slot: number) => void;
  readonly #release: ((send: () => void) => void) | undefined;
  #ids = 0;
  #joined = 0;

  constructor(
    options: ResolvedOptions,
    inspection: Inspection,
    parent: InspectedActor,
    report: (report: WorkerReport) => void,
    respawn: (slot: number) => void,
    release?: (send: () => void) => void,
  ) {
    this.#release = release;
    this.#options = options;
    this.#restarts = new RestartPolicy(options.restart);
    this.#inspection = inspection;
    this.#parent = parent;
    this.#report = report;
    this.#respawn = respawn;
  }

  /** Every worker actor now, starting or ready. */
  get all(): ReadonlySet<WorkerActor> {
    return this.#workers;
  }

  has(worker: WorkerActor): boolean {
    return this.#workers.has(worker);
  }

  /** How many workers have become ready since start, replacements included. */
  get joined(): number {
    return this.#joined;
  }

  /** Starts a worker in `slot`: a replacement takes the slot of the thread it replaces. */
  spawn(slot: number): void {
    const { handlers, clock, abortGrace, concurrency, window, resourceLimits } = this.#options;
    const worker = new WorkerActor({
      id: ++this.#ids,
      handlers,
      concurrency,
      window,
      resourceLimits,
      clock,
      abortGrace,
      report: this.#report,
      release: this.#release,
    });
    this.#workers.add(worker);
    this.#slotOf.set(worker, slot);
    const ref = new InspectedActor(
      `troupe.worker.${worker.id}`,
      () => machineSnapshot(worker.phase, { threadId: worker.threadId, held: worker.held }, worker.phase === 'exited'),
      this.#parent,
    );
    this.#refs.set(worker, ref);
    this.#inspection.started(ref);
    worker.start();
  }

  /** The worker's thread is up: it takes attempts (or, kept for actors, actors) from now on. */
  join(worker: WorkerActor): void {
    if (this.#keptForActors(worker)) this.actorReady.push(worker);
    else this.ready.push(worker);
    this.#joined++;
  }

  /** The ready threads actors go to: those kept for them, if any are. */
  get forActors(): readonly WorkerActor[] {
    return this.#options.actorThreads > 0 ? this.actorReady : this.ready;
  }

  #keptForActors(worker: WorkerActor): boolean {
    return (this.#slotOf.get(worker) ?? 1) > this.#options.workers;
  }

  /** Takes a worker out of the tables; returns the slot it held. */
  remove(worker: WorkerActor): number {
    const slot = this.#slotOf.get(worker) ?? 1;
    this.#slotOf.delete(worker);
    this.#workers.delete(worker);
    const ref = this.#refs.get(worker);
    if (ref) this.#inspection.stopped(ref);
    this.#refs.delete(worker);
    for (const list of [this.ready, this.actorReady]) {
      const index = list.indexOf(worker);
      if (index !== -1) list.splice(index, 1);
    }
    return slot;
  }

  /**
   * Starts a replacement in `slot` after the restart policy's backoff (the
   * timer calls `respawn`). Returns false, starting nothing, when one more
   * restart would exceed the restart intensity.
   */
  restartLater(slot: number): boolean {
    const delay = this.#restarts.next(Date.now());
    if (delay === undefined) return false;
    const { clock } = this.#options;
    const timer = clock.setTimeout(() => {
      this.#restartTimers.delete(timer);
      this.#respawn(slot);
    }, delay);
    this.#restartTimers.add(timer);
    return true;
  }

  /** Terminates every thread and forgets every worker; resolves once all have exited. */
  stopAll(): Promise<void> {
    const { clock } = this.#options;
    for (const timer of this.#restartTimers) clock.clearTimeout(timer);
    this.#restartTimers.clear();
    const workers = [...this.#workers];
    this.#workers.clear();
    this.ready.length = 0;
    this.actorReady.length = 0;
    return Promise.all(workers.map((worker) => worker.stop())).then(() => {});
  }

  /** How an inspector sees the worker, while it exists. */
  ref(worker: WorkerActor): InspectedActor | undefined {
    return this.#refs.get(worker);
  }

  /** Shows an inspector an event the worker received from the supervisor. */
  inspectReceived(worker: WorkerActor, event: AnyEventObject): void {
    const ref = this.#refs.get(worker);
    if (ref) this.#inspection.received(ref, event, this.#parent);
  }

  /** Each worker's state, what it holds, and its slot's crashes and restarts. */
  metrics(metrics: Metrics): WorkerMetrics[] {
    return [...this.#workers].map((worker) => {
      const slot = this.#slotOf.get(worker) ?? 1;
      const { crashes, restarts } = metrics.ofSlot(slot);
      return {
        id: worker.id,
        slot,
        role: slot > this.#options.workers ? 'actors' : 'tasks',
        threadId: worker.threadId,
        state: worker.phase,
        held: worker.held,
        tasks: worker.tasks(5),
        crashes,
        restarts,
      };
    });
  }
}

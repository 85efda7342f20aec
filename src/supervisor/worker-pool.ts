import type { AnyEventObject } from 'xstate';

import { InspectedActor, type Inspection, machineSnapshot } from '../observe/inspection.js';
import type { Metrics, WorkerMetrics } from '../observe/metrics.js';
import type { ResolvedOptions } from '../options/types.js';
import { WorkerActor, type WorkerReport } from '../workers/worker.js';
import { RestartPolicy } from './restart-policy.js';

/** What a slot's thread runs: tasks, or only actors (with `actorThreads`). */
export type SlotRole = 'tasks' | 'actors';

/**
 * The supervisor's table of worker actors: the slots of the pool (each a
 * place for one thread, running tasks or kept for actors), which worker fills
 * each, which are ready to take attempts, how each appears to an inspector,
 * and when a crashed one's replacement starts (the restart policy's backoff
 * and intensity). A scale down closes slots: their threads retire (take
 * nothing new, finish what runs, exit) and are not replaced. Owned by the
 * supervisor and called inside its messages; a worker's reports and a
 * restart's timer reach the supervisor through the callbacks it is given,
 * as messages.
 */
export class WorkerPool {
  /** Ready task threads, in the order they became ready: the dispatcher goes round them. */
  readonly ready: WorkerActor[] = [];
  /** Ready threads kept for actors (slots opened for them, with `actorThreads`): tasks never go there. */
  readonly actorReady: WorkerActor[] = [];
  readonly #workers = new Set<WorkerActor>();
  readonly #slotOf = new Map<WorkerActor, number>();
  /** The open slots and what each runs. A closed slot's thread retires, and a respawn for it starts nothing. */
  readonly #slots = new Map<number, SlotRole>();
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

  /**
   * Opens a slot for a thread running `role`, and starts its thread. It takes
   * the lowest number neither open nor held by a retiring thread, so however
   * often an elastic pool grows and shrinks, its slots (and the metrics kept
   * per slot) stay as few as its threads.
   */
  open(role: SlotRole): void {
    const held = new Set(this.#slotOf.values());
    let slot = 1;
    while (this.#slots.has(slot) || held.has(slot)) slot++;
    this.#slots.set(slot, role);
    this.spawn(slot);
  }

  /** Open slots running tasks: the pool's size, as `scale` sets it. */
  get taskSlots(): number {
    let count = 0;
    for (const role of this.#slots.values()) if (role === 'tasks') count++;
    return count;
  }

  /** Open slots, tasks and actors. */
  get slots(): number {
    return this.#slots.size;
  }

  /** Threads of open task slots still starting (a respawn not yet due does not count). */
  get startingTasks(): number {
    let count = 0;
    for (const worker of this.#workers) {
      if (worker.isStarting && this.#slots.get(this.#slotOf.get(worker) ?? 0) === 'tasks') count++;
    }
    return count;
  }

  /**
   * Closes `count` task slots, never below `keep` of them: first those with
   * no thread (a crashed one's replacement not yet due), then those whose
   * thread still starts, then the ready threads holding the least, skipping
   * any that `pinned` says must stay (one its actors live on). A closed
   * slot's ready thread retires; one still starting is stopped. Returns the
   * threads that retire.
   */
  close(count: number, pinned: (worker: WorkerActor) => boolean): WorkerActor[] {
    const live = new Map<number, WorkerActor>();
    for (const [worker, slot] of this.#slotOf) if (!worker.isRetiring) live.set(slot, worker);
    const open = [...this.#slots].filter(([, role]) => role === 'tasks').map(([slot]) => slot);
    const rank = (slot: number) => {
      const worker = live.get(slot);
      if (!worker) return -2;
      if (!worker.isUp) return -1;
      return worker.held;
    };
    const chosen = open
      .filter((slot) => {
        const worker = live.get(slot);
        return !worker || !pinned(worker);
      })
      .sort((a, b) => rank(a) - rank(b))
      .slice(0, count);
    const retired: WorkerActor[] = [];
    for (const slot of chosen) {
      const worker = live.get(slot);
      if (!worker) this.#slots.delete(slot);
      else if (this.#closeSlotOf(worker)) retired.push(worker);
    }
    return retired;
  }

  /** Closes the slot of this ready task thread, which retires; false, changing nothing, if `pinned` keeps it. */
  closeOf(worker: WorkerActor, pinned: (worker: WorkerActor) => boolean): boolean {
    if (this.#roleOf(worker) !== 'tasks' || worker.isRetiring || pinned(worker)) return false;
    return this.#closeSlotOf(worker);
  }

  /** Closes the worker's slot: a thread that is up retires (returns true); one still starting is stopped. */
  #closeSlotOf(worker: WorkerActor): boolean {
    this.#slots.delete(this.#slotOf.get(worker) ?? 0);
    if (!worker.isUp) {
      void worker.stop();
      return false;
    }
    const index = this.ready.indexOf(worker);
    if (index !== -1) this.ready.splice(index, 1);
    worker.retire();
    return true;
  }

  /** Whether the worker fills an open slot: one whose slot closed while it started is not let in. */
  fillsOpenSlot(worker: WorkerActor): boolean {
    return this.#slots.has(this.#slotOf.get(worker) ?? 0);
  }

  /** Whether the slot is open: a crashed thread is replaced only in an open slot. */
  isOpen(slot: number): boolean {
    return this.#slots.has(slot);
  }

  /** Starts a worker in `slot`: a replacement takes the slot of the thread it replaces. Nothing for a closed slot. */
  spawn(slot: number): void {
    if (!this.#slots.has(slot)) return;
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
      () => machineSnapshot(worker.phase.name, { threadId: worker.threadId, held: worker.held }, worker.hasExited),
      this.#parent,
    );
    this.#refs.set(worker, ref);
    this.#inspection.started(ref);
    worker.start();
  }

  /** The worker's thread is up: it takes attempts (or, kept for actors, actors) from now on. */
  join(worker: WorkerActor): void {
    if (this.#roleOf(worker) === 'actors') this.actorReady.push(worker);
    else this.ready.push(worker);
    this.#joined++;
  }

  /** The ready threads actors go to: those kept for them, if any are. */
  get forActors(): readonly WorkerActor[] {
    return this.#options.actorThreads > 0 ? this.actorReady : this.ready;
  }

  #roleOf(worker: WorkerActor): SlotRole {
    return this.#slots.get(this.#slotOf.get(worker) ?? 0) ?? 'tasks';
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
        role: this.#roleOf(worker),
        threadId: worker.threadId,
        state: worker.state,
        held: worker.held,
        tasks: worker.tasks(5),
        crashes,
        restarts,
      };
    });
  }
}

import type { Inspection } from '../observe/inspection.js';
import type { WaitingFor } from '../task/types.js';
import { PriorityQueue } from '../util/priority-queue.js';
import { Queue } from '../util/queue.js';
import type { WireAttempt } from '../workers/protocol.js';
import type { WorkerActor } from '../workers/worker.js';
import type { Attempts } from './attempts.js';
import type { Limits } from './limits.js';
import type { Attempt, HeldBy, TaskRecord } from './task-record.js';
import type { WorkerPool } from './worker-pool.js';

export interface DispatcherParts {
  readonly pool: WorkerPool;
  readonly limits: Limits;
  readonly attempts: Attempts;
  readonly inspection: Inspection;
  /** The attempt started on arrival in its thread (sent into a free slot): its machine is told now. */
  readonly started: (attempt: Attempt) => void;
  /** A task went into a thread's window, or came back from one, with no change of state: the store notes where it is. */
  readonly moved?: (record: TaskRecord) => void;
}

/**
 * Decides which queued task goes to which thread, and when. It owns the
 * lines queued tasks wait in (the ready queue, in priority order; the
 * crash suspects, who run only alone; the parked, whose id still has an
 * attempt stopping) and the policy of sending: an empty thread first, then
 * free run slots, then threads' windows, round-robin; limits checked on the way (a task its
 * handler's gate refuses is held there); work taken back from a window when
 * a thread that could run it has nothing. Owned by the supervisor and called
 * inside its messages; it sends to worker actors and nothing else.
 *
 * **Priorities across windows.** A thread starts what waits in its window
 * without asking, so a window could start a task while a higher one waits
 * elsewhere. The rule that prevents it: every attempt waiting in any window
 * has one priority (`#windowPriority`), no lower than anything in the ready
 * queue. A task of that priority may go into a window; a higher one takes
 * the windows back (their attempts return to their places in line) and
 * the windows fill with it; a lower one waits in the ready queue until the
 * windowed ones have started, and a free run slot that sees only lower
 * priorities in line takes windowed work back instead of starting one of
 * them. With one priority in use, which is every task by default, none of
 * this costs anything.
 */
export class Dispatcher {
  /** The ready queue: queued tasks in priority order, oldest first within one. */
  readonly #queue = new PriorityQueue<TaskRecord>((record) => record.seq);
  /** Crash suspects: each runs alone, on an empty thread. */
  readonly #isolation = new Queue<TaskRecord>();
  /** Suspects of process deaths: each runs alone in the process, once every attempt elsewhere has ended. */
  readonly #alone = new Queue<TaskRecord>();
  /** One of them is in a thread: nothing else starts until it has ended. */
  #solo = false;
  /** The thread last reserved for the crash suspects (it takes nothing new until it is empty). */
  #reserved: WorkerActor | undefined;
  readonly #pool: WorkerPool;
  readonly #limits: Limits;
  readonly #attempts: Attempts;
  readonly #inspection: Inspection;
  readonly #started: (attempt: Attempt) => void;
  readonly #moved: ((record: TaskRecord) => void) | undefined;
  /** Arrivals so far: each task's place in line. */
  #arrivals = 0;
  /** Where the round-robin goes next. */
  #cursor = 0;
  /** The one priority of the attempts waiting in windows; undefined once none may be waiting. */
  #windowPriority: number | undefined;

  constructor({ pool, limits, attempts, inspection, started, moved }: DispatcherParts) {
    this.#pool = pool;
    this.#limits = limits;
    this.#attempts = attempts;
    this.#inspection = inspection;
    this.#started = started;
    this.#moved = moved;
  }

  // ── lines ──────────────────────────────────────────────────────────────────

  /** A task entered `queued` anew (accepted, due, or back from a retry): it joins the back of its priority's line. */
  arrive(record: TaskRecord): void {
    record.seq = ++this.#arrivals;
    this.#line(record, false);
  }

  /** A task lost its attempt through no fault of its own, or left its gate: back to its place in line. */
  putBack(record: TaskRecord): void {
    const fromThread = record.place === 'thread';
    this.#line(record, true);
    if (fromThread) this.#moved?.(record);
  }

  /** The task ended: it leaves whatever line holds it (its entry there is skipped when it comes up). */
  forget(record: TaskRecord): void {
    this.#unreserve(record);
    record.place = 'none';
  }

  /** An earlier attempt of this task's id has stopped: a task parked behind it goes back in line. */
  unpark(record: TaskRecord | undefined): void {
    if (record?.place === 'parked') this.putBack(record);
  }

  #line(record: TaskRecord, backToPlace: boolean): void {
    if (record.isolation) {
      record.place = 'isolation';
      (record.isolation === 'thread' ? this.#isolation : this.#alone).push(record);
    } else {
      record.place = 'ready';
      if (backToPlace) this.#queue.putBack(record, record.task.priority);
      else this.#queue.push(record, record.task.priority);
    }
  }

  // ── limits ─────────────────────────────────────────────────────────────────

  /** A limit's window slid: every gate lets back what it now admits, then whatever can go is sent. */
  reopen(): void {
    this.#limits.release(this.#readmit);
    this.dispatch();
  }

  /** An attempt of `handler` left its thread: its gate may let one more back. */
  attemptEnded(handler: string): void {
    this.#limits.ended(handler);
    if (!this.#limits.holds(handler)) return;
    this.#limits.release(this.#readmit, handler);
    this.dispatch();
  }

  readonly #readmit = (record: TaskRecord): boolean => {
    if (record.place !== 'held') return false; // ended while held
    record.heldBy = undefined;
    record.reserved = true;
    this.putBack(record);
    return true;
  };

  #hold(record: TaskRecord, heldBy: HeldBy): void {
    record.place = 'held';
    record.heldBy = heldBy;
    this.#limits.hold(record, heldBy);
  }

  #unreserve(record: TaskRecord): void {
    if (!record.reserved) return;
    record.reserved = false;
    this.#limits.unreserve(record.task.handler);
  }

  // ── sending ────────────────────────────────────────────────────────────────

  /**
   * Sends what can go: suspects to empty threads, alone; then the ready
   * queue, highest priority first, to free run slots, then into windows. A
   * task sent into a window stays `queued` until its thread reports that it
   * started it. Last, work waiting in a window is taken back for a thread
   * that could run it now and has nothing it may run.
   */
  dispatch(): void {
    if (this.#alone.size > 0 || this.#solo) {
      // Nothing else starts until every attempt in the threads has ended.
      if (this.#attempts.size > 0) return;
      this.#solo = false;
      if (this.#dispatchAlone()) return;
    }
    this.#dispatchIsolated();
    while (this.#queue.size > 0) {
      const worker = this.#nextWorker(this.#queue.topPriority as number);
      if (!worker) break;
      if (this.#holdForRateLimit()) return;
      this.#place(this.#queue.shift() as TaskRecord, 'ready', worker, false);
    }
    this.#steal();
  }

  /** Tasks in line for a thread (an upper bound: an entry of a task that ended meanwhile is skipped when it comes up). */
  get waiting(): number {
    return this.#queue.size + this.#isolation.size + this.#alone.size;
  }

  /** Flushes every ready worker's batch now, rather than a microtask later. */
  flush(): void {
    for (const worker of this.#pool.ready) worker.flush();
  }

  /**
   * Holds every start back while the processor-wide rate window is full,
   * arming the timer that reopens the limits when it slides; returns
   * whether it does.
   */
  #holdForRateLimit(): boolean {
    const wait = this.#limits.globalWait();
    if (wait <= 0) return false;
    this.#limits.armGlobal(wait);
    return true;
  }

  /** Sends a task taken off `line` to `worker`, unless it is parked or its handler's gate holds it. */
  #place(record: TaskRecord, line: 'ready' | 'isolation', worker: WorkerActor, alone: boolean): void {
    if (!this.#claim(record, line)) return;
    const heldBy = this.#limits.blocker(record);
    if (heldBy) this.#hold(record, heldBy);
    else this.#send(record, worker, alone);
  }

  /**
   * Takes a task off a line to send it: its gate reservation is used up, and
   * if an earlier attempt of its id is still stopping it is parked instead.
   * Returns whether it is to be sent now (false also for an entry of a task
   * that left the line: it ended, or was taken off it already).
   */
  #claim(record: TaskRecord, line: 'ready' | 'isolation'): boolean {
    this.#unreserve(record);
    if (record.place !== line) return false;
    if (this.#attempts.has(record.task.id)) {
      // At most one attempt of an id runs at a time.
      record.place = 'parked';
      return false;
    }
    return true;
  }

  #send(record: TaskRecord, worker: WorkerActor, alone: boolean): void {
    const attempt = this.#attempts.open(record, worker);
    record.place = 'thread';
    const { id, handler, priority } = record.task;
    if (this.#limits.any) this.#limits.started(handler);
    const number = record.lifecycle.context.attempts + 1;
    const { token } = attempt;
    const { payload, transfer } = record;
    // Into a free slot it starts on arrival; into the window, when the thread says so.
    const startsNow = alone || worker.hasFreeSlot;
    // Built field by field: a spread per task showed up in profiles.
    const wire: { -readonly [K in keyof WireAttempt]: WireAttempt[K] } = { token, id, handler, attempt: number, payload };
    if (transfer) wire.transfer = transfer;
    if (!startsNow) {
      wire.windowed = true;
      this.#windowPriority = priority;
    }
    if (record.trace) wire.traceContext = record.trace.attemptSent(number, !startsNow);
    if (alone) worker.runAlone(wire);
    else worker.run(wire);
    if (this.#inspection.active) this.#pool.inspectReceived(worker, { type: 'attempt.run', id, attempt: number, token });
    if (startsNow) this.#started(attempt);
    else this.#moved?.(record);
  }

  /**
   * Suspects of process deaths, with nothing left running: the next one
   * goes to a thread alone, and nothing else starts until it has ended, so
   * a death now is its own. Returns whether one was sent.
   */
  #dispatchAlone(): boolean {
    while (this.#alone.size > 0) {
      const worker = this.#pool.ready[0];
      if (!worker || this.#holdForRateLimit()) return true;
      this.#place(this.#alone.shift() as TaskRecord, 'isolation', worker, true);
      // Not sent (it ended, was parked or held at its gate): the next one.
      if (this.#attempts.size > 0) return (this.#solo = true);
    }
    return false;
  }

  /** Each suspect goes to an empty thread, alone; if none is empty, one thread is reserved for them (takes nothing new until empty). */
  #dispatchIsolated(): void {
    while (this.#isolation.size > 0) {
      let empty: WorkerActor | undefined;
      let reserved = false;
      let fewest: WorkerActor | undefined;
      for (const worker of this.#pool.ready) {
        if (worker.isEmpty) {
          empty = worker;
          break;
        }
        if (worker.isReserved) reserved = true;
        else if (!fewest || worker.held < fewest.held) fewest = worker;
      }
      if (!empty) {
        if (!reserved && fewest) {
          fewest.reserve();
          this.#reserved = fewest;
        }
        return;
      }
      if (this.#holdForRateLimit()) return;
      this.#place(this.#isolation.shift() as TaskRecord, 'isolation', empty, true);
    }
    // No suspect waits any more (each ended, or ran on a thread that emptied
    // first): the thread reserved for them takes work again. Kept reserved,
    // it would take nothing for good, and, empty, take back the other
    // windows' work over and over (see `#steal`).
    this.#reserved?.unreserve();
    this.#reserved = undefined;
  }

  /**
   * The next worker that may take a task of `priority`: the first empty
   * one, else round-robin, preferring a free run slot to a window; O(workers). A free slot takes
   * it unless higher-priority work waits in a window (that work should run
   * first: `#steal` brings it back). A window takes it when the windows
   * hold its priority or nothing; a higher priority takes the windows back
   * first; a lower one waits.
   */
  #nextWorker(priority: number): WorkerActor | undefined {
    const level = this.#windowLevel(priority);
    if (level !== undefined && priority < level) return undefined;
    const ring = this.#pool.ready;
    // An empty thread, the first in the ring: tasks that come one at a time
    // go to the same thread, whose code is optimised twice as soon, where
    // round-robin sent each to the next thread in turn (p50 of a lone no-op
    // task after 200 untimed: 111-135 -> 86-118 us, bench/warm-latency.ts).
    for (let index = 0; index < ring.length; index++) {
      const worker = ring[index] as WorkerActor;
      if (worker.isEmpty && worker.hasFreeSlot) {
        this.#cursor = index + 1;
        return worker;
      }
    }
    let windowed: WorkerActor | undefined;
    let windowedAt = 0;
    for (let scanned = 0; scanned < ring.length; scanned++) {
      const index = (this.#cursor + scanned) % ring.length;
      const worker = ring[index] as WorkerActor;
      if (worker.hasFreeSlot) {
        this.#cursor = index + 1;
        return worker;
      }
      if (!windowed && worker.hasWindowRoom) {
        windowed = worker;
        windowedAt = index;
      }
    }
    // No free slot: it waits, in a window or in line. Lower ones waiting in
    // windows would start first: they come back to their places in line (and
    // fill their windows until the threads answer).
    if (level !== undefined && priority > level) this.#takeBackWindows();
    if (windowed) this.#cursor = windowedAt + 1;
    return windowed;
  }

  /**
   * The priority of the attempts waiting in windows, as far as a task of
   * `priority` is concerned: when it is another one, whether any still waits
   * is looked up (O(workers)), and the level is dropped if none does. An
   * attempt being taken back still counts: until its thread answers, it may
   * start there.
   */
  #windowLevel(priority: number): number | undefined {
    const level = this.#windowPriority;
    if (level === undefined || level === priority) return level;
    for (const worker of this.#pool.ready) if (worker.windowed > 0) return level;
    this.#windowPriority = undefined;
    return undefined;
  }

  #takeBackWindows(): void {
    for (const worker of this.#pool.ready) if (worker.revocable > 0) worker.revoke(worker.revocable);
    this.#windowPriority = undefined;
  }

  /**
   * Work waiting in one thread's window is taken back (half of the largest
   * window) when another thread could run it now: an empty thread while the
   * ready queue is empty, or a free run slot while the ready queue holds
   * only priorities below the windows'.
   */
  #steal(): void {
    const ring = this.#pool.ready;
    if (ring.length < 2) return;
    const top = this.#queue.size > 0 ? this.#queue.topPriority : undefined;
    const level = this.#windowPriority;
    const belowWindows = top !== undefined && level !== undefined && top < level;
    if (top !== undefined && !belowWindows) return;
    let needy = false;
    let donor: WorkerActor | undefined;
    for (const worker of ring) {
      if (belowWindows ? worker.hasFreeSlot : worker.isEmpty) needy = true;
      else if (worker.revocable > (donor?.revocable ?? 0)) donor = worker;
    }
    if (needy && donor) donor.revoke(Math.ceil(donor.revocable / 2));
  }

  // ── queries ────────────────────────────────────────────────────────────────

  /** Why a queued task has not started; `undefined` for one that is not queued. */
  waitingFor(record: TaskRecord): WaitingFor | undefined {
    if (record.state !== 'queued') return undefined;
    switch (record.place) {
      case 'ready':
        // Not parked yet (it is parked when its turn comes), but it could not start before that attempt stops.
        if (this.#attempts.has(record.task.id)) return 'previousAttempt';
        return this.#limits.globalWait() > 0 ? 'rateLimit' : 'thread';
      case 'held':
        return record.heldBy === 'rateLimit' ? 'handlerRateLimit' : 'handlerConcurrency';
      case 'isolation':
        return 'emptyThread';
      case 'parked':
        return 'previousAttempt';
      case 'thread':
        return 'slot';
      case 'none':
        return undefined;
    }
  }
}

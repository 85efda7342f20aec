import type { HeldBy } from '../machines/task.js';
import type { Inspection } from '../observe/inspection.js';
import type { WaitingFor } from '../task/types.js';
import { PriorityQueue } from '../util/priority-queue.js';
import { Queue } from '../util/queue.js';
import type { WireAttempt } from '../workers/protocol.js';
import type { WorkerActor } from '../workers/worker.js';
import type { Attempts } from './attempts.js';
import type { Limits } from './limits.js';
import type { Attempt, TaskRecord } from './task-record.js';
import type { WorkerPool } from './worker-pool.js';

export interface DispatcherParts {
  readonly pool: WorkerPool;
  readonly limits: Limits;
  readonly attempts: Attempts;
  readonly inspection: Inspection;
  /** The attempt started on arrival in its thread (sent into a free slot): its machine is told now. */
  readonly started: (attempt: Attempt) => void;
  /** A task went into a thread's window, or came back from one, with no change of state: the store notes where it is. */
  readonly moved?: ((record: TaskRecord) => void) | undefined;
}

/** The lines a queued task waits in, by its machine's state. */
type Line = 'queued.ready' | 'queued.isolated';

/** What becomes of a task taken off its line: sent, parked, held at its gate by a limit, or nothing (it left the line). */
type Verdict = 'send' | 'park' | HeldBy | 'gone';

/** Where a task of some priority goes: a thread, and whether the windows are taken back first. */
interface Choice {
  readonly worker: WorkerActor | undefined;
  /** Its index in the ring of ready workers: the round-robin goes on after it. */
  readonly index: number;
  /** Lower priorities wait in windows: they come back to their places in line. */
  readonly takeBackWindows: boolean;
}

/**
 * Decides which queued task goes to which thread, and when. It owns the
 * lines queued tasks wait in (the ready queue, in priority order; the
 * isolated lines, for tasks that run isolated on a thread or in the
 * process) and the policy of sending: an empty thread first, then free run
 * slots, then threads' windows, round-robin; limits checked on the way; work
 * taken back from a window when a thread that could run it has nothing.
 * Where a task waits is its machine's state: the dispatcher sends it the
 * event of each move (`task.hold`, `task.admit`, `task.park`,
 * `task.unpark`, `task.window`, `task.release`), and an entry in a line
 * whose task has moved on is skipped when it comes up. Its choices are made
 * by methods that change nothing (`#verdict`, `#choose`, `#isolatedThread`,
 * `#donor`), and applied by their callers. Owned by the supervisor and
 * called inside its messages; it sends to worker actors and task machines
 * and nothing else.
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
  /** Tasks isolated on a thread: each runs alone, on an empty thread. */
  readonly #isolatedOnThread = new Queue<TaskRecord>();
  /** Tasks isolated in the process: each runs alone in the process, once every attempt elsewhere has ended. */
  readonly #isolatedInProcess = new Queue<TaskRecord>();
  /** One of those is in a thread: nothing else starts until it has ended. */
  #processIsolated = false;
  /** The thread last reserved for the tasks isolated on a thread (it takes nothing new until it is empty). */
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

  /** A task lost its running attempt through no fault of its own: back to its place in line. */
  putBack(record: TaskRecord): void {
    this.#line(record, true);
  }

  /**
   * Its attempt, sent into a window, never started (it was taken back, or
   * lost with its thread): back to its place in line, uncharged; `suspect`
   * when that thread died with other attempts on it (it runs isolated from
   * now on).
   */
  takeBack(record: TaskRecord, suspect: boolean): void {
    if (record.lifecycle.state !== 'queued.windowed') return;
    record.lifecycle.send({ type: suspect ? 'task.suspect' : 'task.release' });
    this.#line(record, true);
    this.#moved?.(record);
  }

  /** The task ended: the place its gate kept for it is given up (its entry in a line is skipped when it comes up). */
  forget(record: TaskRecord): void {
    this.#limits.unreserve(record);
  }

  /** An earlier attempt of this task's id has stopped: a task parked behind it goes back in line. */
  unpark(record: TaskRecord | undefined): void {
    if (record?.lifecycle.state !== 'queued.parked') return;
    record.lifecycle.send({ type: 'task.unpark' });
    this.#line(record, true);
  }

  /** Into the line its machine says it waits in: the ready queue, or an isolated line. */
  #line(record: TaskRecord, backToPlace: boolean): void {
    const { lifecycle, task } = record;
    if (lifecycle.state === 'queued.isolated') {
      (lifecycle.context.isolation === 'process' ? this.#isolatedInProcess : this.#isolatedOnThread).push(record);
    } else if (lifecycle.state === 'queued.ready') {
      if (backToPlace) this.#queue.putBack(record, task.priority);
      else this.#queue.push(record, task.priority);
    }
  }

  // ── limits ─────────────────────────────────────────────────────────────────

  /** A limit's window slid: every gate lets back what it now admits, then whatever can go is sent. */
  reopen(): void {
    this.#limits.release(this.#admit);
    this.dispatch();
  }

  /** An attempt of `handler` left its thread: its gate may let one more back. */
  attemptEnded(handler: string): void {
    this.#limits.ended(handler);
    if (!this.#limits.holds(handler)) return;
    this.#limits.release(this.#admit, handler);
    this.dispatch();
  }

  /** A held task its gate lets back: into line, unless it ended while held. */
  readonly #admit = (record: TaskRecord): boolean => {
    if (record.lifecycle.state !== 'queued.held') return false;
    record.lifecycle.send({ type: 'task.admit' });
    this.#line(record, true);
    return true;
  };

  // ── sending ────────────────────────────────────────────────────────────────

  /**
   * Sends what can go: tasks isolated in the process, one at a time with
   * nothing else running; tasks isolated on a thread, to empty threads; then
   * the ready queue, highest priority first, to free run slots, then into
   * windows. A task sent into a window stays `queued` (`windowed`) until its
   * thread reports that it started it. Last, work waiting in a window is
   * taken back for a thread that could run it now and has nothing it may run.
   */
  dispatch(): void {
    if (this.#isolatedInProcess.size > 0 || this.#processIsolated) {
      // Nothing else starts until every attempt in the threads has ended.
      if (this.#attempts.size > 0) return;
      this.#processIsolated = false;
      if (this.#dispatchIsolatedInProcess()) return;
    }
    this.#dispatchIsolatedOnThread();
    while (this.#queue.size > 0) {
      const priority = this.#queue.topPriority as number;
      const level = this.#windowLevel(priority);
      if (level === undefined) this.#windowPriority = undefined; // none waits in a window any more
      if (level !== undefined && priority < level) break;
      const choice = this.#choose(priority, level);
      if (choice.takeBackWindows) this.#takeBackWindows();
      if (!choice.worker) break;
      this.#cursor = choice.index + 1;
      if (this.#holdForRateLimit()) return;
      this.#place(this.#queue.shift() as TaskRecord, 'queued.ready', choice.worker, false);
    }
    const donor = this.#donor();
    if (donor) donor.revoke(Math.ceil(donor.revocable / 2));
  }

  /** Tasks in line for a thread (an upper bound: an entry of a task that moved on meanwhile is skipped when it comes up). */
  get waiting(): number {
    return this.#queue.size + this.#isolatedOnThread.size + this.#isolatedInProcess.size;
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

  /** Takes a task off `line` and does what its verdict says: send it to `worker`, park it, hold it at its gate, or nothing. */
  #place(record: TaskRecord, line: Line, worker: WorkerActor, isolated: boolean): void {
    const verdict = this.#verdict(record, line);
    if (verdict === 'gone') return;
    // Taken off its line: a place its gate kept for it is used now.
    this.#limits.unreserve(record);
    if (verdict === 'send') return this.#send(record, worker, isolated);
    if (verdict === 'park') return record.lifecycle.send({ type: 'task.park' });
    record.lifecycle.send({ type: 'task.hold', limit: verdict });
    this.#limits.hold(record, verdict);
  }

  /**
   * What becomes of a task taken off `line` now: `gone` for an entry whose
   * task has left the line (it ended, or was taken off already), `park`
   * while an earlier attempt of its id is still in a thread (at most one
   * attempt of an id runs at a time), the limit that holds it, or `send`.
   */
  #verdict(record: TaskRecord, line: Line): Verdict {
    if (record.lifecycle.state !== line) return 'gone';
    if (this.#attempts.has(record.task.id)) return 'park';
    return this.#limits.blocker(record) ?? 'send';
  }

  #send(record: TaskRecord, worker: WorkerActor, isolated: boolean): void {
    const attempt = this.#attempts.open(record, worker);
    const { id, handler, priority } = record.task;
    if (this.#limits.any) this.#limits.started(handler);
    const number = record.lifecycle.context.attempts + 1;
    const { token } = attempt;
    const { payload, transfer } = record;
    // Into a free slot it starts on arrival; into the window, when the thread says so.
    const startsNow = isolated || worker.hasFreeSlot;
    // Built field by field: a spread per task showed up in profiles.
    const wire: { -readonly [K in keyof WireAttempt]: WireAttempt[K] } = { token, id, handler, attempt: number, payload };
    if (transfer) wire.transfer = transfer;
    if (!startsNow) {
      wire.windowed = true;
      this.#windowPriority = priority;
    }
    if (record.trace) wire.traceContext = record.trace.attemptSent(number, !startsNow);
    if (isolated) worker.runIsolated(wire);
    else worker.run(wire);
    if (this.#inspection.active) this.#pool.inspectReceived(worker, { type: 'attempt.run', id, attempt: number, token });
    if (startsNow) return this.#started(attempt);
    record.lifecycle.send({ type: 'task.window' });
    this.#moved?.(record);
  }

  /**
   * Tasks isolated in the process, with nothing left running: the next one
   * goes to a thread alone, and nothing else starts until it has ended, so
   * a death now is its own. Returns whether one was sent.
   */
  #dispatchIsolatedInProcess(): boolean {
    while (this.#isolatedInProcess.size > 0) {
      const worker = this.#pool.ready[0];
      if (!worker || this.#holdForRateLimit()) return true;
      this.#place(this.#isolatedInProcess.shift() as TaskRecord, 'queued.isolated', worker, true);
      // Not sent (it left the line, was parked or held at its gate): the next one.
      if (this.#attempts.size > 0) return (this.#processIsolated = true);
    }
    return false;
  }

  /** Each task isolated on a thread goes to an empty thread; if none is empty, one thread is reserved for them (takes nothing new until empty). */
  #dispatchIsolatedOnThread(): void {
    while (this.#isolatedOnThread.size > 0) {
      const { empty, toReserve } = this.#isolatedThread();
      if (!empty) {
        if (toReserve) {
          toReserve.reserve();
          this.#reserved = toReserve;
        }
        return;
      }
      if (this.#holdForRateLimit()) return;
      this.#place(this.#isolatedOnThread.shift() as TaskRecord, 'queued.isolated', empty, true);
    }
    // No task isolated on a thread waits any more (each ended, or ran on a
    // thread that emptied first): the thread reserved for them takes work
    // again. Kept reserved, it would take nothing for good, and, empty, take
    // back the other windows' work over and over (see `#donor`).
    this.#reserved?.unreserve();
    this.#reserved = undefined;
  }

  /**
   * Where the next task isolated on a thread can go: the first empty thread;
   * else, unless one is reserved already, the thread holding the fewest
   * attempts, to reserve for it.
   */
  #isolatedThread(): { readonly empty?: WorkerActor; readonly toReserve?: WorkerActor } {
    let reserved = false;
    let fewest: WorkerActor | undefined;
    for (const worker of this.#pool.ready) {
      if (worker.isEmpty) return { empty: worker };
      if (worker.isReserved) reserved = true;
      else if (!fewest || worker.held < fewest.held) fewest = worker;
    }
    return reserved || !fewest ? {} : { toReserve: fewest };
  }

  /**
   * The worker that may take a task of `priority` now, with the windows at
   * `level`: the first empty one, else round-robin, preferring a free run
   * slot to a window; O(workers). A free slot takes it unless
   * higher-priority work waits in a window (that work should run first:
   * `#donor` brings it back). A window takes it when the windows hold its
   * priority or nothing; a higher priority takes the windows back first.
   */
  #choose(priority: number, level: number | undefined): Choice {
    const ring = this.#pool.ready;
    // An empty thread, the first in the ring: tasks that come one at a time
    // go to the same thread, whose code is optimised twice as soon, where
    // round-robin sent each to the next thread in turn (p50 of a lone no-op
    // task after 200 untimed: 111-135 -> 86-118 us, bench/warm-latency.ts).
    for (let index = 0; index < ring.length; index++) {
      const worker = ring[index] as WorkerActor;
      if (worker.isEmpty && worker.hasFreeSlot) return { worker, index, takeBackWindows: false };
    }
    let windowed: WorkerActor | undefined;
    let windowedAt = 0;
    for (let scanned = 0; scanned < ring.length; scanned++) {
      const index = (this.#cursor + scanned) % ring.length;
      const worker = ring[index] as WorkerActor;
      if (worker.hasFreeSlot) return { worker, index, takeBackWindows: false };
      if (!windowed && worker.hasWindowRoom) {
        windowed = worker;
        windowedAt = index;
      }
    }
    // No free slot: it waits, in a window or in line. Lower ones waiting in
    // windows would start first: they come back to their places in line (and
    // fill their windows until the threads answer).
    const takeBackWindows = level !== undefined && priority > level;
    return { worker: windowed, index: windowedAt, takeBackWindows };
  }

  /**
   * The priority of the attempts waiting in windows, as far as a task of
   * `priority` is concerned: when it is another one, whether any still waits
   * is looked up (O(workers)); undefined when none does. An attempt being
   * taken back still counts: until its thread answers, it may start there.
   */
  #windowLevel(priority: number): number | undefined {
    const level = this.#windowPriority;
    if (level === undefined || level === priority) return level;
    for (const worker of this.#pool.ready) if (worker.windowed > 0) return level;
    return undefined;
  }

  #takeBackWindows(): void {
    for (const worker of this.#pool.ready) if (worker.revocable > 0) worker.revoke(worker.revocable);
    this.#windowPriority = undefined;
  }

  /**
   * The thread whose window's work is to be taken back (half of the largest
   * window), if another thread could run it now: an empty thread while the
   * ready queue is empty, or a free run slot while the ready queue holds
   * only priorities below the windows'.
   */
  #donor(): WorkerActor | undefined {
    const ring = this.#pool.ready;
    if (ring.length < 2) return undefined;
    const top = this.#queue.size > 0 ? this.#queue.topPriority : undefined;
    const level = this.#windowPriority;
    const belowWindows = top !== undefined && level !== undefined && top < level;
    if (top !== undefined && !belowWindows) return undefined;
    let needy = false;
    let donor: WorkerActor | undefined;
    for (const worker of ring) {
      if (belowWindows ? worker.hasFreeSlot : worker.isEmpty) needy = true;
      else if (worker.revocable > (donor?.revocable ?? 0)) donor = worker;
    }
    return needy ? donor : undefined;
  }

  // ── queries ────────────────────────────────────────────────────────────────

  /** Why a queued task has not started, read off its machine; `undefined` for one that is not queued. */
  waitingFor(record: TaskRecord): WaitingFor | undefined {
    const { lifecycle } = record;
    switch (lifecycle.state) {
      case 'queued.ready':
        // Not parked yet (it is parked when its turn comes), but it could not start before that attempt stops.
        if (this.#attempts.has(record.task.id)) return 'previousAttempt';
        return this.#limits.globalWait() > 0 ? 'rateLimit' : 'thread';
      case 'queued.held':
        return lifecycle.context.heldBy === 'rateLimit' ? 'handlerRateLimit' : 'handlerConcurrency';
      case 'queued.isolated':
        return 'emptyThread';
      case 'queued.parked':
        return 'previousAttempt';
      case 'queued.windowed':
        return 'slot';
      default:
        return undefined;
    }
  }
}

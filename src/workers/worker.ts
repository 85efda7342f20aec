/**
 * workers/: one worker actor per `worker_threads` thread (this file), with
 * its lifecycle (worker-lifecycle.ts) and the window of attempts its thread
 * takes (attempt-window.ts); the handle that is the only code touching a
 * `Worker` and comlink (thread-handle.ts), the code that runs inside each
 * thread (thread-entry.ts), and the wire protocol between the two
 * (protocol.ts).
 * Threads also host the actors users spawn: they carry their orders and
 * reports, and start their runner; the actors themselves are in actors/.
 */
import type { ResourceLimits, TransferListItem } from 'node:worker_threads';

import type { ActorOrder, ActorReport } from '../actors/protocol.js';
import { WorkerStartError } from '../errors/errors.js';
import { deserializeError, serializeError } from '../errors/serialize.js';
import type { Clock } from '../util/clock.js';
import { AttemptWindow } from './attempt-window.js';
import type { ThreadReport, WireAttempt, WireOutcome } from './protocol.js';
import { type ThreadExit, ThreadHandle } from './thread-handle.js';
import { WorkerLifecycle, type WorkerPhase, type WorkerState } from './worker-lifecycle.js';

/** What a worker actor reports to its supervisor. */
export type WorkerReport =
  | {
      readonly type: 'worker.ready';
      readonly worker: WorkerActor;
      readonly handlers: readonly string[];
      /** The module's exports that are actor logic. */
      readonly actors: readonly string[];
    }
  /** What its thread's actors did, one item per actor per message. */
  | { readonly type: 'actors.reported'; readonly worker: WorkerActor; readonly reports: readonly ActorReport[] }
  | { readonly type: 'worker.startFailed'; readonly worker: WorkerActor; readonly error: WorkerStartError }
  | {
      /** Every attempt the thread reported started or settled in one answer: many tasks per message. */
      readonly type: 'attempts.reported';
      readonly worker: WorkerActor;
      readonly started: readonly StartedAttempt[];
      readonly settled: readonly SettledAttempt[];
    }
  | {
      readonly type: 'worker.exited';
      readonly worker: WorkerActor;
      readonly exit: ThreadExit;
      /** Attempts the thread held when it died: they never settled; those not `started` never ran. */
      readonly lost: ReadonlyArray<StartedAttempt & { readonly started: boolean }>;
      /** True when the supervisor asked for the stop. */
      readonly expected: boolean;
      /** Set when this actor terminated the thread because that attempt ignored its abort. */
      readonly killedFor: number | undefined;
    };

export interface StartedAttempt {
  readonly token: number;
  readonly id: string;
}

export interface SettledAttempt extends StartedAttempt {
  readonly outcome: WireOutcome;
}

export interface WorkerActorOptions {
  readonly id: number;
  readonly handlers: URL;
  /** Attempts its thread runs at once. */
  readonly concurrency: number;
  /** Attempts its thread may hold waiting beyond those it runs. */
  readonly window: number;
  readonly resourceLimits?: ResourceLimits | undefined;
  readonly clock: Clock;
  /** How long an aborted attempt may run on before the thread is terminated, in ms. */
  readonly abortGrace: number;
  readonly report: (report: WorkerReport) => void;
  /**
   * When a batch may go to the thread: at once by default. With a task
   * store, after the commit that records its attempts (write-ahead: a task
   * that takes the whole process down is on disk as running, and charged).
   */
  readonly release?: ((send: () => void) => void) | undefined;
}

/** Actor orders per message at most, when a turn sends more (see `sendActors`). */
const ACTOR_BATCH = 2_048;

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
  /** Where its thread is in its life, and what it takes (see `WorkerPhase`). */
  readonly #lifecycle = new WorkerLifecycle();
  /** How many attempts its thread takes, to run and to wait: the window and its refill. */
  readonly #window: AttemptWindow;
  /** Attempts ever sent to it: an idle thread whose count has not moved since it went idle did no work since. */
  #sent = 0;
  /** Every attempt sent to the thread and not settled: token → task id. */
  readonly #running = new Map<number, string>();
  /** Those of them the thread has not reported started, oldest first. */
  readonly #unstarted = new Set<number>();
  /** Those of the unstarted being taken back. */
  readonly #revoking = new Set<number>();
  /** Those of the unstarted aborted (their task was cancelled): dropped by the thread, or aborted once started. */
  readonly #abortedWaiting = new Set<number>();
  readonly #graceTimers = new Map<number, unknown>();
  /** Attempts dispatched in this tick, sent to the thread as one message. */
  #outbox: WireAttempt[] = [];
  /**
   * With `release`: the batch asked to be released, waiting for the commit
   * that holds it. What is dispatched meanwhile may be in a later commit, so
   * it stays in the outbox and asks for its own release.
   */
  #releasing: WireAttempt[] | undefined;
  /** Orders for its thread's actors, sent at the end of the turn. */
  #actorOrders: ActorOrder[] = [];
  /** Its actors need the process alive (see `keepAlive`). */
  #actorsWorking = false;

  constructor(options: WorkerActorOptions) {
    this.id = options.id;
    this.#options = options;
    this.#window = new AttemptWindow(options.concurrency, options.window);
  }

  /** Where its thread is in its life (see `WorkerPhase`): what an inspector shows. */
  get phase(): WorkerPhase {
    return this.#lifecycle.phase;
  }

  /** Its state as `metrics()` reports it: `starting`, `ready`, `retiring`, `failed` or `exited`. */
  get state(): WorkerState {
    return this.#lifecycle.state;
  }

  /** Its thread loads the handler module. */
  get isStarting(): boolean {
    return this.#lifecycle.isStarting;
  }

  /** Its thread has loaded and is neither being stopped nor gone: it can retire. */
  get isUp(): boolean {
    return this.#lifecycle.isUp;
  }

  /** Leaving the pool (see `retire`), until its thread has exited. */
  get isRetiring(): boolean {
    return this.#lifecycle.isRetiring;
  }

  get hasExited(): boolean {
    return this.#lifecycle.hasExited;
  }

  /** The `worker_threads` thread id; -1 before the thread exists. */
  get threadId(): number {
    return this.#thread?.threadId ?? -1;
  }

  /**
   * Whether it takes another attempt now, to run or to wait in its window.
   * The window is refilled only once it is half empty, and then to the brim:
   * so a message to the thread carries at least half a window, not the one
   * or two tasks each answer freed.
   */
  get hasWindowRoom(): boolean {
    return this.#takesWork && this.#window.hasRoom(this.#running.size);
  }

  /** Whether an attempt sent now would start at once: a run slot is free. */
  get hasFreeSlot(): boolean {
    return this.#takesWork && this.#window.hasFreeSlot(this.#running.size);
  }

  /**
   * Ready and open to any attempt (see `WorkerLifecycle.takesWork`), and not
   * waiting out an aborted attempt's grace: a thread whose attempt ignores
   * its abort is likely to be terminated, and an attempt sent there would
   * die with it, a bystander made a crash suspect.
   */
  get #takesWork(): boolean {
    return this.#lifecycle.takesWork && this.#graceTimers.size === 0;
  }

  /** Ready and holding nothing at all, running or waiting: it can take an attempt to run isolated. */
  get isEmpty(): boolean {
    return this.#lifecycle.isReady && this.#running.size === 0;
  }

  /** The ids of up to `limit` tasks in its thread, oldest first. */
  tasks(limit: number): string[] {
    const ids: string[] = [];
    for (const id of this.#running.values()) {
      if (ids.length === limit) break;
      ids.push(id);
    }
    return ids;
  }

  /** Attempts it holds, running or waiting. */
  get held(): number {
    return this.#running.size;
  }

  /** Attempts ever sent to it. */
  get sent(): number {
    return this.#sent;
  }

  /**
   * Leaves the pool: takes nothing new from now on and gives back what waits
   * in its window (each answered `unstarted`, to run elsewhere uncharged).
   * Its running attempts finish; the supervisor stops it once it holds
   * nothing. Its exit is then an expected one.
   */
  retire(): void {
    this.#lifecycle.retire();
    this.revoke(this.revocable);
  }

  /** Takes nothing new until it is empty, so that an attempt can run isolated on it. */
  reserve(): void {
    this.#lifecycle.reserve();
  }

  /** No attempt to isolate waits for it any more: it takes work again. */
  unreserve(): void {
    this.#lifecycle.unreserve();
  }

  get isReserved(): boolean {
    return this.#lifecycle.isReserved;
  }

  /** Runs one attempt isolated: nothing else is sent to this thread until it settles. */
  runIsolated(attempt: WireAttempt): void {
    this.#lifecycle.isolate(attempt.token);
    this.run(attempt);
  }

  /** Attempts waiting in its window, those being taken back included (they may yet start there). */
  get windowed(): number {
    return this.#unstarted.size;
  }

  /** Attempts waiting in its window that could be taken back. */
  get revocable(): number {
    return this.#unstarted.size - this.#revoking.size;
  }

  start(): void {
    if (!this.#lifecycle.isIdle) return;
    this.#lifecycle.start();
    const { handlers, report } = this.#options;
    let thread: ThreadHandle;
    try {
      const { resourceLimits } = this.#options;
      thread = new ThreadHandle({ handlers, ...(resourceLimits ? { resourceLimits } : {}) });
    } catch (cause) {
      this.#lifecycle.fail();
      queueMicrotask(() => report({ type: 'worker.startFailed', worker: this, error: startError(cause) }));
      return;
    }
    this.#thread = thread;
    void thread.exited.then((exit) => this.#onExit(exit));
    thread
      .load({ concurrency: this.#options.concurrency }, (report) => this.#onReport(report))
      .then(
        (outcome) => {
          // Being stopped meanwhile: its exit is reported, expected, and nothing else.
          if (!this.#lifecycle.isStarting) return;
          if (outcome.ok) {
            this.#lifecycle.loaded();
            // An idle pool must not keep the process alive; a running attempt does.
            if (this.#idle) thread.unref();
            report({ type: 'worker.ready', worker: this, handlers: outcome.handlers, actors: outcome.actors });
          } else {
            this.#lifecycle.fail();
            void thread.terminate();
            report({
              type: 'worker.startFailed',
              worker: this,
              error: new WorkerStartError(`The handler module ${handlers.href} failed to load: ${withoutImporter(outcome.error.message)}`, {
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

  /**
   * Whether its thread's actors need the process alive: a spawn or stop
   * unanswered, events not yet processed, timers or invoked work pending
   * (the actor directory says, as it changes). Like a running attempt, that
   * keeps the process alive; idle actors do not.
   */
  keepAlive(on: boolean): void {
    this.#actorsWorking = on;
    if (this.#running.size > 0) return;
    if (on) this.#thread?.ref();
    else if (this.#idle) this.#thread?.unref();
  }

  /**
   * An order for one of its thread's actors: the orders of one turn go in
   * one message, or in several of `ACTOR_BATCH` when a turn sends many (a
   * loop of sends): the thread starts on the first while this one still
   * sends, instead of waiting for the end of the turn.
   */
  sendActors(order: ActorOrder): void {
    const queued = this.#actorOrders.push(order);
    if (queued === 1) queueMicrotask(this.#flushActors);
    else if (queued >= ACTOR_BATCH) this.#flushActors();
  }

  readonly #flushActors = (): void => {
    const orders = this.#actorOrders;
    if (orders.length === 0) return;
    this.#actorOrders = [];
    // A thread that has died takes nothing; the supervisor hears of its exit and ends its actors.
    if (this.#lifecycle.isUp) this.#thread?.actors(orders);
  };

  run(attempt: WireAttempt): void {
    const thread = this.#thread;
    const { token } = attempt;
    this.#sent++;
    this.#running.set(token, attempt.id);
    this.#window.follow(this.#running.size);
    if (attempt.windowed) this.#unstarted.add(token);
    if (!thread || !this.#lifecycle.isUp) {
      // The thread died before the supervisor heard of it: the attempt never
      // started, and says so a tick later like any other answer.
      queueMicrotask(() => this.#onReport([{ token, ok: false, unstarted: true }]));
      return;
    }
    const alone = this.#running.size === 1;
    if (alone) thread.ref();
    if (this.#outbox.push(attempt) > 1) return;
    // A thread with nothing else to run is sent its attempt now, not a
    // microtask later: its wake (tens of µs on a virtual machine) overlaps
    // the rest of this turn instead of following it. Attempts dispatched
    // after it in the turn find a busy thread and share the next message. A
    // moved buffer, or a release held for a commit, takes the usual way.
    if (alone && !attempt.transfer && !this.#options.release) return this.flush();
    queueMicrotask(() => this.flush());
  }

  /**
   * Sends everything dispatched since the last send as one message; at the
   * latest a microtask after the first, sooner when the supervisor asks, at
   * once for an attempt alone on its thread (see `run`).
   */
  flush(): void {
    if (this.#outbox.length === 0 || !this.#thread || this.#releasing) return;
    const release = this.#options.release;
    if (!release) return this.#send(this.#thread, this.#takeOutbox());
    this.#releasing = this.#takeOutbox();
    release(() => {
      const batch = this.#releasing ?? [];
      this.#releasing = undefined;
      if (batch.length > 0 && this.#thread) this.#send(this.#thread, batch);
      this.flush();
    });
  }

  #takeOutbox(): WireAttempt[] {
    const batch = this.#outbox;
    this.#outbox = [];
    return batch;
  }

  /** The tokens of attempts dispatched here and not sent to the thread yet; undefined when there are none. */
  #unsentTokens(): Set<number> | undefined {
    if (this.#outbox.length === 0 && !this.#releasing?.length) return undefined;
    const tokens = new Set<number>();
    for (const attempt of this.#releasing ?? []) tokens.add(attempt.token);
    for (const attempt of this.#outbox) tokens.add(attempt.token);
    return tokens;
  }

  #dropUnsent(tokens: ReadonlySet<number>): void {
    this.#outbox = this.#outbox.filter((attempt) => !tokens.has(attempt.token));
    if (this.#releasing) this.#releasing = this.#releasing.filter((attempt) => !tokens.has(attempt.token));
  }

  #send(thread: ThreadHandle, batch: WireAttempt[]): void {
    let transfers: TransferListItem[] | undefined;
    for (const attempt of batch) if (attempt.transfer) (transfers ??= []).push(...attempt.transfer);
    try {
      thread.run(batch, transfers);
    } catch (error) {
      // A buffer could not be moved: the attempts never reached the thread,
      // so they fail here (retryable) rather than wait forever.
      const failure = serializeError(error);
      this.#onReport(batch.map(({ token }) => ({ token, ok: false, error: failure, retryable: true })));
    }
  }

  /**
   * Takes back up to `count` attempts waiting in the thread, newest first (they
   * would start last), so an idle thread can run them. The thread answers
   * `unstarted` for each one it still had; one that started meanwhile runs on.
   */
  revoke(count: number): void {
    const thread = this.#thread;
    if (!thread || count <= 0) return;
    const tokens: number[] = [];
    // Not sent yet: taken back here, answered at once, never sent.
    const unsent = this.#unsentTokens();
    const kept: number[] = [];
    const waiting = [...this.#unstarted];
    for (let i = waiting.length - 1; i >= 0 && tokens.length + kept.length < count; i--) {
      const token = waiting[i] as number;
      if (this.#revoking.has(token)) continue;
      if (unsent?.has(token)) kept.push(token);
      else {
        this.#revoking.add(token);
        tokens.push(token);
      }
    }
    if (tokens.length > 0) thread.revoke(tokens);
    if (kept.length > 0) {
      this.#dropUnsent(new Set(kept));
      this.#onReport(kept.map((token) => ({ token, ok: false as const, unstarted: true as const })));
    }
  }

  /**
   * Aborts the attempt's signal in the thread. A handler that ignores it gets
   * `abortGrace` ms; then the whole thread is terminated, which is the only way
   * to stop synchronous JavaScript.
   */
  abort(token: number, reason: Error): void {
    const thread = this.#thread;
    if (!thread || !this.#running.has(token) || this.#graceTimers.has(token) || this.#abortedWaiting.has(token)) return;
    if (this.#unsentTokens()?.has(token)) {
      // Not sent yet: it never reaches the thread.
      this.#dropUnsent(new Set([token]));
      return this.#onReport([{ token, ok: false, unstarted: true }]);
    }
    thread.abort(token, serializeError(reason));
    // Not started: the thread drops it when it reads the abort. If it is
    // stuck in another attempt, that one's own limits apply, not this one's;
    // if it turns out to have started meanwhile, its grace starts then.
    if (this.#unstarted.has(token)) this.#abortedWaiting.add(token);
    else this.#startGrace(thread, token);
  }

  #startGrace(thread: ThreadHandle, token: number): void {
    const { clock, abortGrace } = this.#options;
    // What waits behind it goes elsewhere if the thread still answers; if it
    // is stuck, the revoke is never read and they end with the thread.
    this.revoke(this.revocable);
    this.#graceTimers.set(
      token,
      clock.setTimeout(() => {
        this.#graceTimers.delete(token);
        if (!this.#running.has(token)) return;
        this.#lifecycle.kill(token);
        void thread.terminate();
      }, abortGrace),
    );
  }

  /**
   * Nothing running, no actor working, and not being stopped: the thread
   * need not keep the process alive. Once stopping it stays ref'd until it
   * exits, or a shutdown awaited at the top level could see the process
   * exit first (code 13), when a report the thread sent before its
   * termination arrives and would unref it.
   */
  get #idle(): boolean {
    return this.#running.size === 0 && !this.#actorsWorking && !this.#lifecycle.isStopping;
  }

  /** Terminates the thread; the exit is reported as expected. */
  async stop(): Promise<void> {
    this.#lifecycle.stop();
    this.#clearTimers();
    if (this.#thread && !this.#lifecycle.hasExited) await this.#thread.terminate();
  }

  #onReport(report: ThreadReport): void {
    const started: StartedAttempt[] = [];
    const settled: SettledAttempt[] = [];
    let actors: ActorReport[] | undefined;
    for (let i = 0; i < report.length; i++) {
      const item = report[i] as number | WireOutcome | ActorReport;
      if (typeof item !== 'number' && 'actor' in item) {
        (actors ??= []).push(item);
        continue;
      }
      const token = typeof item === 'number' ? item : item.token;
      const id = this.#running.get(token);
      if (id === undefined) continue;
      this.#revoking.delete(token);
      if (typeof item === 'number') {
        if (this.#unstarted.delete(token)) started.push({ token, id });
        if (this.#abortedWaiting.delete(token) && this.#thread) this.#startGrace(this.#thread, token);
        continue;
      }
      this.#running.delete(token);
      this.#unstarted.delete(token);
      this.#abortedWaiting.delete(token);
      this.#lifecycle.settled(token);
      if (this.#graceTimers.size > 0) this.#clearTimer(token);
      settled.push({ token, id, outcome: item });
    }
    if (this.#idle) this.#thread?.unref();
    this.#window.follow(this.#running.size);
    if (started.length > 0 || settled.length > 0) {
      this.#options.report({ type: 'attempts.reported', worker: this, started, settled });
    }
    if (actors) this.#options.report({ type: 'actors.reported', worker: this, reports: actors });
  }

  #onExit(exit: ThreadExit): void {
    const from = this.#lifecycle.exit();
    this.#clearTimers();
    // What was never sent is lost with the rest (below); a release that comes later sends nothing.
    this.#outbox = [];
    this.#releasing = undefined;
    const lost = [...this.#running].map(([token, id]) => ({ token, id, started: !this.#unstarted.has(token) }));
    this.#running.clear();
    this.#unstarted.clear();
    this.#revoking.clear();
    this.#abortedWaiting.clear();
    const { report } = this.#options;
    if (from.name === 'failed') return; // already reported as a failed start
    if (from.name === 'starting') {
      const detail = exit.error ? `: ${exit.error.message}` : ` with code ${exit.code}`;
      report({
        type: 'worker.startFailed',
        worker: this,
        error: new WorkerStartError(`Worker ${this.id} exited before it was ready${detail}`, { cause: exit.error }),
      });
      return;
    }
    const killedFor = from.name === 'killing' ? from.killedFor : undefined;
    report({ type: 'worker.exited', worker: this, exit, lost, expected: from.name === 'stopping', killedFor });
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

/**
 * Node's "Cannot find module X imported from Y": Y is Troupe's thread entry,
 * a path inside the package that tells the user nothing; X names their
 * module. The cause keeps the whole message.
 */
function withoutImporter(message: string): string {
  return message.replace(/ imported from \S+$/, '');
}

function startError(cause: unknown): WorkerStartError {
  return cause instanceof WorkerStartError
    ? cause
    : new WorkerStartError(`The worker thread could not be created: ${String(cause)}`, { cause });
}

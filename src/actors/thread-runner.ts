/**
 * The actors a worker thread runs for `processor.spawn`: XState actors
 * created from the handler module's actor-logic exports. Orders arrive in
 * batches and are carried out in order; what changed is reported once per
 * message back (`drain`), each actor's latest snapshot with the answers to
 * its asks. Runs inside the thread only, started by `workers/thread-entry.ts`.
 */
import type { AnyActorLogic, AnyActorRef, createActor, Snapshot, Subscription } from 'xstate';

import { ActorStartError, InvalidActorError } from '../errors/errors.js';
import { serializeError } from '../errors/serialize.js';
import { persistWithDelays, rearmDelays, splitDelays } from './delayed-events.js';
import { CountingClock, runsWork } from './pending-work.js';
import type { ActorInProgress, ActorOrder, ActorReport } from './protocol.js';
import type { ActorSnapshot } from './types.js';

/** Whether a module export is XState actor logic (a machine, or `fromTransition`/`fromPromise`/… logic). */
export function isActorLogic(value: unknown): value is AnyActorLogic {
  if (typeof value !== 'object' || value === null) return false;
  const logic = value as Partial<AnyActorLogic>;
  return typeof logic.transition === 'function' && typeof logic.getInitialSnapshot === 'function';
}

/** A snapshot as plain data: what the main thread can receive (the machine, children and helpers stay here). */
export function plainSnapshot(snapshot: Snapshot<unknown> & { value?: unknown; context?: unknown }): ActorSnapshot {
  const plain: { -readonly [K in keyof ActorSnapshot]: ActorSnapshot[K] } = { status: snapshot.status };
  if ('value' in snapshot) plain.value = snapshot.value;
  if ('context' in snapshot) plain.context = snapshot.context;
  if (snapshot.status === 'done') plain.output = snapshot.output;
  if (snapshot.status === 'error') plain.error = serializeError(snapshot.error);
  return plain;
}

const NO_REPORTS: ActorReport[] = [];

interface Hosted {
  readonly actor: AnyActorRef;
  processed: number;
  /** It ended in `error` while processing this event (see `ActorReport.erredOn`). */
  erredOn: number | undefined;
  /** A `stop` order came: it goes with its next report, which carries its last snapshot. */
  stopping: boolean;
  /** The timers of its delayed events. */
  readonly clock: CountingClock;
  /**
   * While it has work pending between events: an inspection observer on
   * its system, so that a change anywhere in it (a timer that fires, an
   * invoked promise that settles, in a child machine too) brings a report,
   * and the main thread learns when the work is over.
   */
  watch: Subscription | undefined;
}

interface Pending {
  /** Each ask with XState's snapshot right after its event (plain data is made when the report goes). */
  answers: Array<readonly [number, Snapshot<unknown>]> | undefined;
  /** While traced: each event with its plain snapshot right after. */
  trace: Array<readonly [{ readonly type: string }, ActorSnapshot]> | undefined;
}

export class ActorRunner {
  readonly #logics = new Map<string, AnyActorLogic>();
  readonly #actors = new Map<string, Hosted>();
  /** Actors with something to report since the last drain. */
  readonly #changed = new Map<string, Pending>();
  /** Spawns that failed since the last drain: there is no actor to take a snapshot of. */
  #failed: ActorReport[] = [];
  readonly #schedule: () => void;
  readonly #answer: () => void;
  /** XState's, imported once the module has actor logic (it imported XState itself, so it is loaded already). */
  #createActor: typeof createActor | undefined;
  /** An inspector watches: every event's snapshot is reported, not only the latest per message. */
  #tracing = false;
  /** The actor processing an event right now, and that event's number (as its `processed` counts): see `processing`. */
  #current: string | undefined;
  #currentNumber = 0;

  /**
   * `schedule`: asks the thread to send its reports at the end of the turn;
   * `answer`: as soon as the orders in hand are carried out (someone awaits
   * an ask: a turn of the event loop would be most of its round trip).
   */
  constructor(schedule: () => void, answer: () => void) {
    this.#schedule = schedule;
    this.#answer = answer;
  }

  /** Keeps the module's actor-logic exports; returns their names. */
  async load(module: Record<string, unknown>): Promise<string[]> {
    for (const [name, value] of Object.entries(module)) if (isActorLogic(value)) this.#logics.set(name, value);
    if (this.#logics.size > 0) this.#createActor = (await import('xstate')).createActor;
    return [...this.#logics.keys()];
  }

  receive(orders: readonly ActorOrder[]): void {
    for (const order of orders) {
      switch (order.kind) {
        case 'spawn':
          this.#spawn(order.id, order.logic, order.input, order.snapshot);
          break;
        case 'event':
          this.#deliver(order.id, order.event, order.ask);
          break;
        case 'stop': {
          // An actor that has ended is reported already, or is in the report about to go: nothing to add.
          const hosted = this.#actors.get(order.id);
          if (!hosted || this.#status(hosted) !== 'active') break;
          hosted.stopping = true;
          this.#note(order.id);
          break;
        }
        case 'trace':
          this.#tracing = order.on;
          break;
      }
    }
  }

  /**
   * The actor event being processed right now, if any: what the thread
   * says as it exits (`ThreadDying`) when an action calls `process.exit`.
   */
  get processing(): ActorInProgress | undefined {
    return this.#current === undefined ? undefined : { actor: this.#current, delivery: this.#currentNumber };
  }

  /** What happened since the last call, one report per actor. */
  drain(): ActorReport[] {
    // Called at every flush of what the thread sends, tasks' outcomes included: nothing is allocated when no actor has a report.
    if (this.#changed.size === 0 && this.#failed.length === 0) return NO_REPORTS;
    const reports = this.#failed;
    this.#failed = [];
    if (this.#changed.size === 0) return reports;
    for (const [id, pending] of this.#changed) {
      const hosted = this.#actors.get(id);
      if (!hosted) continue;
      const latest = hosted.actor.getSnapshot() as Snapshot<unknown>;
      const active = latest.status === 'active';
      // While active, what a restart needs if this thread dies: taken once per message, however many events it processed,
      // with the delayed events it has pending.
      const snapshot = active ? (persistWithDelays(hosted.actor) as ActorSnapshot) : plainSnapshot(latest);
      const item: { -readonly [K in keyof ActorReport]: ActorReport[K] } = { actor: id, snapshot, processed: hosted.processed };
      if (pending.answers) {
        item.answers = pending.answers.map(([ask, after]) => [ask, after === latest ? null : plainSnapshot(after)] as const);
      }
      if (pending.trace) item.trace = pending.trace;
      if (hosted.erredOn !== undefined) item.erredOn = hosted.erredOn;
      if (hosted.stopping) item.stopped = true;
      // An actor that has ended or stopped takes no more events: the main thread knows it from this report.
      const over = !active || hosted.stopping;
      if (!over && this.#watchWork(id, hosted)) item.pendingWork = true;
      reports.push(item);
      if (over) {
        hosted.watch?.unsubscribe();
        this.#actors.delete(id);
        if (active) hosted.actor.stop();
      }
    }
    this.#changed.clear();
    return reports;
  }

  #spawn(id: string, name: string, input: unknown, snapshot: unknown): void {
    const logic = this.#logics.get(name);
    const createActor = this.#createActor;
    if (!logic || !createActor) {
      // The main thread checks the name before it sends; a module that differs between threads could still get here.
      return this.#fail(id, new InvalidActorError(`The handler module has no actor logic \`${name}\` in this thread`));
    }
    let actor: AnyActorRef;
    const clock = new CountingClock();
    // Restored: XState restores its fields; the delayed events it had pending are armed again for the time left.
    const restored = snapshot === undefined ? undefined : splitDelays(snapshot);
    try {
      actor = createActor(logic, restored === undefined ? { id, input, clock } : { id, input, clock, snapshot: restored.xstate });
      // An error observer: without one XState rethrows the logic's error out of band, which would end the thread.
      actor.subscribe({ next: () => this.#note(id), error: () => this.#note(id), complete: () => this.#note(id) });
      this.#actors.set(id, { actor, processed: 0, erredOn: undefined, stopping: false, clock, watch: undefined });
      actor.start();
      if (restored && restored.delays.length > 0 && this.#status(this.#actors.get(id) as Hosted) === 'active') {
        rearmDelays(actor, restored.delays, Date.now());
      }
    } catch (error) {
      this.#actors.delete(id);
      return this.#fail(id, new ActorStartError(id, name, { cause: error }));
    }
    // XState keeps what the logic threw as it started (a context factory, an entry action) in its snapshot.
    const started = actor.getSnapshot() as Snapshot<unknown>;
    if (started.status === 'error') {
      this.#actors.delete(id);
      return this.#fail(id, new ActorStartError(id, name, { cause: started.error }));
    }
    this.#note(id);
  }

  #deliver(id: string, event: { readonly type: string }, ask: number | undefined): void {
    const hosted = this.#actors.get(id);
    // Ended or stopping: not processed, and not counted. The main thread
    // answers its ask, or sends it again to the actor restarted after an error.
    if (!hosted || hosted.stopping || this.#status(hosted) !== 'active') return;
    const number = ++hosted.processed;
    // Kept while it runs, no message: if an action ends the thread, the exit handler names this event.
    this.#current = id;
    this.#currentNumber = number;
    try {
      hosted.actor.send(event);
    } finally {
      this.#current = undefined;
    }
    const after = hosted.actor.getSnapshot() as Snapshot<unknown>;
    if (after.status === 'error') hosted.erredOn = number;
    const pending = this.#note(id);
    if (this.#tracing) (pending.trace ??= []).push([event, plainSnapshot(after)]);
    if (ask === undefined) return;
    (pending.answers ??= []).push([ask, after]);
    this.#answer();
  }

  /**
   * Whether it has work pending between events (see `pending-work.ts`);
   * watches its system while it has, and stops watching once it has none.
   */
  #watchWork(id: string, hosted: Hosted): boolean {
    const pending = hosted.clock.waiting || runsWork(hosted.actor);
    if (pending && !hosted.watch) {
      hosted.watch = hosted.actor.system.inspect((event) => {
        if (event.type === '@xstate.snapshot') this.#note(id);
      });
    } else if (!pending && hosted.watch) {
      hosted.watch.unsubscribe();
      hosted.watch = undefined;
    }
    return pending;
  }

  #status(hosted: Hosted): string {
    return (hosted.actor.getSnapshot() as Snapshot<unknown>).status;
  }

  #fail(id: string, error: unknown): void {
    this.#changed.delete(id);
    const failed = serializeError(error);
    this.#failed.push({ actor: id, snapshot: { status: 'error', error: failed }, processed: 0, failed });
    this.#schedule();
  }

  #note(id: string): Pending {
    let pending = this.#changed.get(id);
    if (!pending) {
      pending = { answers: undefined, trace: undefined };
      this.#changed.set(id, pending);
      this.#schedule();
    }
    return pending;
  }
}

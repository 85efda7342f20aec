import { randomUUID } from 'node:crypto';

import { Subject } from 'rxjs';

import { type ActorChannel, ActorRef, type ActorState } from '../actors/actor-ref.js';
import type { ActorEvent, ActorSnapshot } from '../actors/types.js';
import {
  ActorFailedError,
  ActorStoppedError,
  AskTimeoutError,
  DuplicateActorError,
  InvalidActorError,
  ProcessorShutdownError,
  WorkerCrashedError,
} from '../errors/errors.js';
import { deserializeError, type SerializedError } from '../errors/serialize.js';
import type { ResolvedRestart } from '../options/types.js';
import { Queue } from '../util/queue.js';
import type { TimerQueue } from '../util/timer-queue.js';
import type { ActorNews } from '../workers/protocol.js';
import type { WorkerActor } from '../workers/worker.js';
import { RestartPolicy } from './restart-policy.js';

/** A spawn, an ask or a stop waiting for its answer. */
export interface Reply<T> {
  resolve(value: T): void;
  reject(error: Error): void;
}

/** What the facade and a ref ask of the actors, as supervisor messages. */
export type ActorMessage =
  | {
      readonly type: 'actor.spawn';
      readonly id: string | undefined;
      readonly logic: string;
      readonly input: unknown;
      readonly reply: Reply<ActorRef>;
    }
  | { readonly type: 'actor.send'; readonly id: string; readonly event: ActorEvent }
  | {
      readonly type: 'actor.ask';
      readonly id: string;
      readonly event: ActorEvent;
      readonly timeout: number;
      readonly reply: Reply<ActorSnapshot>;
    }
  /** An ask's timer fired. */
  | { readonly type: 'actor.askTimeout'; readonly id: string; readonly ask: number }
  /** An actor whose thread died has waited its restart backoff. */
  | { readonly type: 'actor.restart'; readonly id: string }
  | { readonly type: 'actor.stop'; readonly id: string; readonly reply: Reply<void> };

interface Ask extends Reply<ActorSnapshot> {
  readonly timer: unknown;
  /** The event's type and the timeout, for the error if it times out. */
  readonly type: string;
  readonly timeout: number;
  /** The thread its event went to, once sent: its answer keeps that thread ref'd. */
  worker: WorkerActor | undefined;
}

/** An event on its way to an actor; `ask` names the ask waiting for the snapshot after it. */
interface Delivery {
  readonly event: ActorEvent;
  readonly ask: number | undefined;
}

/** One live actor, as the supervisor keeps it. */
interface Entry {
  readonly state: ActorState;
  readonly ref: ActorRef;
  readonly input: unknown;
  readonly restarts: RestartPolicy;
  worker: WorkerActor | undefined;
  /** Until its thread first reports it running. */
  spawned: Reply<ActorRef> | undefined;
  readonly asks: Map<number, Ask>;
  /** XState's persisted snapshot, as its thread last reported it: what a restart restores. */
  persisted: unknown;
  /** Events its thread has reported processed, in this incarnation, and in the ones before (threads that died). */
  reported: number;
  earlier: number;
  /** Events sent to this incarnation and not yet reported processed, oldest first. */
  readonly inFlight: Queue<Delivery>;
  /** Events held back: while it restarts, and while it recovers one event at a time. */
  readonly held: Queue<Delivery>;
  /**
   * Its thread died with events in flight: they go again one at a time,
   * each once the last is reported processed, so that if one kills the
   * thread again it is known, and is not delivered a third time.
   */
  careful: boolean;
  /** Its thread died: it waits for its restart backoff, or for a ready thread. */
  restarting: boolean;
}

/** What the directory needs from its supervisor. */
export interface ActorParts {
  readonly timers: TimerQueue;
  readonly restart: ResolvedRestart;
  /** The ready worker threads. */
  readonly ready: () => readonly WorkerActor[];
  /** A message to the supervisor (an ask timed out, a restart is due). */
  readonly send: (message: ActorMessage) => void;
  /** Runs `effect` once the message being processed is done (promise settlements, snapshots to subscribers). */
  readonly defer: (effect: () => void) => void;
  /** Whether the processor still takes new work; the error to refuse it with if not. */
  readonly refusal: () => Error | undefined;
}

/**
 * The supervisor's directory of the actors users spawned: where each runs,
 * its latest snapshot, the events on their way and the asks waiting for an
 * answer. When an actor's thread dies it is restarted on a live thread from
 * the last snapshot its thread reported, under the processor's `restart`
 * policy (per actor). Owned by the supervisor and called inside its
 * messages; what it settles (a spawn, an ask, a stop, a subscriber's
 * snapshot) is deferred to the end of the message, like every effect.
 */
export class ActorDirectory {
  readonly #parts: ActorParts;
  readonly #entries = new Map<string, Entry>();
  /** Spawns waiting for the first thread to be ready (its module's exports are not known before). */
  readonly #waiting: Array<{ id: string; logic: string; input: unknown; reply: Reply<ActorRef> }> = [];
  /** Live actors per thread, kept as they are placed and leave: placement reads it, in O(threads). */
  readonly #placed = new Map<WorkerActor, number>();
  /** Actors due a restart while no thread was ready. */
  readonly #homeless = new Set<string>();
  /** The handler module's exports, from the first thread that loaded it. */
  #exports: { readonly logics: ReadonlySet<string>; readonly functions: readonly string[] } | undefined;
  #asks = 0;
  /** How refs reach their actors: each call a message to the supervisor. */
  readonly channel: ActorChannel;

  constructor(parts: ActorParts) {
    this.#parts = parts;
    const { send } = parts;
    this.channel = {
      send: (id, event) => send({ type: 'actor.send', id, event }),
      ask: (id, event, timeout) =>
        new Promise((resolve, reject) => send({ type: 'actor.ask', id, event, timeout, reply: { resolve, reject } })),
      stop: (id) => new Promise((resolve, reject) => send({ type: 'actor.stop', id, reply: { resolve, reject } })),
    };
  }

  handle(message: ActorMessage): void {
    switch (message.type) {
      case 'actor.spawn':
        return this.#spawn(message.id, message.logic, message.input, message.reply);
      case 'actor.send': {
        const entry = this.#entries.get(message.id);
        if (entry) this.#deliver(entry, { event: message.event, ask: undefined });
        return;
      }
      case 'actor.ask':
        return this.#ask(message.id, message.event, message.timeout, message.reply);
      case 'actor.askTimeout':
        return this.#askTimedOut(message.id, message.ask);
      case 'actor.restart':
        return this.#restart(message.id);
      case 'actor.stop':
        return this.#stop(message.id, message.reply);
    }
  }

  ref(id: string): ActorRef | undefined {
    return this.#entries.get(id)?.ref;
  }

  refs(): ActorRef[] {
    return [...this.#entries.values()].map((entry) => entry.ref);
  }

  /** A thread is ready: the module's exports are known; spawns and restarts that waited for one go out. */
  workerReady(functions: readonly string[], logics: readonly string[]): void {
    this.#exports ??= { logics: new Set(logics), functions };
    for (const { id, logic, input, reply } of this.#waiting.splice(0)) this.#spawn(id, logic, input, reply);
    const homeless = [...this.#homeless];
    this.#homeless.clear();
    for (const id of homeless) this.#restart(id);
  }

  /** What a thread reported of its actors. */
  heard(worker: WorkerActor, news: readonly ActorNews[]): void {
    for (const item of news) {
      const entry = this.#entries.get(item.actor);
      if (!entry || entry.worker !== worker) continue;
      const { state } = entry;
      const spawned = entry.spawned;
      if (spawned) {
        entry.spawned = undefined;
        worker.awaitAnswers(-1);
      }
      const snapshot = plain(item.snapshot);
      if (spawned && (item.failed || snapshot.status === 'error')) {
        // It failed as it started: the spawn rejects with the logic's error, and nothing else knew of it.
        this.#entries.delete(state.id);
        this.#move(entry, undefined);
        const error = item.failed ? deserializeError(item.failed) : (snapshot.error as Error);
        this.#parts.defer(() => spawned.reject(error));
        continue;
      }
      for (let done = item.processed - entry.reported; done > 0; done--) entry.inFlight.shift();
      entry.reported = item.processed;
      if (snapshot.status === 'active') entry.persisted = item.snapshot;
      state.snapshot = snapshot;
      state.processed = entry.earlier + item.processed;
      if (spawned) this.#parts.defer(() => spawned.resolve(entry.ref));
      for (const [ask, answer] of item.answers ?? []) {
        const waiting = entry.asks.get(ask);
        if (!waiting) continue;
        entry.asks.delete(ask);
        this.#settled(waiting);
        const answered = answer === null ? snapshot : plain(answer);
        // The event ended the actor in error: its ask gets the logic's error, as XState's would.
        if (answered.status === 'error') this.#parts.defer(() => waiting.reject(answered.error as Error));
        else this.#parts.defer(() => waiting.resolve(answered));
      }
      if (snapshot.status === 'active') {
        this.#parts.defer(() => state.changes.next(snapshot));
        this.#pump(entry);
        continue;
      }
      const error = snapshot.status === 'error' ? (snapshot.error as Error) : new ActorStoppedError(state.id, snapshot.status);
      this.#end(entry, snapshot, error);
    }
  }

  /**
   * A thread died with these actors on it. Each comes back on a live thread,
   * after its restart backoff, from the last snapshot its thread reported:
   * the asks in flight reject with `WorkerCrashedError`, and the events sent
   * since that snapshot go again, one at a time (see `Entry.careful`), save
   * the one that was alone in flight when it died (it killed the thread).
   * Past the restart intensity it ends in `error` with `ActorFailedError`.
   */
  threadLost(worker: WorkerActor, exitCode: number | null): void {
    for (const entry of [...this.#entries.values()]) {
      if (entry.worker !== worker) continue;
      const crash = new WorkerCrashedError(worker.id, exitCode);
      if (entry.spawned) {
        this.#end(entry, { status: 'error', error: crash }, crash);
        continue;
      }
      const inFlight: Delivery[] = [];
      for (let delivery = entry.inFlight.shift(); delivery; delivery = entry.inFlight.shift()) inFlight.push(delivery);
      const culprit = entry.careful && inFlight.length === 1 ? inFlight[0] : undefined;
      const again = inFlight.filter((delivery) => delivery !== culprit && delivery.ask === undefined);
      for (const delivery of inFlight) {
        const ask = delivery.ask === undefined ? undefined : entry.asks.get(delivery.ask);
        if (!ask || delivery.ask === undefined) continue;
        entry.asks.delete(delivery.ask);
        this.#parts.timers.clearTimeout(ask.timer);
        this.#parts.defer(() => ask.reject(crash));
      }
      if (again.length > 0) {
        const held = [...again];
        for (let delivery = entry.held.shift(); delivery; delivery = entry.held.shift()) held.push(delivery);
        for (const delivery of held) entry.held.push(delivery);
        entry.careful = true;
      }
      this.#move(entry, undefined);
      entry.earlier += entry.reported;
      entry.reported = 0;
      const delay = entry.restarts.next(this.#parts.timers.now());
      if (delay === undefined) {
        const { maxRestarts, window } = this.#parts.restart;
        const error = new ActorFailedError(entry.state.id, maxRestarts, window, { cause: crash });
        this.#end(entry, { ...entry.state.snapshot, status: 'error', error }, error);
        continue;
      }
      entry.restarting = true;
      this.#parts.timers.setTimeout(() => this.#parts.send({ type: 'actor.restart', id: entry.state.id }), delay);
    }
  }

  /** The processor stops: every actor is stopped, and spawns still waiting for a thread are refused. */
  stopAll(): void {
    for (const { reply } of this.#waiting.splice(0)) this.#parts.defer(() => reply.reject(new ProcessorShutdownError()));
    for (const entry of [...this.#entries.values()]) {
      entry.worker?.sendActors({ kind: 'stop', id: entry.state.id });
      this.#end(entry, { ...entry.state.snapshot, status: 'stopped' }, new ProcessorShutdownError());
    }
  }

  #spawn(id: string | undefined, logic: string, input: unknown, reply: Reply<ActorRef>): void {
    const refusal = this.#parts.refusal();
    if (refusal) return this.#parts.defer(() => reply.reject(refusal));
    const name = id ?? randomUUID();
    if (this.#entries.has(name) || this.#waiting.some((spawn) => spawn.id === name)) {
      return this.#parts.defer(() => reply.reject(new DuplicateActorError(name)));
    }
    const exports = this.#exports;
    if (!exports) return void this.#waiting.push({ id: name, logic, input, reply });
    if (!exports.logics.has(logic)) {
      const error = new InvalidActorError(
        `\`${logic}\` is not actor logic the handler module exports: its actor logic is ${list(exports.logics)}, its functions ${list(exports.functions)}`,
      );
      return this.#parts.defer(() => reply.reject(error));
    }
    const worker = this.#placeFor();
    // The threads that loaded the module have all died since: it waits for the next one.
    if (!worker) return void this.#waiting.push({ id: name, logic, input, reply });
    const state: ActorState = {
      id: name,
      logic,
      snapshot: { status: 'active' },
      processed: 0,
      workerId: worker.id,
      changes: new Subject<ActorSnapshot>(),
    };
    const entry: Entry = {
      state,
      ref: new ActorRef(state, this.channel),
      input,
      restarts: new RestartPolicy(this.#parts.restart),
      worker: undefined,
      spawned: reply,
      asks: new Map(),
      persisted: undefined,
      reported: 0,
      earlier: 0,
      inFlight: new Queue(),
      held: new Queue(),
      careful: false,
      restarting: false,
    };
    this.#entries.set(name, entry);
    this.#move(entry, worker);
    worker.awaitAnswers(1);
    worker.sendActors({ kind: 'spawn', id: name, logic, input });
  }

  #ask(id: string, event: ActorEvent, timeout: number, reply: Reply<ActorSnapshot>): void {
    const entry = this.#entries.get(id);
    if (!entry) return this.#parts.defer(() => reply.reject(new ActorStoppedError(id, 'stopped')));
    const ask = ++this.#asks;
    const timer = this.#parts.timers.setTimeout(() => this.#parts.send({ type: 'actor.askTimeout', id, ask }), timeout);
    entry.asks.set(ask, {
      resolve: (snapshot) => reply.resolve(snapshot),
      reject: (error) => reply.reject(error),
      timer,
      type: event.type,
      timeout,
      worker: undefined,
    });
    this.#deliver(entry, { event, ask });
  }

  #askTimedOut(id: string, ask: number): void {
    const entry = this.#entries.get(id);
    const waiting = entry?.asks.get(ask);
    if (!entry || !waiting) return;
    entry.asks.delete(ask);
    waiting.worker?.awaitAnswers(-1);
    this.#parts.defer(() => waiting.reject(new AskTimeoutError(id, waiting.timeout, waiting.type)));
  }

  #stop(id: string, reply: Reply<void>): void {
    const entry = this.#entries.get(id);
    if (entry) {
      entry.worker?.sendActors({ kind: 'stop', id });
      this.#end(entry, { ...entry.state.snapshot, status: 'stopped' }, new ActorStoppedError(id, 'stopped'));
    }
    this.#parts.defer(() => reply.resolve());
  }

  /** Its backoff is over: onto a ready thread, from its last snapshot, and what was held goes after it. */
  #restart(id: string): void {
    const entry = this.#entries.get(id);
    if (!entry?.restarting) return;
    const worker = this.#placeFor();
    if (!worker) return void this.#homeless.add(id);
    entry.restarting = false;
    this.#move(entry, worker);
    const { logic } = entry.state;
    worker.sendActors({ kind: 'spawn', id, logic, input: entry.input, snapshot: entry.persisted });
    this.#pump(entry);
  }

  /** Sends an event now, unless the actor is restarting or recovering one event at a time: then it waits its turn. */
  #deliver(entry: Entry, delivery: Delivery): void {
    if (entry.worker && !entry.careful && !entry.restarting) return this.#send(entry, entry.worker, delivery);
    entry.held.push(delivery);
    this.#pump(entry);
  }

  #send(entry: Entry, worker: WorkerActor, { event, ask }: Delivery): void {
    entry.inFlight.push({ event, ask });
    if (ask !== undefined) {
      const waiting = entry.asks.get(ask);
      if (!waiting) return; // timed out while held: the event still goes, unasked
      waiting.worker = worker;
      worker.awaitAnswers(1);
    }
    worker.sendActors(ask === undefined ? { kind: 'event', id: entry.state.id, event } : { kind: 'event', id: entry.state.id, event, ask });
  }

  /** Sends what was held: all of it, or while recovering, the next one once the last is reported. */
  #pump(entry: Entry): void {
    const { worker } = entry;
    if (!worker || entry.restarting) return;
    if (!entry.careful) {
      for (let delivery = entry.held.shift(); delivery; delivery = entry.held.shift()) this.#send(entry, worker, delivery);
      return;
    }
    if (entry.inFlight.size > 0) return;
    const next = entry.held.shift();
    if (next) this.#send(entry, worker, next);
    else entry.careful = false;
  }

  /** An answer came, or will not come: its thread need not stay up for it. */
  #settled(ask: Ask): void {
    ask.worker?.awaitAnswers(-1);
    this.#parts.timers.clearTimeout(ask.timer);
  }

  /** The ready thread with the fewest actors; of those, the least busy. */
  #placeFor(): WorkerActor | undefined {
    let best: WorkerActor | undefined;
    let bestActors = Infinity;
    for (const worker of this.#parts.ready()) {
      const actors = this.#placed.get(worker) ?? 0;
      if (actors < bestActors || (actors === bestActors && best && worker.held < best.held)) {
        best = worker;
        bestActors = actors;
      }
    }
    return best;
  }

  /** The actor now runs on `worker` (none: its thread died, or it is over); the count per thread follows. */
  #move(entry: Entry, worker: WorkerActor | undefined): void {
    const from = entry.worker;
    if (from === worker) return;
    if (from) {
      const left = (this.#placed.get(from) ?? 1) - 1;
      if (left === 0) this.#placed.delete(from);
      else this.#placed.set(from, left);
    }
    if (worker) this.#placed.set(worker, (this.#placed.get(worker) ?? 0) + 1);
    entry.worker = worker;
    entry.state.workerId = worker?.id;
  }

  /** The actor is over: out of the directory (its id free), its asks and spawn answered with `error`, its watchers told. */
  #end(entry: Entry, snapshot: ActorSnapshot, error: Error): void {
    const { state } = entry;
    this.#entries.delete(state.id);
    this.#homeless.delete(state.id);
    state.snapshot = snapshot;
    const spawned = entry.spawned;
    if (spawned) entry.worker?.awaitAnswers(-1);
    this.#move(entry, undefined);
    const asks = [...entry.asks.values()];
    entry.asks.clear();
    for (const ask of asks) this.#settled(ask);
    this.#parts.defer(() => {
      spawned?.reject(error);
      for (const ask of asks) ask.reject(error);
      state.changes.next(snapshot);
      if (snapshot.status === 'error') state.changes.error(error);
      else state.changes.complete();
    });
  }
}

/**
 * A snapshot from a thread as a ref shows it: the plain fields of XState's
 * (persisted) snapshot, its error back as its class.
 */
function plain(snapshot: ActorSnapshot): ActorSnapshot {
  const shown: { -readonly [K in keyof ActorSnapshot]: ActorSnapshot[K] } = { status: snapshot.status };
  if ('value' in snapshot) shown.value = snapshot.value;
  if ('context' in snapshot) shown.context = snapshot.context;
  if (snapshot.status === 'done') shown.output = snapshot.output;
  if (snapshot.status === 'error' && snapshot.error !== undefined) shown.error = deserializeError(snapshot.error as SerializedError);
  return shown;
}

function list(names: Iterable<string>): string {
  const all = [...names].map((name) => `\`${name}\``);
  return all.length === 0 ? 'none' : all.join(', ');
}

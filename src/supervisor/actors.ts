import { randomUUID } from 'node:crypto';

import { Subject } from 'rxjs';

import { type ActorChannel, ActorRef, type ActorState } from '../actors/actor-ref.js';
import type { ActorEvent, ActorSnapshot } from '../actors/types.js';
import {
  ActorStoppedError,
  AskTimeoutError,
  DuplicateActorError,
  InvalidActorError,
  ProcessorShutdownError,
  WorkerCrashedError,
} from '../errors/errors.js';
import { deserializeError, type SerializedError } from '../errors/serialize.js';
import type { TimerQueue } from '../util/timer-queue.js';
import type { ActorNews, ActorOrder } from '../workers/protocol.js';
import type { WorkerActor } from '../workers/worker.js';

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
  | { readonly type: 'actor.stop'; readonly id: string; readonly reply: Reply<void> };

interface Ask extends Reply<ActorSnapshot> {
  readonly timer: unknown;
  /** The event's type and the timeout, for the error if it times out. */
  readonly type: string;
  readonly timeout: number;
}

/** One live actor, as the supervisor keeps it. */
interface Entry {
  readonly state: ActorState;
  readonly ref: ActorRef;
  readonly input: unknown;
  worker: WorkerActor | undefined;
  /** Until its thread reports it running. */
  spawned: Reply<ActorRef> | undefined;
  readonly asks: Map<number, Ask>;
}

/** What the directory needs from its supervisor. */
export interface ActorParts {
  readonly timers: TimerQueue;
  /** The ready worker threads. */
  readonly ready: () => readonly WorkerActor[];
  /** A message to the supervisor (an ask timed out). */
  readonly send: (message: ActorMessage) => void;
  /** Runs `effect` once the message being processed is done (promise settlements, snapshots to subscribers). */
  readonly defer: (effect: () => void) => void;
  /** Whether the processor still takes new work; the error to refuse it with if not. */
  readonly refusal: () => Error | undefined;
}

/**
 * The supervisor's directory of the actors users spawned: where each runs,
 * its latest snapshot, the asks waiting for an answer. Owned by the
 * supervisor and called inside its messages; what it settles (a spawn, an
 * ask, a stop, a subscriber's snapshot) is deferred to the end of the
 * message, like every effect.
 */
export class ActorDirectory {
  readonly #parts: ActorParts;
  readonly #entries = new Map<string, Entry>();
  /** Spawns waiting for the first thread to be ready (its module's exports are not known before). */
  readonly #waiting: Array<{ id: string; logic: string; input: unknown; reply: Reply<ActorRef> }> = [];
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
        return this.spawn(message.id, message.logic, message.input, message.reply);
      case 'actor.send':
        return this.send(message.id, message.event);
      case 'actor.ask':
        return this.ask(message.id, message.event, message.timeout, message.reply);
      case 'actor.askTimeout':
        return this.askTimedOut(message.id, message.ask);
      case 'actor.stop':
        return this.stop(message.id, message.reply);
    }
  }

  get size(): number {
    return this.#entries.size;
  }

  ref(id: string): ActorRef | undefined {
    return this.#entries.get(id)?.ref;
  }

  refs(): ActorRef[] {
    return [...this.#entries.values()].map((entry) => entry.ref);
  }

  /** A thread is ready: the module's exports are known, and spawns that waited for one go out. */
  workerReady(functions: readonly string[], logics: readonly string[]): void {
    this.#exports ??= { logics: new Set(logics), functions };
    for (const { id, logic, input, reply } of this.#waiting.splice(0)) this.spawn(id, logic, input, reply);
  }

  spawn(id: string | undefined, logic: string, input: unknown, reply: Reply<ActorRef>): void {
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
    const state: ActorState = {
      id: name,
      logic,
      snapshot: { status: 'active' },
      processed: 0,
      workerId: undefined,
      changes: new Subject<ActorSnapshot>(),
    };
    const worker = this.#placeFor();
    // The threads that loaded the module have all died since: it waits for the next one.
    if (!worker) return void this.#waiting.push({ id: name, logic, input, reply });
    const entry: Entry = { state, ref: new ActorRef(state, this.channel), input, worker, spawned: reply, asks: new Map() };
    this.#entries.set(name, entry);
    state.workerId = worker.id;
    worker.awaitAnswers(1);
    worker.sendActors({ kind: 'spawn', id: name, logic, input });
  }

  send(id: string, event: ActorEvent): void {
    const entry = this.#entries.get(id);
    if (entry) this.#order(entry, { kind: 'event', id, event });
  }

  ask(id: string, event: ActorEvent, timeout: number, reply: Reply<ActorSnapshot>): void {
    const entry = this.#entries.get(id);
    if (!entry) return this.#parts.defer(() => reply.reject(new ActorStoppedError(id, 'stopped')));
    const ask = ++this.#asks;
    const timer = this.#parts.timers.setTimeout(() => this.#parts.send({ type: 'actor.askTimeout', id, ask }), timeout);
    entry.worker?.awaitAnswers(1);
    entry.asks.set(ask, {
      resolve: (snapshot) => reply.resolve(snapshot),
      reject: (error) => reply.reject(error),
      timer,
      type: event.type,
      timeout,
    });
    this.#order(entry, { kind: 'event', id, event, ask });
  }

  askTimedOut(id: string, ask: number): void {
    const entry = this.#entries.get(id);
    const waiting = entry?.asks.get(ask);
    if (!entry || !waiting) return;
    entry.asks.delete(ask);
    entry.worker?.awaitAnswers(-1);
    this.#parts.defer(() => waiting.reject(new AskTimeoutError(id, waiting.timeout, waiting.type)));
  }

  stop(id: string, reply: Reply<void>): void {
    const entry = this.#entries.get(id);
    if (entry) {
      entry.worker?.sendActors({ kind: 'stop', id });
      this.#end(entry, { ...entry.state.snapshot, status: 'stopped' }, new ActorStoppedError(id, 'stopped'));
    }
    this.#parts.defer(() => reply.resolve());
  }

  /** What a thread reported of its actors. */
  heard(worker: WorkerActor, news: readonly ActorNews[]): void {
    for (const item of news) {
      const entry = this.#entries.get(item.actor);
      if (!entry || entry.worker !== worker) continue;
      if (entry.spawned) worker.awaitAnswers(-1);
      if (item.failed) {
        // It never ran: the spawn fails, and nothing else knew of it.
        this.#entries.delete(entry.state.id);
        const error = deserializeError(item.failed);
        const spawned = entry.spawned;
        if (spawned) this.#parts.defer(() => spawned.reject(error));
        continue;
      }
      const snapshot = restore(item.snapshot);
      const { state } = entry;
      if (entry.spawned && snapshot.status === 'error') {
        // It failed as it started: the spawn rejects with the logic's error, and nothing else knew of it.
        this.#entries.delete(state.id);
        const spawned = entry.spawned;
        this.#parts.defer(() => spawned.reject(snapshot.error as Error));
        continue;
      }
      state.snapshot = snapshot;
      state.processed = item.processed;
      const spawned = entry.spawned;
      if (spawned) {
        entry.spawned = undefined;
        this.#parts.defer(() => spawned.resolve(entry.ref));
      }
      for (const [ask, answer] of item.answers ?? []) {
        const waiting = entry.asks.get(ask);
        if (!waiting) continue;
        entry.asks.delete(ask);
        worker.awaitAnswers(-1);
        this.#parts.timers.clearTimeout(waiting.timer);
        const answered = restore(answer);
        // The event ended the actor in error: its ask gets the logic's error, as XState's would.
        if (answered.status === 'error') this.#parts.defer(() => waiting.reject(answered.error as Error));
        else this.#parts.defer(() => waiting.resolve(answered));
      }
      if (snapshot.status === 'active') {
        this.#parts.defer(() => state.changes.next(snapshot));
        continue;
      }
      const error = snapshot.status === 'error' ? (snapshot.error as Error) : new ActorStoppedError(state.id, snapshot.status);
      this.#end(entry, snapshot, error);
    }
  }

  /**
   * A thread died with these actors on it: each ends in `error` with a
   * `WorkerCrashedError`, and its asks reject with it.
   */
  threadLost(worker: WorkerActor, exitCode: number | null): void {
    for (const entry of this.#entries.values()) {
      if (entry.worker !== worker) continue;
      const error = new WorkerCrashedError(worker.id, exitCode);
      this.#end(entry, { ...entry.state.snapshot, status: 'error', error }, error);
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

  /** The ready thread with the fewest actors; of those, the least busy. */
  #placeFor(): WorkerActor | undefined {
    let best: WorkerActor | undefined;
    let bestActors = Infinity;
    const counts = new Map<WorkerActor, number>();
    for (const other of this.#entries.values()) if (other.worker) counts.set(other.worker, (counts.get(other.worker) ?? 0) + 1);
    for (const worker of this.#parts.ready()) {
      const actors = counts.get(worker) ?? 0;
      if (actors < bestActors || (actors === bestActors && best && worker.held < best.held)) {
        best = worker;
        bestActors = actors;
      }
    }
    return best;
  }

  #order(entry: Entry, order: ActorOrder): void {
    entry.worker?.sendActors(order);
  }

  /** The actor is over: out of the directory (its id free), its asks and spawn answered with `error`, its watchers told. */
  #end(entry: Entry, snapshot: ActorSnapshot, error: Error): void {
    const { state } = entry;
    this.#entries.delete(state.id);
    state.snapshot = snapshot;
    state.workerId = undefined;
    const spawned = entry.spawned;
    const asks = [...entry.asks.values()];
    entry.asks.clear();
    entry.worker?.awaitAnswers(-(asks.length + (spawned ? 1 : 0)));
    for (const ask of asks) this.#parts.timers.clearTimeout(ask.timer);
    this.#parts.defer(() => {
      spawned?.reject(error);
      for (const ask of asks) ask.reject(error);
      if (snapshot.status === 'error') {
        state.changes.next(snapshot);
        state.changes.error(error);
      } else {
        state.changes.next(snapshot);
        state.changes.complete();
      }
    });
  }
}

/** A snapshot from a thread, its error back as its class. */
function restore(snapshot: ActorSnapshot): ActorSnapshot {
  if (snapshot.status !== 'error' || snapshot.error === undefined) return snapshot;
  return { ...snapshot, error: deserializeError(snapshot.error as SerializedError) };
}

function list(names: Iterable<string>): string {
  const all = [...names].map((name) => `\`${name}\``);
  return all.length === 0 ? 'none' : all.join(', ');
}

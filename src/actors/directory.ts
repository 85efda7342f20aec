import type { Snapshot } from 'xstate';

import {
  ActorStoppedError,
  AskTimeoutError,
  DuplicateActorError,
  InvalidActorError,
  ProcessorShutdownError,
  WorkerCrashedError,
} from '../errors/errors.js';
import { deserializeError } from '../errors/serialize.js';
import { InspectedActor, type Inspection } from '../observe/inspection.js';
import { Broadcast } from '../util/broadcast.js';
import { Queue } from '../util/queue.js';
import type { TimerQueue } from '../util/timer-queue.js';
import { randomId } from '../util/uuid.js';
import {
  type ActorEntry,
  type Ask,
  type Delivery,
  list,
  plain,
  type Reply,
  type RestartIntensity,
  type RestartSchedule,
} from './actor-entry.js';
import { type ActorChannel, ActorRef, type ActorState } from './actor-ref.js';
import { ActorRestarts } from './actor-restarts.js';
import type { ActorHost, HostExit } from './host.js';
import type { ActorNews } from './protocol.js';
import type { ActorEvent, ActorSnapshot, RestartOn, StoppedActor } from './types.js';

/** What the facade and a ref ask of the actors, as supervisor messages. */
export type ActorMessage =
  | {
      readonly type: 'actor.spawn';
      readonly id: string | undefined;
      readonly logic: string;
      readonly input: unknown;
      readonly snapshot: unknown;
      readonly restart: RestartOn;
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
  /** An actor whose thread died, or whose logic failed, has waited its restart backoff. */
  | { readonly type: 'actor.restart'; readonly id: string }
  | { readonly type: 'actor.stop'; readonly id: string; readonly reply: Reply<void> }
  /** An inspector attached (or the last one left): threads report every event's snapshot, or stop. */
  | { readonly type: 'actor.trace'; readonly on: boolean };

/** Where each actor's latest snapshot is written, with a store (`supervisor/journal.ts` is it). */
export interface ActorJournal {
  actorChanged(id: string, logic: string, restart: RestartOn, snapshot: unknown): void;
  actorGone(id: string): void;
}

/** What the directory needs from its supervisor. */
export interface ActorParts {
  readonly timers: TimerQueue;
  readonly restart: RestartIntensity;
  /** A fresh restart policy, one per actor (the processor's `restart` option). */
  readonly restartSchedule: () => RestartSchedule;
  /** The ready worker threads. */
  readonly ready: () => readonly ActorHost[];
  /** A message to the supervisor (an ask timed out, a restart is due). */
  readonly send: (message: ActorMessage) => void;
  /** Runs `effect` once the message being processed is done (promise settlements, snapshots to subscribers). */
  readonly defer: (effect: () => void) => void;
  /** Whether the processor still takes new work; the error to refuse it with if not. */
  readonly refusal: () => Error | undefined;
  readonly inspection: Inspection;
  /** The supervisor as inspectors see it: each actor's parent. */
  readonly root: InspectedActor;
  /** With a store: where each actor's latest snapshot is written, and what earlier runs left there. */
  readonly journal?: ActorJournal;
  readonly stored?: readonly StoppedActor[];
}

interface Spawn {
  readonly id: string;
  readonly logic: string;
  readonly input: unknown;
  readonly snapshot: unknown;
  readonly restart: RestartOn;
  readonly reply: Reply<ActorRef>;
}

/**
 * The supervisor's directory of the actors users spawned: where each runs,
 * its latest snapshot, the events on their way and the asks waiting for an
 * answer. When an actor's thread dies (or, with `restart: 'on-error'`, its
 * logic throws) it is restarted on a live thread from the last snapshot its
 * thread reported, under the processor's `restart` policy (per actor): the
 * {@link ActorRestarts} it owns decide what goes again and when. Owned
 * by the supervisor and called inside its messages; what it settles (a
 * spawn, an ask, a stop, a subscriber's snapshot) is deferred to the end of
 * the message, like every effect.
 */
export class ActorDirectory {
  readonly #parts: ActorParts;
  readonly #entries = new Map<string, ActorEntry>();
  /** Spawns waiting for the first thread to be ready (its module's exports are not known before). */
  readonly #waiting: Spawn[] = [];
  /** Live actors per thread, kept as they are placed and leave: placement reads it, in O(threads). */
  readonly #placed = new Map<ActorHost, number>();
  /** Actors due a restart while no thread was ready. */
  readonly #homeless = new Set<string>();
  /** The handler module's exports, from the first thread that loaded it. */
  #exports: { readonly logics: ReadonlySet<string>; readonly functions: readonly string[] } | undefined;
  #asks = 0;
  /** Threads report every event's snapshot: an inspector watches. */
  #tracing: boolean;
  /** Actors an earlier run left in the store, not resumed yet: `spawn` under one's id resumes it. */
  readonly #stored = new Map<string, StoppedActor>();
  /** How refs reach their actors: each call a message to the supervisor. */
  readonly channel: ActorChannel;
  readonly #restarts: ActorRestarts;

  constructor(parts: ActorParts) {
    this.#parts = parts;
    this.#tracing = parts.inspection.active;
    for (const actor of parts.stored ?? []) this.#stored.set(actor.id, actor);
    const { send } = parts;
    this.channel = {
      send: (id, event) => send({ type: 'actor.send', id, event }),
      ask: (id, event, timeout) =>
        new Promise((resolve, reject) => send({ type: 'actor.ask', id, event, timeout, reply: { resolve, reject } })),
      stop: (id) => new Promise((resolve, reject) => send({ type: 'actor.stop', id, reply: { resolve, reject } })),
    };
    this.#restarts = new ActorRestarts({
      timers: parts.timers,
      restart: parts.restart,
      defer: parts.defer,
      due: (id) => send({ type: 'actor.restart', id }),
      end: (entry, snapshot, error) => this.#end(entry, snapshot, error),
      unplace: (entry) => this.#move(entry, undefined),
    });
  }

  handle(message: ActorMessage): void {
    switch (message.type) {
      case 'actor.spawn': {
        const { id, logic, input, snapshot, restart, reply } = message;
        return this.#spawn({ id: id ?? randomId(), logic, input, snapshot, restart, reply });
      }
      case 'actor.send': {
        const entry = this.#entries.get(message.id);
        if (entry && !entry.stopping) this.#deliver(entry, { event: message.event, ask: undefined });
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
      case 'actor.trace':
        if (message.on === this.#tracing) return;
        this.#tracing = message.on;
        for (const worker of this.#parts.ready()) worker.sendActors({ kind: 'trace', on: message.on });
        return;
    }
  }

  ref(id: string): ActorRef | undefined {
    return this.#entries.get(id)?.ref;
  }

  refs(): ActorRef[] {
    return [...this.#entries.values()].map((entry) => entry.ref);
  }

  /** Actors stored by earlier runs and not resumed yet. */
  storedActors(): Array<{ id: string; logic: string }> {
    return [...this.#stored.values()].map(({ id, logic }) => ({ id, logic }));
  }

  /** A thread is ready: the module's exports are known; spawns and restarts that waited for one go out. */
  workerReady(worker: ActorHost, functions: readonly string[], logics: readonly string[]): void {
    this.#exports ??= { logics: new Set(logics), functions };
    if (this.#tracing) worker.sendActors({ kind: 'trace', on: true });
    for (const spawn of this.#waiting.splice(0)) this.#spawn(spawn);
    const homeless = [...this.#homeless];
    this.#homeless.clear();
    for (const id of homeless) this.#restart(id);
  }

  /** What a thread reported of its actors. */
  heard(worker: ActorHost, news: readonly ActorNews[]): void {
    for (const item of news) {
      const entry = this.#entries.get(item.actor);
      if (entry?.worker === worker) this.#hear(entry, worker, item);
    }
  }

  /**
   * A thread died with these actors on it. Each comes back on a live thread,
   * after its restart backoff, from the last snapshot its thread reported
   * (see `ActorRestarts.threadLost`); past the restart intensity it ends in
   * `error` with `ActorFailedError`.
   */
  threadLost(worker: ActorHost, exit: HostExit): void {
    for (const entry of [...this.#entries.values()]) {
      if (entry.worker !== worker) continue;
      const crash = new WorkerCrashedError(worker.id, exit.code);
      if (entry.spawned) {
        this.#end(entry, { status: 'error', error: crash }, crash);
        continue;
      }
      if (entry.stopping) {
        // It was to stop anyway.
        this.#stopAsReported(entry);
        continue;
      }
      this.#restarts.threadLost(entry, crash, exit.dying);
    }
  }

  /**
   * The processor stops, its tasks done: spawns still waiting for a thread
   * are refused, and every actor is stopped after the events already sent
   * to it. Resolves with each one's last persisted snapshot, to resume it.
   */
  stopAll(): Promise<StoppedActor[]> {
    for (const { reply } of this.#waiting.splice(0)) this.#parts.defer(() => reply.reject(new ProcessorShutdownError()));
    const stops = [...this.#entries.values()].map(
      (entry) =>
        new Promise<StoppedActor | undefined>((resolve) => {
          const settle = () => {
            const { id, logic, snapshot } = entry.state;
            // Ended by itself meanwhile (a final state, an error): nothing to resume.
            resolve(snapshot.status === 'stopped' && entry.persisted !== undefined ? { id, logic, snapshot: entry.persisted } : undefined);
          };
          this.#stop(entry.state.id, { resolve: settle, reject: settle }, true);
        }),
    );
    return Promise.all(stops).then((stopped) => stopped.filter((actor) => actor !== undefined));
  }

  /**
   * Shutdown's deadline passed while actors were stopping (an action that
   * never returns holds its thread): each one not yet reported stopped
   * stops now, as its thread last reported it, so `stopAll` resolves with
   * its last persisted snapshot; its asks reject with `ActorStoppedError`.
   * The threads are terminated next, whatever they run.
   */
  stopOverdue(): void {
    for (const entry of [...this.#entries.values()]) if (entry.stopping) this.#stopAsReported(entry);
  }

  #hear(entry: ActorEntry, worker: ActorHost, item: ActorNews): void {
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
      return;
    }
    // With `'on-error'`, an error restarts it from the snapshot before this news: what it processed since goes again, save the event that threw.
    // Not when it is being stopped: it ends in error instead of coming back.
    const again =
      snapshot.status === 'error' && entry.restartOn === 'on-error' && !item.stopped && !entry.stopping ? ([] as Delivery[]) : undefined;
    for (let done = item.processed - entry.reported; done > 0; done--) {
      const delivery = entry.inFlight.shift();
      if (again && delivery) again.push(delivery);
    }
    if (again && item.erredOn !== undefined) again.pop();
    entry.reported = item.processed;
    if (snapshot.status === 'active') {
      entry.persisted = item.snapshot;
      this.#parts.journal?.actorChanged(state.id, state.logic, entry.restartOn, item.snapshot);
      if (spawned) this.#stored.delete(state.id);
    }
    const inspected = this.#parts.inspection.active ? this.#inspected(entry, spawned !== undefined) : undefined;
    if (!again) state.snapshot = snapshot;
    state.processed = entry.earlier + item.processed;
    if (spawned) this.#parts.defer(() => spawned.resolve(entry.ref));
    if (inspected) this.#traced(inspected, item, spawned !== undefined);
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
    if (item.stopped && snapshot.status === 'active') {
      this.#end(entry, { ...snapshot, status: 'stopped' }, new ActorStoppedError(state.id, 'stopped'));
      return;
    }
    if (snapshot.status === 'active') {
      this.#parts.defer(() => state.changes.next(snapshot));
      this.#pump(entry);
      return;
    }
    if (again) return this.#restarts.afterError(entry, again, snapshot.error as Error);
    const error = snapshot.status === 'error' ? (snapshot.error as Error) : new ActorStoppedError(state.id, snapshot.status);
    this.#end(entry, snapshot, error);
  }

  #spawn(spawn: Spawn): void {
    const { id, logic, input, restart, reply } = spawn;
    const refusal = this.#parts.refusal();
    if (refusal) return this.#parts.defer(() => reply.reject(refusal));
    if (this.#entries.has(id) || this.#waiting.some((waiting) => waiting.id === id)) {
      return this.#parts.defer(() => reply.reject(new DuplicateActorError(id)));
    }
    // Stored by an earlier run: resumed from there, unless a snapshot is given.
    const stored = spawn.snapshot === undefined ? this.#stored.get(id) : undefined;
    if (stored && stored.logic !== logic) {
      const error = new InvalidActorError(
        `Actor \`${id}\` is stored with logic \`${stored.logic}\`, not \`${logic}\`: spawn it as \`${stored.logic}\` to resume it (and stop it to forget it)`,
      );
      return this.#parts.defer(() => reply.reject(error));
    }
    const snapshot = stored ? stored.snapshot : spawn.snapshot;
    const exports = this.#exports;
    if (!exports) return void this.#waiting.push(spawn);
    if (!exports.logics.has(logic)) {
      const error = new InvalidActorError(
        `\`${logic}\` is not actor logic the handler module exports: its actor logic is ${list(exports.logics)}, its functions ${list(exports.functions)}`,
      );
      return this.#parts.defer(() => reply.reject(error));
    }
    const worker = this.#placeFor();
    // The threads that loaded the module have all died since: it waits for the next one.
    if (!worker) return void this.#waiting.push(spawn);
    const state: ActorState = {
      id,
      logic,
      snapshot: { status: 'active' },
      processed: 0,
      workerId: worker.id,
      stopping: false,
      changes: new Broadcast<ActorSnapshot>(),
    };
    const entry: ActorEntry = {
      state,
      ref: new ActorRef(state, this.channel),
      input,
      restartOn: restart,
      restarts: this.#parts.restartSchedule(),
      worker: undefined,
      spawned: reply,
      asks: new Map(),
      persisted: snapshot,
      reported: 0,
      earlier: 0,
      inFlight: new Queue(),
      held: new Queue(),
      careful: false,
      restarting: false,
      stopping: undefined,
      keep: false,
      inspected: undefined,
    };
    this.#entries.set(id, entry);
    this.#move(entry, worker);
    worker.awaitAnswers(1);
    worker.sendActors({ kind: 'spawn', id, logic, input, snapshot });
  }

  #ask(id: string, event: ActorEvent, timeout: number, reply: Reply<ActorSnapshot>): void {
    const entry = this.#entries.get(id);
    if (!entry || entry.stopping) return this.#parts.defer(() => reply.reject(new ActorStoppedError(id, 'stopped')));
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

  /**
   * Stops it behind the events already sent: its thread reports its last
   * snapshot, and the stop resolves then. Not on a thread (restarting), it
   * stops at once, as it was last reported. `keep`: stopped by shutdown,
   * it stays in the store (if any), to be resumed by a later run.
   */
  #stop(id: string, reply: Reply<void>, keep = false): void {
    const entry = this.#entries.get(id);
    if (!entry) return this.#parts.defer(() => reply.resolve());
    if (keep) entry.keep = true;
    if (entry.stopping) return void entry.stopping.push(reply);
    entry.stopping = [reply];
    entry.state.stopping = true;
    const { worker } = entry;
    if (!worker || entry.restarting) {
      this.#stopAsReported(entry);
      return;
    }
    worker.awaitAnswers(1);
    worker.sendActors({ kind: 'stop', id });
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
  #deliver(entry: ActorEntry, delivery: Delivery): void {
    if (entry.worker && !entry.careful && !entry.restarting) return this.#send(entry, entry.worker, delivery);
    entry.held.push(delivery);
    this.#pump(entry);
  }

  #send(entry: ActorEntry, worker: ActorHost, { event, ask }: Delivery): void {
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
  #pump(entry: ActorEntry): void {
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
  #placeFor(): ActorHost | undefined {
    let best: ActorHost | undefined;
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

  /** Whether any actor runs on the thread. */
  hosts(worker: ActorHost): boolean {
    return this.#placed.has(worker);
  }

  /** The actor now runs on `worker` (none: its thread died, or it is over); the count per thread follows. */
  #move(entry: ActorEntry, worker: ActorHost | undefined): void {
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

  /** How inspectors see it: made, and announced, the first time one watches (a spawn's news announces it with its first snapshot). */
  #inspected(entry: ActorEntry, spawning: boolean): InspectedActor {
    if (entry.inspected) return entry.inspected;
    const { state } = entry;
    const inspected = new InspectedActor(`troupe.actor.${state.id}`, () => xstateSnapshot(state.snapshot), this.#parts.root);
    entry.inspected = inspected;
    if (!spawning) this.#parts.inspection.started(inspected);
    return inspected;
  }

  /** Each event it processed, then its snapshot right after, in order (`@xstate.event`, `@xstate.snapshot`). */
  #traced(inspected: InspectedActor, item: ActorNews, spawning: boolean): void {
    const { inspection } = this.#parts;
    if (spawning) inspection.started(inspected);
    for (const [event, after] of item.trace ?? []) {
      inspection.received(inspected, event, undefined);
      inspection.changed(inspected, event, xstateSnapshot(plain(after)));
    }
  }

  /** It stops here, as its thread last reported it: its thread died, shutdown's deadline passed, or it was restarting. */
  #stopAsReported(entry: ActorEntry): void {
    this.#end(entry, { ...entry.state.snapshot, status: 'stopped' }, new ActorStoppedError(entry.state.id, 'stopped'));
  }

  /** The actor is over: out of the directory (its id free), its asks and spawn answered with `error`, its watchers told. */
  #end(entry: ActorEntry, snapshot: ActorSnapshot, error: Error): void {
    const { state } = entry;
    this.#entries.delete(state.id);
    this.#homeless.delete(state.id);
    state.snapshot = snapshot;
    const { spawned, stopping, inspected } = entry;
    // Over for good (a final state, an error, stop()): not to be resumed. Stopped by shutdown, it stays stored.
    if (!entry.keep && !spawned) this.#parts.journal?.actorGone(state.id);
    if (spawned) entry.worker?.awaitAnswers(-1);
    if (stopping) entry.worker?.awaitAnswers(-1);
    this.#move(entry, undefined);
    const asks = [...entry.asks.values()];
    entry.asks.clear();
    for (const ask of asks) this.#settled(ask);
    if (inspected && this.#parts.inspection.active) {
      this.#parts.inspection.changed(inspected, { type: `xstate.${snapshot.status}` }, xstateSnapshot(snapshot));
    }
    if (inspected) this.#parts.inspection.stopped(inspected);
    this.#parts.defer(() => {
      spawned?.reject(error);
      for (const ask of asks) ask.reject(error);
      for (const stop of stopping ?? []) stop.resolve();
      state.changes.next(snapshot);
      if (snapshot.status === 'error') state.changes.error(error);
      else state.changes.complete();
    });
  }
}

/** A ref's snapshot in XState's shape, for inspectors. */
function xstateSnapshot(snapshot: ActorSnapshot): Snapshot<unknown> {
  const { status, value, context, output, error } = snapshot;
  return { status, value, context, output, error } as Snapshot<unknown>;
}

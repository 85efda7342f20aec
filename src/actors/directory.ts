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
import type { Broadcast } from '../util/broadcast.js';
import type { TimerQueue } from '../util/timer-queue.js';
import { randomId } from '../util/uuid.js';
import {
  ActorEntry,
  type ActorPhase,
  type Ask,
  type Delivery,
  hostOf,
  list,
  needsThread,
  pendingSpawn,
  plain,
  type Reply,
  type RestartIntensity,
  type RestartSchedule,
  sendsAtOnce,
  takesEvents,
} from './actor-entry.js';
import type { ActorChannel, ActorRef } from './actor-ref.js';
import { ActorRestarts } from './actor-restarts.js';
import type { ActorHost, HostExit } from './host.js';
import { Placement } from './placement.js';
import type { ActorReport } from './protocol.js';
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
  readonly #spawnsWaiting: Spawn[] = [];
  readonly #placement: Placement;
  /** Actors due a restart while no thread was ready. */
  readonly #restartsWaiting = new Set<string>();
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
    this.#placement = new Placement(parts.ready);
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
      enter: (entry, phase) => this.#enter(entry, phase),
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
        if (entry && takesEvents(entry.phase)) this.#deliver(entry, { event: message.event, ask: undefined });
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
        for (const host of this.#parts.ready()) host.sendActors({ kind: 'trace', on: message.on });
        return;
    }
  }

  ref(id: string): ActorRef | undefined {
    return this.#entries.get(id)?.ref;
  }

  /** The snapshots of the live actor of this id, from now on (they go out once the mailbox is empty). */
  changesOf(id: string): Broadcast<ActorSnapshot> | undefined {
    return this.#entries.get(id)?.changes;
  }

  refs(): ActorRef[] {
    return [...this.#entries.values()].map((entry) => entry.ref);
  }

  /** Actors stored by earlier runs and not resumed yet. */
  storedActors(): Array<{ id: string; logic: string }> {
    return [...this.#stored.values()].map(({ id, logic }) => ({ id, logic }));
  }

  /** A thread is ready: the module's exports are known; spawns and restarts that waited for one go out. */
  workerReady(host: ActorHost, functions: readonly string[], logics: readonly string[]): void {
    this.#exports ??= { logics: new Set(logics), functions };
    if (this.#tracing) host.sendActors({ kind: 'trace', on: true });
    for (const spawn of this.#spawnsWaiting.splice(0)) this.#spawn(spawn);
    const due = [...this.#restartsWaiting];
    this.#restartsWaiting.clear();
    for (const id of due) this.#restart(id);
  }

  /** What a thread reported of its actors. */
  reported(host: ActorHost, reports: readonly ActorReport[]): void {
    for (const report of reports) {
      const entry = this.#entries.get(report.actor);
      if (!entry || hostOf(entry.phase) !== host) continue;
      this.#receive(entry, host, report);
      this.#keepAlive(entry);
    }
  }

  /**
   * A thread died with these actors on it. Each comes back on a live thread,
   * after its restart backoff, from the last snapshot its thread reported
   * (see `ActorRestarts.threadLost`); past the restart intensity it ends in
   * `error` with `ActorFailedError`.
   */
  threadLost(host: ActorHost, exit: HostExit): void {
    for (const entry of [...this.#entries.values()]) {
      const { phase } = entry;
      if (hostOf(phase) !== host) continue;
      const crash = new WorkerCrashedError(host.id, exit.code);
      // Never ran: the spawn fails with the crash.
      if (pendingSpawn(phase)) this.#end(entry, { status: 'error', error: crash }, crash);
      // It was to stop anyway.
      else if (phase.name === 'stopping') this.#stopAsReported(entry);
      else if (phase.name === 'running') this.#restarts.threadLost(entry, phase, crash, exit.dying);
    }
  }

  /**
   * The processor stops, its tasks done: spawns still waiting for a thread
   * are refused, and every actor is stopped after the events already sent
   * to it. Resolves with each one's last persisted snapshot, to resume it.
   */
  stopAll(): Promise<StoppedActor[]> {
    for (const { reply } of this.#spawnsWaiting.splice(0)) this.#parts.defer(() => reply.reject(new ProcessorShutdownError()));
    const stops = [...this.#entries.values()].map(
      (entry) =>
        new Promise<StoppedActor | undefined>((resolve) => {
          const settle = () => {
            const { id, logic, snapshot } = entry;
            // Ended by itself meanwhile (a final state, an error): nothing to resume.
            resolve(snapshot.status === 'stopped' && entry.persisted !== undefined ? { id, logic, snapshot: entry.persisted } : undefined);
          };
          this.#stop(entry.id, { resolve: settle, reject: settle }, true);
        }),
    );
    return Promise.all(stops).then((stopped) => stopped.filter((actor) => actor !== undefined));
  }

  /**
   * Stops the actor of `id` behind the events already sent to it, keeping
   * it stored (with a store) as shutdown does, and calls `stopped` with its
   * last persisted snapshot once its thread reports it stopped (undefined
   * when it ended by itself meanwhile: a final state, an error). For a
   * virtual actor that passivates.
   */
  passivate(id: string, stopped: (persisted: unknown) => void): void {
    const entry = this.#entries.get(id);
    if (!entry) return stopped(undefined);
    const settle = () => stopped(entry.snapshot.status === 'stopped' ? entry.persisted : undefined);
    this.#stop(id, { resolve: settle, reject: settle }, true);
  }

  /**
   * Shutdown's deadline passed while actors were stopping (an action that
   * never returns holds its thread): each one not yet reported stopped
   * stops now, as its thread last reported it, so `stopAll` resolves with
   * its last persisted snapshot; its asks reject with `ActorStoppedError`.
   * The threads are terminated next, whatever they run.
   */
  stopOverdue(): void {
    for (const entry of [...this.#entries.values()]) if (entry.phase.name === 'stopping') this.#stopAsReported(entry);
  }

  /** Whether any actor runs on the thread. */
  hosts(host: ActorHost): boolean {
    return this.#placement.hosts(host);
  }

  #receive(entry: ActorEntry, host: ActorHost, report: ActorReport): void {
    const spawn = pendingSpawn(entry.phase);
    const snapshot = plain(report.snapshot);
    entry.pendingWork = report.pendingWork === true;
    if (spawn) {
      if (report.failed || snapshot.status === 'error') return this.#failedToStart(entry, report, snapshot, spawn);
      const { phase } = entry;
      this.#enter(entry, phase.name === 'stopping' ? { ...phase, spawn: undefined } : { name: 'running', host, oneAtATime: false });
    }
    // With `'on-error'`, an error restarts it from the snapshot before this report: what it processed since goes again, save the event that threw.
    // Not when it is being stopped: it ends in error instead of coming back.
    const running = entry.phase.name === 'running' ? entry.phase : undefined;
    const again = snapshot.status === 'error' && entry.restartOn === 'on-error' && running ? ([] as Delivery[]) : undefined;
    for (let done = report.processed - entry.reported; done > 0; done--) {
      const delivery = entry.inFlight.shift();
      if (again && delivery) again.push(delivery);
    }
    if (again && report.erredOn !== undefined) again.pop();
    entry.reported = report.processed;
    if (snapshot.status === 'active') {
      entry.persisted = report.snapshot;
      this.#parts.journal?.actorChanged(entry.id, entry.logic, entry.restartOn, report.snapshot);
      if (spawn) this.#stored.delete(entry.id);
    }
    const inspected = this.#parts.inspection.active ? this.#inspected(entry, spawn !== undefined) : undefined;
    if (!again) entry.snapshot = snapshot;
    entry.processed = entry.earlier + report.processed;
    if (spawn) this.#parts.defer(() => spawn.resolve(entry.ref));
    if (inspected) this.#traced(inspected, report, spawn !== undefined);
    this.#answer(entry, report, snapshot);
    if (report.stopped && snapshot.status === 'active') {
      this.#end(entry, { ...snapshot, status: 'stopped' }, new ActorStoppedError(entry.id, 'stopped'));
      return;
    }
    if (snapshot.status === 'active') {
      this.#parts.defer(() => entry.changes.next(snapshot));
      this.#pump(entry);
      return;
    }
    if (again && running) return this.#restarts.afterError(entry, running, again, snapshot.error as Error);
    const error = snapshot.status === 'error' ? (snapshot.error as Error) : new ActorStoppedError(entry.id, snapshot.status);
    this.#end(entry, snapshot, error);
  }

  /**
   * It failed as it started: the spawn rejects with the thread's
   * `ActorStartError` (or, when an event sent behind the spawn ended it
   * first, the logic's error), and nothing else knew of it (a `stop()`
   * made meanwhile resolves).
   */
  #failedToStart(entry: ActorEntry, report: ActorReport, snapshot: ActorSnapshot, spawn: Reply<ActorRef>): void {
    const error = report.failed ? deserializeError(report.failed) : (snapshot.error as Error);
    const { phase } = entry;
    if (phase.name === 'stopping') for (const stop of phase.stops) this.#parts.defer(() => stop.resolve());
    this.#entries.delete(entry.id);
    entry.snapshot = { ...snapshot, status: 'error', error };
    this.#enter(entry, { name: 'ended' });
    this.#parts.defer(() => spawn.reject(error));
  }

  /** The asks a report answers: each with the snapshot right after its event, or the logic's error if that ended the actor in error. */
  #answer(entry: ActorEntry, report: ActorReport, snapshot: ActorSnapshot): void {
    for (const [ask, answer] of report.answers ?? []) {
      const waiting = entry.asks.get(ask);
      if (!waiting) continue;
      entry.asks.delete(ask);
      this.#settled(waiting);
      const answered = answer === null ? snapshot : plain(answer);
      // The event ended the actor in error: its ask gets the logic's error, as XState's would.
      if (answered.status === 'error') this.#parts.defer(() => waiting.reject(answered.error as Error));
      else this.#parts.defer(() => waiting.resolve(answered));
    }
  }

  #spawn(spawn: Spawn): void {
    const { id, logic, input, restart, reply } = spawn;
    const refusal = this.#parts.refusal();
    if (refusal) return this.#parts.defer(() => reply.reject(refusal));
    if (this.#entries.has(id) || this.#spawnsWaiting.some((waiting) => waiting.id === id)) {
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
    if (!exports) return void this.#spawnsWaiting.push(spawn);
    if (!exports.logics.has(logic)) {
      const error = new InvalidActorError(
        `\`${logic}\` is not actor logic the handler module exports: its actor logic is ${list(exports.logics)}, its functions ${list(exports.functions)}`,
      );
      return this.#parts.defer(() => reply.reject(error));
    }
    const host = this.#placement.choose();
    // The threads that loaded the module have all died since: it waits for the next one.
    if (!host) return void this.#spawnsWaiting.push(spawn);
    const phase: ActorPhase = { name: 'spawning', host, spawn: reply };
    const entry = new ActorEntry({
      id,
      logic,
      input,
      restartOn: restart,
      restarts: this.#parts.restartSchedule(),
      persisted: snapshot,
      phase,
      channel: this.channel,
    });
    this.#entries.set(id, entry);
    this.#placement.moved(undefined, host);
    this.#keepAlive(entry);
    host.sendActors({ kind: 'spawn', id, logic, input, snapshot });
  }

  #ask(id: string, event: ActorEvent, timeout: number, reply: Reply<ActorSnapshot>): void {
    const entry = this.#entries.get(id);
    if (!entry || !takesEvents(entry.phase)) return this.#parts.defer(() => reply.reject(new ActorStoppedError(id, 'stopped')));
    const ask = ++this.#asks;
    const timer = this.#parts.timers.setTimeout(() => this.#parts.send({ type: 'actor.askTimeout', id, ask }), timeout);
    entry.asks.set(ask, {
      resolve: (snapshot) => reply.resolve(snapshot),
      reject: (error) => reply.reject(error),
      timer,
      type: event.type,
      timeout,
    });
    this.#deliver(entry, { event, ask });
  }

  #askTimedOut(id: string, ask: number): void {
    const entry = this.#entries.get(id);
    const waiting = entry?.asks.get(ask);
    if (!entry || !waiting) return;
    entry.asks.delete(ask);
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
    const { phase } = entry;
    switch (phase.name) {
      case 'stopping':
        phase.stops.push(reply);
        if (keep) phase.keep = true;
        return;
      case 'restarting':
        return this.#stopAsReported(entry, { stops: [reply], keep });
      case 'spawning':
      case 'running':
        this.#enter(entry, { name: 'stopping', host: phase.host, spawn: pendingSpawn(phase), stops: [reply], keep });
        phase.host.sendActors({ kind: 'stop', id });
        return;
      case 'ended':
        return;
    }
  }

  /** Its backoff is over: onto a ready thread, from its last snapshot, and what was held goes after it. */
  #restart(id: string): void {
    const entry = this.#entries.get(id);
    const phase = entry?.phase;
    if (!entry || phase?.name !== 'restarting') return;
    const host = this.#placement.choose();
    if (!host) return void this.#restartsWaiting.add(id);
    // Restored from a snapshot that may hold delayed events: it keeps its thread alive until the thread says.
    entry.pendingWork = true;
    this.#enter(entry, { name: 'running', host, oneAtATime: phase.oneAtATime });
    host.sendActors({ kind: 'spawn', id, logic: entry.logic, input: entry.input, snapshot: entry.persisted });
    this.#pump(entry);
  }

  /** Sends an event now, unless the actor is restarting or its events go one at a time: then it waits its turn. */
  #deliver(entry: ActorEntry, delivery: Delivery): void {
    const { phase } = entry;
    if (sendsAtOnce(phase)) return this.#send(entry, phase.host, delivery);
    entry.held.push(delivery);
    this.#pump(entry);
  }

  #send(entry: ActorEntry, host: ActorHost, { event, ask }: Delivery): void {
    entry.inFlight.push({ event, ask });
    // Until it is reported processed, the event keeps its thread alive.
    if (entry.keeping !== host) this.#keepAlive(entry);
    const { id } = entry;
    host.sendActors(ask === undefined ? { kind: 'event', id, event } : { kind: 'event', id, event, ask });
  }

  /** Sends what was held, once it runs: all of it, or while events go one at a time, the next once the last is reported. */
  #pump(entry: ActorEntry): void {
    const { phase } = entry;
    if (phase.name !== 'running') return;
    if (!phase.oneAtATime) {
      for (let delivery = entry.held.shift(); delivery; delivery = entry.held.shift()) this.#send(entry, phase.host, delivery);
      return;
    }
    if (entry.inFlight.size > 0) return;
    const next = entry.held.shift();
    if (next) this.#send(entry, phase.host, next);
    else this.#enter(entry, { name: 'running', host: phase.host, oneAtATime: false });
  }

  /** An answer came, or will not come: its timer is not needed. */
  #settled(ask: Ask): void {
    this.#parts.timers.clearTimeout(ask.timer);
  }

  /** The one way an entry changes phase: the count of actors per thread, and the threads kept alive, follow. */
  #enter(entry: ActorEntry, phase: ActorPhase): void {
    const from = hostOf(entry.phase);
    entry.phase = phase;
    this.#placement.moved(from, hostOf(phase));
    this.#keepAlive(entry);
  }

  /** Counts the thread it needs alive now, if that changed (see `needsThread`). */
  #keepAlive(entry: ActorEntry): void {
    const host = needsThread(entry);
    if (host === entry.keeping) return;
    this.#placement.kept(entry.keeping, host);
    entry.keeping = host;
  }

  /** How inspectors see it: made, and announced, the first time one watches (a spawn's first report announces it with its first snapshot). */
  #inspected(entry: ActorEntry, spawning: boolean): InspectedActor {
    if (entry.inspected) return entry.inspected;
    const inspected = new InspectedActor(`troupe.actor.${entry.id}`, () => xstateSnapshot(entry.snapshot), this.#parts.root);
    entry.inspected = inspected;
    if (!spawning) this.#parts.inspection.started(inspected);
    return inspected;
  }

  /** Each event it processed, then its snapshot right after, in order (`@xstate.event`, `@xstate.snapshot`). */
  #traced(inspected: InspectedActor, report: ActorReport, spawning: boolean): void {
    const { inspection } = this.#parts;
    if (spawning) inspection.started(inspected);
    for (const [event, after] of report.trace ?? []) {
      inspection.received(inspected, event, undefined);
      inspection.changed(inspected, event, xstateSnapshot(plain(after)));
    }
  }

  /**
   * It stops here, as its thread last reported it: its thread died,
   * shutdown's deadline passed, or it was restarting (then `stop` is the
   * stop that asked, as the stopping phase would hold it).
   */
  #stopAsReported(entry: ActorEntry, stop?: StopRequest): void {
    this.#end(entry, { ...entry.snapshot, status: 'stopped' }, new ActorStoppedError(entry.id, 'stopped'), stop);
  }

  /** The actor is over: out of the directory (its id free), its asks and spawn answered with `error`, its watchers told. */
  #end(entry: ActorEntry, snapshot: ActorSnapshot, error: Error, stop: StopRequest | undefined = stopRequest(entry.phase)): void {
    const { phase, inspected } = entry;
    const spawn = pendingSpawn(phase);
    this.#entries.delete(entry.id);
    this.#restartsWaiting.delete(entry.id);
    entry.snapshot = snapshot;
    // Over for good (a final state, an error, stop()): not to be resumed. Stopped by shutdown, it stays stored.
    if (!stop?.keep && !spawn) this.#parts.journal?.actorGone(entry.id);
    this.#enter(entry, { name: 'ended' });
    const asks = [...entry.asks.values()];
    entry.asks.clear();
    for (const ask of asks) this.#settled(ask);
    if (inspected && this.#parts.inspection.active) {
      this.#parts.inspection.changed(inspected, { type: `xstate.${snapshot.status}` }, xstateSnapshot(snapshot));
    }
    if (inspected) this.#parts.inspection.stopped(inspected);
    this.#parts.defer(() => {
      spawn?.reject(error);
      for (const ask of asks) ask.reject(error);
      for (const reply of stop?.stops ?? []) reply.resolve();
      entry.changes.next(snapshot);
      if (snapshot.status === 'error') entry.changes.error(error);
      else entry.changes.complete();
    });
  }
}

/** The `stop()` calls an ending actor answers, and whether shutdown keeps it stored. */
interface StopRequest {
  readonly stops: ReadonlyArray<Reply<void>>;
  readonly keep: boolean;
}

function stopRequest(phase: ActorPhase): StopRequest | undefined {
  return phase.name === 'stopping' ? phase : undefined;
}

/** A ref's snapshot in XState's shape, for inspectors. */
function xstateSnapshot(snapshot: ActorSnapshot): Snapshot<unknown> {
  const { status, value, context, output, error } = snapshot;
  return { status, value, context, output, error } as Snapshot<unknown>;
}

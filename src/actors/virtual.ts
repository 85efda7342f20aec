/**
 * Virtual actors in one process: addressed by logic and key, always
 * addressable, activated on their first event. An activation is a thread
 * actor of the directory, under the id `<logic>/<key>`, restored from the
 * key's persisted snapshot or started with the input of the ref that sent
 * the event that activated it. Events that arrive while it activates wait
 * here, in order, and go to it once it runs. A key that goes
 * `actorIdleTimeout` ms without an event is passivated: stopped behind
 * its events, its persisted snapshot kept (in the store with one, and
 * here), its thread actor gone; its next event activates it again from
 * that snapshot, and so does a delayed event it had pending, when it falls
 * due. Owned by the supervisor and called inside its messages; what it
 * learns later (an activation that runs or was refused, a passivation
 * done, a timer) comes back as a message.
 */
import { ActorStoppedError, AskTimeoutError } from '../errors/errors.js';
import { Broadcast, type Unsubscribable } from '../util/broadcast.js';
import { Queue } from '../util/queue.js';
import type { TimerQueue } from '../util/timer-queue.js';
import type { Reply } from './actor-entry.js';
import type { ActorRef } from './actor-ref.js';
import type { WithDelays } from './delayed-events.js';
import type { ActorDirectory, ActorMessage } from './directory.js';
import type { ActorEvent, ActorSnapshot, RestartOn } from './types.js';
import { VirtualActorRef, type VirtualChannel } from './virtual-ref.js';

export type VirtualMessage =
  | { readonly type: 'virtual.send'; readonly ref: VirtualActorRef; readonly event: ActorEvent }
  | {
      readonly type: 'virtual.ask';
      readonly ref: VirtualActorRef;
      readonly event: ActorEvent;
      readonly timeout: number;
      readonly reply: Reply<ActorSnapshot>;
    }
  /** Its activation runs: what waited goes to it. */
  | { readonly type: 'virtual.activated'; readonly id: string; readonly actor: ActorRef }
  /** Its activation was refused (no such actor logic, it threw as it started, shutdown): what waited is answered with `error`. */
  | { readonly type: 'virtual.refused'; readonly id: string; readonly error: Error }
  /** An ask that waited for an activation has waited its whole timeout. */
  | { readonly type: 'virtual.askTimeout'; readonly id: string; readonly ask: number }
  /** Its activation ended by itself (a final state, an error): it takes no more events. */
  | { readonly type: 'virtual.ended'; readonly id: string }
  /** Its idle timer fired: passivated if it has had no event for `actorIdleTimeout` ms. */
  | { readonly type: 'virtual.idle'; readonly id: string }
  /** Its passivation is done: `persisted` restores it (undefined if it ended meanwhile). */
  | { readonly type: 'virtual.passivated'; readonly id: string; readonly persisted: unknown }
  /** A delayed event of a passivated key falls due: it is activated for it. */
  | { readonly type: 'virtual.due'; readonly id: string }
  /** Its snapshot was read back from the store (none: it was never stored): it is spawned from it. */
  | { readonly type: 'virtual.loaded'; readonly id: string; readonly snapshot: unknown };

export interface VirtualParts {
  readonly directory: ActorDirectory;
  readonly timers: TimerQueue;
  /** A message to the supervisor: to this part, or to the directory. */
  readonly send: (message: VirtualMessage | ActorMessage) => void;
  /** Runs an effect once the supervisor's mailbox is empty. */
  readonly defer: (effect: () => void) => void;
  /** Why new work is refused (shutting down, or a fault), if it is. */
  readonly refusal: () => Error | undefined;
  /** Ms without an event before a key is passivated (`Infinity`: never). */
  readonly idleTimeout: number;
  /**
   * With a store: reads a key's stored snapshot back. A passivated key then
   * keeps nothing in memory (a timer, if it has a delayed event pending),
   * and is read back when it is activated again.
   */
  readonly readStored?: ((id: string) => Promise<{ readonly snapshot: unknown } | undefined>) | undefined;
  /** With a store: the actors earlier runs left in it; the virtual ones with delayed events pending are woken when they fall due. */
  readonly stored?:
    ReadonlyArray<{ readonly id: string; readonly logic: string; readonly restart: RestartOn; readonly snapshot: unknown }> | undefined;
}

/** An ask on its way: waiting here for an activation, with its own timer, until it goes to the actor. */
interface Ask {
  readonly number: number;
  readonly reply: Reply<ActorSnapshot>;
  readonly timeout: number;
  /** When it was asked, on the clock: the actor gets what is left of its timeout. */
  readonly since: number;
  readonly timer: unknown;
  readonly type: string;
}

interface Waiting {
  readonly event: ActorEvent;
  readonly ask: Ask | undefined;
}

/**
 * Where a key is in its life here:
 * - `passive`: not on a thread; `persisted` restores it (none for a key
 *   never active in this process: then a store's, or the ref's input);
 *   `last` is its last snapshot; `due` the timer that activates it when the
 *   first of its delayed events falls due;
 * - `loading`: its snapshot is being read back from the store; `waiting`
 *   holds what was sent since, `input` starts it if none is stored;
 * - `activating`: its spawn went out; `waiting` holds what was sent since;
 * - `active`: `actor` is its thread actor, which takes its events;
 *   `lastEvent` is when it was last sent one, `idle` its idle timer;
 * - `passivating`: stopping behind its events; what is sent meanwhile
 *   waits, and activates it again once it has stopped;
 * - `ended`: its actor reached a final state or an error; `last` is its
 *   last snapshot.
 */
type KeyPhase =
  | { readonly name: 'passive'; readonly persisted: unknown; readonly last: ActorSnapshot | undefined; readonly due: unknown }
  | { readonly name: 'loading'; readonly waiting: Queue<Waiting>; readonly input: unknown }
  | { readonly name: 'activating'; readonly waiting: Queue<Waiting> }
  | { readonly name: 'active'; readonly actor: ActorRef; lastEvent: number; idle: unknown }
  | { readonly name: 'passivating'; readonly actor: ActorRef; readonly waiting: Queue<Waiting> }
  | { readonly name: 'ended'; readonly last: ActorSnapshot };

type Passive = Extract<KeyPhase, { name: 'passive' }>;

const NEVER_ACTIVE: Passive = { name: 'passive', persisted: undefined, last: undefined, due: undefined };

interface VirtualKey {
  readonly id: string;
  readonly logic: string;
  /** Whether its activations restart on their logic's errors too: as the ref that first sent it an event said. */
  readonly restart: RestartOn;
  phase: KeyPhase;
  /** While active: relays the actor's snapshots to the key's stream, and notes when it ends. */
  relay: Unsubscribable | undefined;
}

/** What the virtual actors have done so far, and how many keys are in each phase. */
export interface VirtualCounts {
  /** Keys on a thread now (activating, active or passivating). */
  readonly active: number;
  /** Keys passivated: their snapshot kept, no thread actor. */
  readonly passive: number;
  readonly activations: number;
  readonly passivations: number;
  /** Passivated keys activated because a delayed event of theirs fell due. */
  readonly timersFired: number;
}

export class VirtualActors {
  readonly #parts: VirtualParts;
  readonly #keys = new Map<string, VirtualKey>();
  /**
   * Each key's snapshots across activations, made when someone first
   * subscribes to its ref (a listener list, as any subscription adds to,
   * not a key's state).
   */
  readonly #streams = new Map<string, Broadcast<ActorSnapshot>>();
  /** Asks waiting for an activation, by number, so their timers find them. */
  #asks = 0;
  #activations = 0;
  #passivations = 0;
  /** Activations from a snapshot a passivation (or an earlier run) kept: what `passive` is counted down by. */
  #reactivations = 0;
  #timersFired = 0;
  readonly #channel: VirtualChannel;

  constructor(parts: VirtualParts) {
    this.#parts = parts;
    const { send } = parts;
    // Keys an earlier run passivated (or left live) with a delayed event pending: woken when it falls due.
    for (const { id, logic, restart, snapshot } of parts.stored ?? []) {
      const slash = id.indexOf('/');
      if (slash <= 0 || id.slice(0, slash) !== logic || !(snapshot as WithDelays).delayedEvents?.length) continue;
      this.#keys.set(id, {
        id,
        logic,
        restart,
        phase: { name: 'passive', persisted: undefined, last: undefined, due: this.#armDue(id, snapshot) },
        relay: undefined,
      });
    }
    this.#channel = {
      send: (ref, event) => send({ type: 'virtual.send', ref, event }),
      ask: (ref, event, timeout) =>
        new Promise((resolve, reject) => send({ type: 'virtual.ask', ref, event, timeout, reply: { resolve, reject } })),
      snapshot: (id) => this.#snapshot(id),
      changes: (id) => this.#changes(id),
    };
  }

  /** A ref to `logic` under `key`: nothing runs until it is sent an event. */
  ref(logic: string, key: string, input: unknown, restart: RestartOn): VirtualActorRef {
    return new VirtualActorRef(logic, key, input, restart, this.#channel);
  }

  handle(message: VirtualMessage): void {
    switch (message.type) {
      case 'virtual.send':
        return this.#receive(message.ref, { event: message.event, ask: undefined });
      case 'virtual.ask': {
        const { ref, event, timeout, reply } = message;
        const { timers, send } = this.#parts;
        const number = ++this.#asks;
        const timer = timers.setTimeout(() => send({ type: 'virtual.askTimeout', id: ref.id, ask: number }), timeout);
        return this.#receive(ref, { event, ask: { number, reply, timeout, since: timers.now(), timer, type: event.type } });
      }
      case 'virtual.activated':
        return this.#activated(message.id, message.actor);
      case 'virtual.refused':
        return this.#refused(message.id, message.error);
      case 'virtual.askTimeout':
        return this.#askTimedOut(message.id, message.ask);
      case 'virtual.ended':
        return this.#ended(message.id);
      case 'virtual.idle':
        return this.#idle(message.id);
      case 'virtual.passivated':
        return this.#passivated(message.id, message.persisted);
      case 'virtual.due':
        return this.#due(message.id);
      case 'virtual.loaded':
        return this.#loaded(message.id, message.snapshot);
    }
  }

  /**
   * Keys by phase, and what happened to them so far: O(keys kept here), for
   * a scrape, not for every event. `passive` is the passivations not
   * followed by an activation from their snapshot (a key an earlier run
   * passivated counts down only, so it is floored at 0): with a store, a
   * passivated key is not kept here to be counted.
   */
  counts(): VirtualCounts {
    let active = 0;
    for (const { phase } of this.#keys.values()) if (phase.name !== 'passive' && phase.name !== 'ended') active++;
    const passive = Math.max(0, this.#passivations - this.#reactivations);
    return { active, passive, activations: this.#activations, passivations: this.#passivations, timersFired: this.#timersFired };
  }

  #receive(ref: VirtualActorRef, waiting: Waiting): void {
    const refusal = this.#parts.refusal();
    if (refusal) return this.#answer(ref.id, waiting, refusal);
    let key = this.#keys.get(ref.id);
    if (!key) {
      key = { id: ref.id, logic: ref.logic, restart: ref.restart, phase: NEVER_ACTIVE, relay: undefined };
      this.#keys.set(ref.id, key);
    }
    const { phase } = key;
    switch (phase.name) {
      case 'active':
        return this.#deliver(key, waiting);
      case 'loading':
      case 'activating':
      case 'passivating':
        return void phase.waiting.push(waiting);
      case 'ended':
        return this.#answer(key.id, waiting, phase.last);
      case 'passive': {
        const queue = new Queue<Waiting>();
        queue.push(waiting);
        return this.#activate(key, phase, queue, ref.input);
      }
    }
  }

  /**
   * Activates it: from its persisted snapshot when it has one here; with a
   * store, from the one read back from the file; else with `input`.
   */
  #activate(key: VirtualKey, passive: Passive, waiting: Queue<Waiting>, input: unknown): void {
    const { timers, readStored, send } = this.#parts;
    timers.clearTimeout(passive.due);
    if (passive.persisted !== undefined || !readStored) return this.#spawn(key, waiting, input, passive.persisted);
    key.phase = { name: 'loading', waiting, input };
    const { id } = key;
    readStored(id).then(
      (stored) => send({ type: 'virtual.loaded', id, snapshot: stored?.snapshot }),
      (error: unknown) => send({ type: 'virtual.refused', id, error: error as Error }),
    );
  }

  #loaded(id: string, snapshot: unknown): void {
    const key = this.#keys.get(id);
    if (key?.phase.name !== 'loading') return;
    this.#spawn(key, key.phase.waiting, key.phase.input, snapshot);
  }

  #spawn(key: VirtualKey, waiting: Queue<Waiting>, input: unknown, snapshot: unknown): void {
    const { directory, send } = this.#parts;
    if (snapshot !== undefined) this.#reactivations++;
    key.phase = { name: 'activating', waiting };
    const { id, logic } = key;
    const reply: Reply<ActorRef> = {
      resolve: (actor) => send({ type: 'virtual.activated', id, actor }),
      reject: (error) => send({ type: 'virtual.refused', id, error }),
    };
    directory.handle({ type: 'actor.spawn', id, logic, input, snapshot, restart: key.restart, reply });
  }

  /** To the active actor now: an ask with what is left of its timeout. */
  #deliver(key: VirtualKey, { event, ask }: Waiting): void {
    const { directory, timers } = this.#parts;
    if (key.phase.name === 'active') key.phase.lastEvent = timers.now();
    if (!ask) return directory.handle({ type: 'actor.send', id: key.id, event });
    timers.clearTimeout(ask.timer);
    const timeout = Math.max(1, ask.timeout - (timers.now() - ask.since));
    directory.handle({ type: 'actor.ask', id: key.id, event, timeout, reply: ask.reply });
  }

  #activated(id: string, actor: ActorRef): void {
    const key = this.#keys.get(id);
    if (key?.phase.name !== 'activating') return;
    const { waiting } = key.phase;
    this.#activations++;
    const { timers, idleTimeout } = this.#parts;
    key.phase = { name: 'active', actor, lastEvent: timers.now(), idle: this.#armIdle(id, idleTimeout) };
    this.#watch(key);
    for (let next = waiting.shift(); next !== undefined; next = waiting.shift()) this.#deliver(key, next);
  }

  #refused(id: string, error: Error): void {
    const key = this.#keys.get(id);
    if (key?.phase.name !== 'activating' && key?.phase.name !== 'loading') return;
    const { waiting } = key.phase;
    // Not activated: a later event tries again (another module, once the threads are replaced, may have the logic).
    key.phase = NEVER_ACTIVE;
    for (let next = waiting.shift(); next !== undefined; next = waiting.shift()) this.#answer(id, next, error);
  }

  #askTimedOut(id: string, number: number): void {
    const key = this.#keys.get(id);
    const phase = key?.phase;
    if (!key || (phase?.name !== 'loading' && phase?.name !== 'activating' && phase?.name !== 'passivating')) return;
    // Rare (an activation slower than an ask's timeout): the queue is rebuilt without it, in order.
    const kept = new Queue<Waiting>();
    for (let next = phase.waiting.shift(); next !== undefined; next = phase.waiting.shift()) {
      if (next.ask?.number !== number) kept.push(next);
      else {
        const { reply, timeout, type } = next.ask;
        this.#parts.defer(() => reply.reject(new AskTimeoutError(id, timeout, type)));
      }
    }
    for (let next = kept.shift(); next !== undefined; next = kept.shift()) phase.waiting.push(next);
  }

  #ended(id: string): void {
    const key = this.#keys.get(id);
    if (key?.phase.name !== 'active') return;
    this.#parts.timers.clearTimeout(key.phase.idle);
    const last = key.phase.actor.getSnapshot();
    key.phase = { name: 'ended', last };
    key.relay?.unsubscribe();
    key.relay = undefined;
    const stream = this.#streams.get(id);
    if (stream) this.#parts.defer(() => (last.status === 'error' ? stream.error(last.error) : stream.complete()));
  }

  #armIdle(id: string, ms: number): unknown {
    if (ms === Infinity) return undefined;
    const { timers, send } = this.#parts;
    return timers.setTimeout(() => send({ type: 'virtual.idle', id }), ms);
  }

  /** Its idle timer fired: passivated if no event came for the whole timeout, else the timer runs on for the rest. */
  #idle(id: string): void {
    const key = this.#keys.get(id);
    const phase = key?.phase;
    if (!key || phase?.name !== 'active') return;
    const { idleTimeout, timers, directory, send } = this.#parts;
    const quiet = timers.now() - phase.lastEvent;
    if (quiet < idleTimeout) {
      phase.idle = this.#armIdle(id, idleTimeout - quiet);
      return;
    }
    // Its snapshots stop here: the activation's own end (`stopped`) is not the key's.
    key.relay?.unsubscribe();
    key.relay = undefined;
    key.phase = { name: 'passivating', actor: phase.actor, waiting: new Queue() };
    directory.passivate(id, (persisted) => send({ type: 'virtual.passivated', id, persisted }));
  }

  #passivated(id: string, persisted: unknown): void {
    const key = this.#keys.get(id);
    const phase = key?.phase;
    if (!key || phase?.name !== 'passivating') return;
    const last = phase.actor.getSnapshot();
    if (persisted === undefined) {
      // It ended by itself as it stopped: a final state or an error.
      key.phase = { name: 'ended', last };
      for (let next = phase.waiting.shift(); next !== undefined; next = phase.waiting.shift()) this.#answer(id, next, last);
      return;
    }
    this.#passivations++;
    const due = this.#armDue(id, persisted);
    if (this.#parts.readStored) {
      // On disk: nothing stays here but the timer of a delayed event (it is read back when activated).
      const passive: Passive = { name: 'passive', persisted: undefined, last: undefined, due };
      if (phase.waiting.size > 0) return this.#activate(key, passive, phase.waiting, undefined);
      if (due === undefined) this.#keys.delete(id);
      else key.phase = passive;
      return;
    }
    // Passivated, not stopped: to its refs it is as live as before.
    const passive: Passive = { name: 'passive', persisted, last: { ...last, status: 'active' }, due };
    key.phase = passive;
    // Sent while it stopped: activated again for them at once.
    if (phase.waiting.size > 0) this.#activate(key, passive, phase.waiting, undefined);
  }

  /** The timer that activates a passivated key when the first of its delayed events falls due, if it has any. */
  #armDue(id: string, persisted: unknown): unknown {
    const delays = (persisted as WithDelays).delayedEvents;
    if (!delays?.length) return undefined;
    let first = Infinity;
    for (const { dueAt } of delays) first = Math.min(first, dueAt);
    const { timers, send } = this.#parts;
    // Due times are epoch ms (they outlive the process); the timer runs on the clock.
    return timers.setTimeout(() => send({ type: 'virtual.due', id }), Math.max(0, first - Date.now()));
  }

  /** A delayed event of a passivated key fell due: it is activated, and its restore fires the event. */
  #due(id: string): void {
    const key = this.#keys.get(id);
    if (key?.phase.name !== 'passive' || this.#parts.refusal()) return;
    this.#timersFired++;
    this.#activate(key, key.phase, new Queue(), undefined);
  }

  /** An event that cannot reach an actor: its ask is answered with the error, or the ended actor's refusal. */
  #answer(id: string, { ask }: Waiting, reason: Error | ActorSnapshot): void {
    if (!ask) return;
    this.#parts.timers.clearTimeout(ask.timer);
    // Ended: the refusal a thread actor's ref gives once its actor has ended.
    const error = reason instanceof Error ? reason : new ActorStoppedError(id, reason.status);
    this.#parts.defer(() => ask.reply.reject(error));
  }

  /** Relays the active actor's snapshots to the key's stream (if anyone listens), and notes when the actor ends. */
  #watch(key: VirtualKey): void {
    if (key.relay || key.phase.name !== 'active') return;
    const source = this.#parts.directory.changesOf(key.id);
    if (!source) return;
    const { id } = key;
    key.relay = source.subscribe({
      next: (snapshot) => this.#streams.get(id)?.next(snapshot),
      error: () => this.#parts.send({ type: 'virtual.ended', id }),
      complete: () => this.#parts.send({ type: 'virtual.ended', id }),
    });
  }

  #snapshot(id: string): ActorSnapshot | undefined {
    const phase = this.#keys.get(id)?.phase;
    switch (phase?.name) {
      case 'active':
      case 'passivating':
        return phase.actor.getSnapshot();
      case 'ended':
      case 'passive':
        return phase.last;
      default:
        return undefined;
    }
  }

  #changes(id: string): Broadcast<ActorSnapshot> {
    let stream = this.#streams.get(id);
    if (!stream) this.#streams.set(id, (stream = new Broadcast()));
    return stream;
  }
}

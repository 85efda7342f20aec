/**
 * Virtual actors in one process: addressed by logic and key, always
 * addressable, activated on their first event. An activation is a thread
 * actor of the directory, under the id `<logic>/<key>`, restored from the
 * key's persisted snapshot or started with the input of the ref that sent
 * the event that activated it. Events that arrive while it activates wait
 * here, in order, and go to it once it runs. Owned by the supervisor and
 * called inside its messages; what it learns later (an activation that
 * runs, or was refused) comes back as a message.
 */
import { ActorStoppedError, AskTimeoutError } from '../errors/errors.js';
import { Broadcast, type Unsubscribable } from '../util/broadcast.js';
import { Queue } from '../util/queue.js';
import type { TimerQueue } from '../util/timer-queue.js';
import type { Reply } from './actor-entry.js';
import type { ActorRef } from './actor-ref.js';
import type { ActorDirectory, ActorMessage } from './directory.js';
import type { ActorEvent, ActorSnapshot } from './types.js';
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
  | { readonly type: 'virtual.ended'; readonly id: string };

export interface VirtualParts {
  readonly directory: ActorDirectory;
  readonly timers: TimerQueue;
  /** A message to the supervisor: to this part, or to the directory. */
  readonly send: (message: VirtualMessage | ActorMessage) => void;
  /** Runs an effect once the supervisor's mailbox is empty. */
  readonly defer: (effect: () => void) => void;
  /** Why new work is refused (shutting down, or a fault), if it is. */
  readonly refusal: () => Error | undefined;
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
 * - `passive`: not on a thread; `persisted` is what restores it (none for a
 *   key never active in this process: then a store's, or the ref's input);
 * - `activating`: its spawn went out; `waiting` holds what was sent since;
 * - `active`: `actor` is its thread actor, which takes its events;
 * - `ended`: its actor reached a final state or an error; `last` is its
 *   last snapshot.
 */
type KeyPhase =
  | { readonly name: 'passive'; readonly persisted: unknown; readonly last: ActorSnapshot | undefined }
  | { readonly name: 'activating'; readonly waiting: Queue<Waiting> }
  | { readonly name: 'active'; readonly actor: ActorRef }
  | { readonly name: 'ended'; readonly last: ActorSnapshot };

interface VirtualKey {
  readonly id: string;
  readonly logic: string;
  phase: KeyPhase;
  /** While active: relays the actor's snapshots to the key's stream, and notes when it ends. */
  relay: Unsubscribable | undefined;
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
  readonly channel: VirtualChannel;

  constructor(parts: VirtualParts) {
    this.#parts = parts;
    const { send } = parts;
    this.channel = {
      send: (ref, event) => send({ type: 'virtual.send', ref, event }),
      ask: (ref, event, timeout) =>
        new Promise((resolve, reject) => send({ type: 'virtual.ask', ref, event, timeout, reply: { resolve, reject } })),
      snapshot: (id) => this.#snapshot(id),
      changes: (id) => this.#changes(id),
    };
  }

  /** A ref to `logic` under `key`: nothing runs until it is sent an event. */
  ref(logic: string, key: string, input: unknown): VirtualActorRef {
    return new VirtualActorRef(logic, key, input, this.channel);
  }

  handle(message: VirtualMessage): void {
    switch (message.type) {
      case 'virtual.send':
        return this.#receive(message.ref, { event: message.event, ask: undefined });
      case 'virtual.ask': {
        const { ref, event, timeout, reply } = message;
        const number = ++this.#asks;
        const timer = this.#parts.timers.setTimeout(
          () => this.#parts.send({ type: 'virtual.askTimeout', id: ref.id, ask: number }),
          timeout,
        );
        const ask = { number, reply, timeout, since: this.#parts.timers.now(), timer, type: event.type };
        return this.#receive(ref, { event, ask });
      }
      case 'virtual.activated':
        return this.#activated(message.id, message.actor);
      case 'virtual.refused':
        return this.#refused(message.id, message.error);
      case 'virtual.askTimeout':
        return this.#askTimedOut(message.id, message.ask);
      case 'virtual.ended':
        return this.#ended(message.id);
    }
  }

  /** Keys active now. */
  get active(): number {
    let count = 0;
    for (const key of this.#keys.values()) if (key.phase.name === 'active') count++;
    return count;
  }

  #receive(ref: VirtualActorRef, waiting: Waiting): void {
    const refusal = this.#parts.refusal();
    if (refusal) return this.#answer(ref.id, waiting, refusal);
    let key = this.#keys.get(ref.id);
    if (!key) {
      key = { id: ref.id, logic: ref.logic, phase: { name: 'passive', persisted: undefined, last: undefined }, relay: undefined };
      this.#keys.set(ref.id, key);
    }
    const { phase } = key;
    switch (phase.name) {
      case 'active':
        return this.#deliver(key, waiting);
      case 'activating':
        return void phase.waiting.push(waiting);
      case 'ended':
        return this.#answer(key.id, waiting, phase.last);
      case 'passive': {
        const queue = new Queue<Waiting>();
        queue.push(waiting);
        key.phase = { name: 'activating', waiting: queue };
        const reply: Reply<ActorRef> = {
          resolve: (actor) => this.#parts.send({ type: 'virtual.activated', id: key.id, actor }),
          reject: (error) => this.#parts.send({ type: 'virtual.refused', id: key.id, error }),
        };
        const { id, logic } = key;
        // No persisted snapshot here: the directory resumes one a store holds, else it starts with the ref's input.
        return this.#parts.directory.handle({
          type: 'actor.spawn',
          id,
          logic,
          input: ref.input,
          snapshot: phase.persisted,
          restart: 'on-crash',
          reply,
        });
      }
    }
  }

  /** To the active actor now: an ask with what is left of its timeout. */
  #deliver(key: VirtualKey, { event, ask }: Waiting): void {
    const { directory, timers } = this.#parts;
    if (!ask) return directory.handle({ type: 'actor.send', id: key.id, event });
    timers.clearTimeout(ask.timer);
    const timeout = Math.max(1, ask.timeout - (timers.now() - ask.since));
    directory.handle({ type: 'actor.ask', id: key.id, event, timeout, reply: ask.reply });
  }

  #activated(id: string, actor: ActorRef): void {
    const key = this.#keys.get(id);
    if (key?.phase.name !== 'activating') return;
    const { waiting } = key.phase;
    key.phase = { name: 'active', actor };
    this.#watch(key);
    for (let next = waiting.shift(); next !== undefined; next = waiting.shift()) this.#deliver(key, next);
  }

  #refused(id: string, error: Error): void {
    const key = this.#keys.get(id);
    if (key?.phase.name !== 'activating') return;
    const { waiting } = key.phase;
    // Not activated: a later event tries again (another module, once the threads are replaced, may have the logic).
    key.phase = { name: 'passive', persisted: undefined, last: undefined };
    for (let next = waiting.shift(); next !== undefined; next = waiting.shift()) this.#answer(id, next, error);
  }

  #askTimedOut(id: string, number: number): void {
    const key = this.#keys.get(id);
    if (key?.phase.name !== 'activating') return;
    const { waiting } = key.phase;
    // Rare (an activation slower than an ask's timeout): the queue is rebuilt without it, in order.
    const kept = new Queue<Waiting>();
    for (let next = waiting.shift(); next !== undefined; next = waiting.shift()) {
      if (next.ask?.number !== number) kept.push(next);
      else {
        const { reply, timeout, type } = next.ask;
        this.#parts.defer(() => reply.reject(new AskTimeoutError(id, timeout, type)));
      }
    }
    key.phase = { name: 'activating', waiting: kept };
  }

  #ended(id: string): void {
    const key = this.#keys.get(id);
    if (key?.phase.name !== 'active') return;
    const last = key.phase.actor.getSnapshot();
    key.phase = { name: 'ended', last };
    key.relay?.unsubscribe();
    key.relay = undefined;
    const stream = this.#streams.get(id);
    if (stream) this.#parts.defer(() => (last.status === 'error' ? stream.error(last.error) : stream.complete()));
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
    const key = this.#keys.get(id);
    if (!key) return undefined;
    const { phase } = key;
    switch (phase.name) {
      case 'active':
        return phase.actor.getSnapshot();
      case 'ended':
      case 'passive':
        return phase.last;
      case 'activating':
        return undefined;
    }
  }

  #changes(id: string): Broadcast<ActorSnapshot> {
    let stream = this.#streams.get(id);
    if (!stream) this.#streams.set(id, (stream = new Broadcast()));
    return stream;
  }
}

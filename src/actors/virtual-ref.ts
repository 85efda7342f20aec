import type { Observable, Observer, Subscribable, Subscription } from 'rxjs';

import { OBSERVABLE, observableOf } from '../observe/rx.js';
import type { Broadcast } from '../util/broadcast.js';
import { checkAsk, checkEvent } from './actor-ref.js';
import type { ActorEvent, ActorSnapshot, AskOptions, RestartOn } from './types.js';

/** What a virtual actor's ref reads and sends through: its part of the supervisor (see `virtual.ts`). */
export interface VirtualChannel {
  send(ref: VirtualActorRef, event: ActorEvent): void;
  ask(ref: VirtualActorRef, event: ActorEvent, timeout: number): Promise<ActorSnapshot>;
  /** Its latest snapshot known here; undefined while it has never been active. */
  snapshot(id: string): ActorSnapshot | undefined;
  /** Its snapshots from now on, across activations. */
  changes(id: string): Broadcast<ActorSnapshot>;
}

/**
 * The address of a virtual actor: `logic` (an actor-logic export of the
 * handler module) under `key`. It is always addressable, whether the actor
 * is active or not: the first event activates it, restored from its
 * persisted snapshot, or started with this ref's `input` if it has none.
 * Make one with `processor.actorOf(logic, key, { input })`; nothing runs
 * until it is sent an event.
 *
 * @example
 * ```ts
 * const ada = processor.actorOf('account', 'ada', { input: { owner: 'Ada' } });
 * ada.send({ type: 'deposit', amount: 10 });
 * const { context } = await ada.ask({ type: 'withdraw', amount: 5 });
 * ```
 */
export class VirtualActorRef {
  /** The export of the handler module it runs. */
  readonly logic: string;
  /** Its key among the actors of its logic. */
  readonly key: string;
  /** `<logic>/<key>`: its id as a thread actor while active, and its name to an inspector (`troupe.actor.<logic>/<key>`). */
  readonly id: string;
  /** What starts it when it has no persisted snapshot. */
  readonly input: unknown;
  /** Whether an activation this ref starts restarts on its logic's errors too (`'on-error'`) or on crashes only. */
  readonly restart: RestartOn;
  readonly #channel: VirtualChannel;
  #snapshots: Observable<ActorSnapshot> | undefined;

  /** @internal Made by `processor.actorOf`. */
  constructor(logic: string, key: string, input: unknown, restart: RestartOn, channel: VirtualChannel) {
    this.logic = logic;
    this.key = key;
    this.id = `${logic}/${key}`;
    this.input = input;
    this.restart = restart;
    this.#channel = channel;
  }

  /**
   * Sends an event, fire and forget: it activates the actor if it is not
   * active. Events from one sender are processed in the order sent. Throws
   * `InvalidEventError`, changing nothing, for an event that is not a plain
   * `{ type: string }` object or cannot be structured-cloned.
   *
   * @example
   * ```ts
   * ada.send({ type: 'deposit', amount: 10 });
   * ```
   */
  send(event: ActorEvent): void {
    this.#channel.send(this, checkEvent(event));
  }

  /**
   * Sends an event and resolves with the snapshot right after it, once that
   * snapshot is kept (on disk with a store; in memory without). Rejects with
   * `AskTimeoutError` after `timeout` ms (activation included),
   * `InvalidActorError` when the module has no actor logic `logic`,
   * `ActorStartError` when it throws as it starts, `ActorStoppedError` once
   * it has ended (a final state, an error), `ProcessorShutdownError` after
   * shutdown.
   *
   * @example
   * ```ts
   * const { context } = await ada.ask({ type: 'withdraw', amount: 5 }, { timeout: 5_000 });
   * ```
   */
  async ask(event: ActorEvent, options: AskOptions = {}): Promise<ActorSnapshot> {
    const { event: checked, timeout } = checkAsk(event, options);
    return this.#channel.ask(this, checked, timeout);
  }

  /** Its latest snapshot, as plain data, wherever it is (active, or passivated); undefined while it has never run. */
  getSnapshot(): ActorSnapshot | undefined {
    return this.#channel.snapshot(this.id);
  }

  /**
   * Its snapshots from now on, across activations, as an Observable's
   * subscription (rxjs is loaded on first use).
   *
   * @example
   * ```ts
   * ada.subscribe((snapshot) => console.log(snapshot.context));
   * ```
   */
  subscribe(observer: Partial<Observer<ActorSnapshot>> | ((snapshot: ActorSnapshot) => void)): Subscription {
    return this.#observable().subscribe(observer);
  }

  declare readonly [Symbol.observable]: () => Subscribable<ActorSnapshot>;

  /** The interop Observable of its snapshots (`from(ref)` in rxjs). */
  [OBSERVABLE](): Observable<ActorSnapshot> {
    return this.#observable();
  }

  #observable(): Observable<ActorSnapshot> {
    return (this.#snapshots ??= observableOf(this.#channel.changes(this.id)));
  }
}

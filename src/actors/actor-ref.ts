import type { Observable, Observer, Subscribable, Subscription } from 'rxjs';

import { ActorStoppedError, InvalidEventError } from '../errors/errors.js';
import { OBSERVABLE, observableOf } from '../observe/rx.js';
import type { Broadcast } from '../util/broadcast.js';
import { describe } from '../util/validate.js';
import type { ActorEvent, ActorSnapshot, AskOptions } from './types.js';

const DEFAULT_ASK_TIMEOUT = 5_000;

/** An ask's event and timeout once checked (thread and virtual actors' refs alike); throws `InvalidEventError` first. */
export function checkAsk(
  event: unknown,
  { timeout = DEFAULT_ASK_TIMEOUT }: AskOptions,
): { readonly event: ActorEvent; readonly timeout: number } {
  const checked = checkEvent(event);
  if (!(timeout > 0)) throw new InvalidEventError(`Expected \`timeout\` to be a positive number of ms, got ${describe(timeout)}`);
  return { event: checked, timeout };
}

/**
 * What a ref reads of its actor: the directory's entry, which the
 * supervisor writes inside its messages.
 */
export interface ActorState {
  readonly id: string;
  readonly logic: string;
  /** The latest snapshot the main thread has (after the last report from its thread). */
  readonly snapshot: ActorSnapshot;
  /** Events the actor has processed, as last reported. */
  readonly processed: number;
  /** The worker thread it runs on (its worker id), while it runs. */
  readonly workerId: number | undefined;
  /** `stop()` was called: it takes no more events, and ends once its thread reports it stopped. */
  readonly stopping: boolean;
  /** Snapshots as they arrive; completes when the actor ends or stops, errors when its logic throws. */
  readonly changes: Broadcast<ActorSnapshot>;
}

/** How a ref reaches the supervisor that owns its actor. */
export interface ActorChannel {
  send(id: string, event: ActorEvent): void;
  ask(id: string, event: ActorEvent, timeout: number): Promise<ActorSnapshot>;
  stop(id: string): Promise<void>;
}

/** Refuses, at the call, an event that is not a plain `{ type: string }` object or cannot be cloned to a thread. */
export function checkEvent(event: unknown): ActorEvent {
  if (typeof event !== 'object' || event === null || Array.isArray(event) || Object.getPrototypeOf(event) !== Object.prototype) {
    throw new InvalidEventError(`Expected an event to be a plain object with a string \`type\`, got ${describe(event)}`);
  }
  if (typeof (event as { type?: unknown }).type !== 'string') {
    throw new InvalidEventError(`Expected the event's \`type\` to be a string, got ${describe((event as { type?: unknown }).type)}`);
  }
  // Fields that are all primitives clone as they are: only nested values need the (costly) trial clone.
  if (flat(event as Record<string, unknown>)) return event as ActorEvent;
  try {
    structuredClone(event);
  } catch (cause) {
    const type = (event as ActorEvent).type;
    throw new InvalidEventError(`The event \`${type}\` cannot be structured-cloned to the actor's thread: ${(cause as Error).message}`, {
      cause,
    });
  }
  return event as ActorEvent;
}

/** Whether every field is a primitive that structured clone takes (a symbol is not one). */
function flat(event: Record<string, unknown>): boolean {
  for (const key in event) {
    const value = event[key];
    const type = typeof value;
    if (value !== null && type !== 'string' && type !== 'number' && type !== 'boolean' && type !== 'undefined' && type !== 'bigint') {
      return false;
    }
  }
  return true;
}

/**
 * The address of an actor spawned with `processor.spawn`: send it events,
 * ask it for its snapshot after one, watch its snapshots, stop it. The
 * actor itself runs on a worker thread; the ref stays valid after it ends
 * (its last snapshot says how).
 *
 * @example
 * ```ts
 * const counter = await processor.spawn('counter', { id: 'counter-1', input: { start: 0 } });
 * counter.send({ type: 'inc' });
 * const { context } = await counter.ask({ type: 'inc' }); // { count: 2 }
 * counter.subscribe((snapshot) => console.log(snapshot.context));
 * await counter.stop();
 * ```
 */
export class ActorRef {
  readonly #state: ActorState;
  readonly #channel: ActorChannel;
  /** Made on first use: rxjs is loaded then (see `observe/rx.ts`). */
  #snapshots: Observable<ActorSnapshot> | undefined;

  /** @internal Made by `processor.spawn`. */
  constructor(state: ActorState, channel: ActorChannel) {
    this.#state = state;
    this.#channel = channel;
  }

  /** Its address: unique among live actors, free again once it has ended or stopped. */
  get id(): string {
    return this.#state.id;
  }

  /** The name of the handler module's export it runs. */
  get logic(): string {
    return this.#state.logic;
  }

  /** The id of the worker thread it runs on (as in `metrics().workers`); undefined once it has ended. */
  get workerId(): number | undefined {
    return this.#state.workerId;
  }

  /**
   * Sends an event, fire and forget: the actor processes its events one at
   * a time, in the order sent. Throws `InvalidEventError` for an event that
   * is not a plain, cloneable `{ type }` object, and `ActorStoppedError`
   * once the actor has ended or been stopped.
   */
  send(event: ActorEvent): void {
    const checked = checkEvent(event);
    this.#checkLive();
    this.#channel.send(this.#state.id, checked);
  }

  /**
   * Sends an event and resolves with the actor's snapshot right after it
   * processed it. Rejects with `AskTimeoutError` after `timeout` ms (the
   * event stays sent), with the logic's own error if processing it ended
   * the actor in `error`, and with `ActorStoppedError` if the actor ended or
   * was stopped first.
   */
  async ask(event: ActorEvent, options: AskOptions = {}): Promise<ActorSnapshot> {
    const { event: checked, timeout } = checkAsk(event, options);
    this.#checkLive();
    return this.#channel.ask(this.#state.id, checked, timeout);
  }

  /** Events it has processed since it was spawned, across restarts, as last reported by its thread. */
  get processed(): number {
    return this.#state.processed;
  }

  /** The latest snapshot the main thread has: `{ status, value, context, output?, error? }` as plain data. */
  getSnapshot(): ActorSnapshot {
    return this.#state.snapshot;
  }

  /**
   * Its snapshots from now on, as they reach the main thread: one per report
   * from its thread (the latest, when the actor processed several
   * events in one batch; `ask` gives the one right after an event).
   * Completes when the actor reaches a final state or is stopped, and errors
   * with the logic's error when it ends in `error`.
   */
  subscribe(observer: Partial<Observer<ActorSnapshot>> | ((snapshot: ActorSnapshot) => void)): Subscription {
    return this.#observable().subscribe(observer);
  }

  /**
   * Interop: the ref is an Observable of its snapshots to anything that
   * takes one by `Symbol.observable` (rxjs's `from(ref)`, XState, …), the
   * same snapshots as `subscribe`. The key is rxjs's `observable` (computed
   * as rxjs computes it: see `observe/rx.ts`), which is `Symbol.observable`
   * where that exists and `'@@observable'` where it does not (Node has none
   * of its own); the declaration gives it its type.
   *
   * @example
   * ```ts
   * const stopped = await lastValueFrom(from(ref).pipe(map((snapshot) => snapshot.status)));
   * ```
   */
  declare readonly [Symbol.observable]: () => Subscribable<ActorSnapshot>;

  [OBSERVABLE](): Observable<ActorSnapshot> {
    return this.#observable();
  }

  #observable(): Observable<ActorSnapshot> {
    return (this.#snapshots ??= observableOf(this.#state.changes));
  }

  /**
   * Stops the actor after the events already sent: resolves once its thread
   * has processed them and stopped it (its snapshot is then `stopped`, with
   * its last value and context). Its id is free again. Events held while it
   * was restarting are dropped. Stopping an ended actor does nothing.
   */
  stop(): Promise<void> {
    return this.#channel.stop(this.#state.id);
  }

  #checkLive(): void {
    const { status } = this.#state.snapshot;
    if (status !== 'active') throw new ActorStoppedError(this.#state.id, status);
    if (this.#state.stopping) throw new ActorStoppedError(this.#state.id, 'stopping');
  }
}

import { ActorFailedError, type WorkerCrashedError } from '../errors/errors.js';
import type { TimerQueue } from '../util/timer-queue.js';
import { type ActorEntry, type ActorPhase, type Delivery, drain, type RestartIntensity } from './actor-entry.js';
import type { ActorInProgress } from './protocol.js';
import type { ActorSnapshot } from './types.js';

/** The phase an actor restarts from: on its thread, running. */
type Running = Extract<ActorPhase, { readonly name: 'running' }>;

/** What the restarts need from the actor directory that owns them. */
export interface RestartParts {
  readonly timers: TimerQueue;
  readonly restart: RestartIntensity;
  /** Runs `effect` once the message being processed is done. */
  readonly defer: (effect: () => void) => void;
  /** Its backoff is over: an `actor.restart` message for it. */
  readonly due: (id: string) => void;
  /** The actor is over, with this snapshot; what waits on it gets `error`. */
  readonly end: (entry: ActorEntry, snapshot: ActorSnapshot, error: Error) => void;
  /** It enters `phase` (the count of actors per thread follows). */
  readonly enter: (entry: ActorEntry, phase: ActorPhase) => void;
}

/**
 * How an actor comes back when its thread dies, or (with `restart:
 * 'on-error'`) when its logic throws: what goes again and in which order,
 * which asks reject, and when, after the restart policy's backoff, it is
 * due on a live thread, or past the intensity, that it ends with
 * `ActorFailedError`. Owned by the actor directory and called inside the
 * supervisor's messages; the restart itself is the directory's.
 */
export class ActorRestarts {
  readonly #parts: RestartParts;

  constructor(parts: RestartParts) {
    this.#parts = parts;
  }

  /**
   * Its thread died under it: the asks in flight reject with `crash`, and
   * the events sent since its last reported snapshot go again, save the one
   * that killed the thread (see {@link culprit}). `dying`: what the thread
   * said as it exited, if anything.
   */
  threadLost(entry: ActorEntry, running: Running, crash: WorkerCrashedError, dying: ActorInProgress | undefined): void {
    const inFlight = drain(entry.inFlight);
    const { known, killer } = culprit(entry, running, inFlight, dying);
    const again = inFlight.filter((delivery) => delivery !== killer && delivery.ask === undefined);
    for (const delivery of inFlight) {
      const ask = delivery.ask === undefined ? undefined : entry.asks.get(delivery.ask);
      if (!ask || delivery.ask === undefined) continue;
      entry.asks.delete(delivery.ask);
      this.#parts.timers.clearTimeout(ask.timer);
      this.#parts.defer(() => ask.reject(crash));
    }
    holdFirst(entry, again);
    entry.earlier += entry.reported;
    entry.reported = 0;
    // The killer is not known: one of those that go again may be it.
    this.#later(entry, crash, running.oneAtATime || (again.length > 0 && !known));
  }

  /**
   * Its logic threw, and it restarts on errors: it comes back from its last
   * snapshot before the failure, and what it processed since (`again`, save
   * the event that threw) goes again, ahead of what was sent after and what
   * was held.
   */
  afterError(entry: ActorEntry, running: Running, again: Delivery[], error: Error): void {
    // Their asks were answered already: the events go again, unasked.
    const replayed = again.map(({ event }) => ({ event, ask: undefined }));
    const unprocessed = drain(entry.inFlight);
    holdFirst(entry, [...replayed, ...unprocessed]);
    entry.earlier += entry.reported - replayed.length;
    entry.reported = 0;
    this.#later(entry, error, running.oneAtATime);
  }

  /**
   * Off its thread, it restarts after its backoff (an `actor.restart`
   * message), or past the intensity, ends with `ActorFailedError`.
   */
  #later(entry: ActorEntry, cause: Error, oneAtATime: boolean): void {
    const delay = entry.restarts.next(this.#parts.timers.now());
    if (delay === undefined) {
      const { maxRestarts, window } = this.#parts.restart;
      const error = new ActorFailedError(entry.id, maxRestarts, window, { cause });
      this.#parts.end(entry, { ...entry.snapshot, status: 'error', error }, error);
      return;
    }
    this.#parts.enter(entry, { name: 'restarting', oneAtATime });
    const { id } = entry;
    this.#parts.timers.setTimeout(() => this.#parts.due(id), delay);
  }
}

/**
 * Which of an actor's events in flight killed its thread. A thread that
 * calls `process.exit` in an action names the actor and the event as it
 * exits (`ActorInProgress`): the event is known at the first crash, and the
 * other events in flight, this actor's and its neighbours', are innocent.
 * A thread that says nothing (terminated, out of memory, a native crash, or
 * no actor event in progress) leaves it unknown: the events go again one at
 * a time (`oneAtATime` in its phase), and one alone in flight when its
 * thread dies again is the killer.
 */
function culprit(
  entry: ActorEntry,
  running: Running,
  inFlight: readonly Delivery[],
  dying: ActorInProgress | undefined,
): { readonly known: boolean; readonly killer: Delivery | undefined } {
  if (dying && dying.actor !== entry.id) return { known: true, killer: undefined };
  // Numbered as the thread counts them: the first in flight is the one after the last reported.
  const named = dying ? inFlight[dying.delivery - entry.reported - 1] : undefined;
  if (named) return { known: true, killer: named };
  return { known: false, killer: running.oneAtATime && inFlight.length === 1 ? inFlight[0] : undefined };
}

/** `deliveries` go before whatever was held already. */
function holdFirst(entry: ActorEntry, deliveries: Delivery[]): void {
  if (deliveries.length === 0) return;
  const held = drain(entry.held);
  for (const delivery of deliveries) entry.held.push(delivery);
  for (const delivery of held) entry.held.push(delivery);
}

import { ActorFailedError, type WorkerCrashedError } from '../errors/errors.js';
import type { TimerQueue } from '../util/timer-queue.js';
import { type ActorEntry, type Delivery, drain, type RestartIntensity } from './actor-entry.js';
import type { ActorInProgress } from './protocol.js';
import type { ActorSnapshot } from './types.js';

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
  /** It left its thread (the count of actors per thread follows). */
  readonly unplace: (entry: ActorEntry) => void;
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
  threadLost(entry: ActorEntry, crash: WorkerCrashedError, dying: ActorInProgress | undefined): void {
    const inFlight = drain(entry.inFlight);
    const { known, killer } = culprit(entry, inFlight, dying);
    const again = inFlight.filter((delivery) => delivery !== killer && delivery.ask === undefined);
    for (const delivery of inFlight) {
      const ask = delivery.ask === undefined ? undefined : entry.asks.get(delivery.ask);
      if (!ask || delivery.ask === undefined) continue;
      entry.asks.delete(delivery.ask);
      this.#parts.timers.clearTimeout(ask.timer);
      this.#parts.defer(() => ask.reject(crash));
    }
    if (again.length > 0) {
      holdFirst(entry, again);
      // The killer is not known: one of these may be it.
      if (!known) entry.careful = true;
    }
    this.#parts.unplace(entry);
    entry.earlier += entry.reported;
    entry.reported = 0;
    this.#later(entry, crash);
  }

  /**
   * Its logic threw, and it restarts on errors: it comes back from its last
   * snapshot before the failure, and what it processed since (`again`, save
   * the event that threw) goes again, ahead of what was sent after and what
   * was held.
   */
  afterError(entry: ActorEntry, again: Delivery[], error: Error): void {
    // Their asks were answered already: the events go again, unasked.
    const replayed = again.map(({ event }) => ({ event, ask: undefined }));
    const unprocessed = drain(entry.inFlight);
    for (const { ask } of unprocessed) {
      const waiting = ask === undefined ? undefined : entry.asks.get(ask);
      if (!waiting?.worker) continue;
      // Its event goes again, to the restarted actor: the old thread owes it no answer.
      waiting.worker.awaitAnswers(-1);
      waiting.worker = undefined;
    }
    holdFirst(entry, [...replayed, ...unprocessed]);
    this.#parts.unplace(entry);
    entry.earlier += entry.reported - replayed.length;
    entry.reported = 0;
    this.#later(entry, error);
  }

  /** After its restart backoff (an `actor.restart` message), or past the intensity, it ends with `ActorFailedError`. */
  #later(entry: ActorEntry, cause: Error): void {
    const delay = entry.restarts.next(this.#parts.timers.now());
    if (delay === undefined) {
      const { maxRestarts, window } = this.#parts.restart;
      const error = new ActorFailedError(entry.state.id, maxRestarts, window, { cause });
      this.#parts.end(entry, { ...entry.state.snapshot, status: 'error', error }, error);
      return;
    }
    entry.restarting = true;
    const { id } = entry.state;
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
 * a time (`ActorEntry.careful`), and one alone in flight when its thread
 * dies again is the killer.
 */
function culprit(
  entry: ActorEntry,
  inFlight: readonly Delivery[],
  dying: ActorInProgress | undefined,
): { readonly known: boolean; readonly killer: Delivery | undefined } {
  if (dying && dying.actor !== entry.state.id) return { known: true, killer: undefined };
  // Numbered as the thread counts them: the first in flight is the one after the last reported.
  const named = dying ? inFlight[dying.delivery - entry.reported - 1] : undefined;
  if (named) return { known: true, killer: named };
  return { known: false, killer: entry.careful && inFlight.length === 1 ? inFlight[0] : undefined };
}

/** `deliveries` go before whatever was held already. */
function holdFirst(entry: ActorEntry, deliveries: Delivery[]): void {
  if (deliveries.length === 0) return;
  const held = drain(entry.held);
  for (const delivery of deliveries) entry.held.push(delivery);
  for (const delivery of held) entry.held.push(delivery);
}

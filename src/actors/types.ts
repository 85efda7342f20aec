/**
 * actors/: actors of your own on the worker threads (`processor.spawn`):
 * what they look like to you (this file), the ref you hold (actor-ref.ts),
 * the checks `spawn` makes at the call (spawn-options.ts), the directory of
 * live actors the supervisor keeps (directory.ts, with each actor's entry
 * and its phase in actor-entry.ts, its restarts in actor-restarts.ts, and
 * the actors per thread in placement.ts), the thread an actor runs on as
 * the directory sees one (host.ts), the orders and reports that cross to
 * that thread (protocol.ts), and what runs them inside it
 * (thread-runner.ts, with the work an actor has pending between events in
 * pending-work.ts). workers/ only hosts them: it carries the orders and
 * reports, and starts the runner in each thread.
 */

/** An actor's snapshot as plain data: what crosses threads and what `ActorRef.getSnapshot()` returns. */
export interface ActorSnapshot {
  readonly status: 'active' | 'done' | 'error' | 'stopped';
  /** A machine's state value. */
  readonly value?: unknown;
  readonly context?: unknown;
  /** Set once the actor is `done`. */
  readonly output?: unknown;
  /** Set once the actor is `error`: what its logic threw. */
  readonly error?: unknown;
}

/**
 * What restarts an actor. Its thread dying always does (from its last
 * snapshot). `'on-error'`: so does an error thrown by its logic, from the
 * snapshot before the event that threw; that event is not delivered again.
 */
export type RestartOn = 'on-crash' | 'on-error';

/** Options of `processor.spawn`. */
export interface SpawnOptions {
  /** The actor's address, unique among live actors; generated when omitted. */
  id?: string;
  /** The logic's input (a machine's `context: ({ input }) => …`); structured-cloned to the thread. */
  input?: unknown;
  /**
   * A persisted snapshot to resume from instead of starting afresh: one that
   * `shutdown()` returned in `actors`. With a store, an actor stopped by
   * shutdown resumes from its stored snapshot when spawned again under its id.
   * The delayed events it had pending (`delayedEvents`) fire at their due
   * time, or at once if it has passed.
   */
  snapshot?: unknown;
  /**
   * `'on-error'` also restarts it when its logic throws, under the
   * processor's `restart` policy, as a thread crash does.
   * @defaultValue 'on-crash'
   */
  restart?: RestartOn;
}

/** Options of `processor.actorOf`. */
export interface ActorOfOptions {
  /**
   * What starts the actor (a machine's `context: ({ input }) => …`) when its
   * key has no persisted snapshot: the input of the ref whose event
   * activates it. Structured-cloned to its thread.
   */
  input?: unknown;
  /**
   * `'on-error'` also restarts it when its logic throws, under the
   * processor's `restart` policy, as a thread crash does: as for `spawn`.
   * The ref whose event activates the key decides, for that activation.
   * @defaultValue 'on-crash'
   */
  restart?: RestartOn;
}

/** An actor that `shutdown()` stopped: spawn `logic` with `{ id, snapshot }` to resume it. */
export interface StoppedActor {
  readonly id: string;
  readonly logic: string;
  /**
   * XState's persisted snapshot, taken after the last event it was sent,
   * with `delayedEvents`: the delayed events it had pending, each with its
   * due time, armed again when it is resumed (see docs/actors.md).
   */
  readonly snapshot: unknown;
}

/** Options of `ActorRef.ask`. */
export interface AskOptions {
  /**
   * Ms to wait for the answer before rejecting with `AskTimeoutError` (the event stays sent).
   * @defaultValue 5_000
   */
  timeout?: number;
}

/** An event for an actor: a plain object with a string `type`, structured-cloneable. */
export interface ActorEvent {
  readonly type: string;
  readonly [key: string]: unknown;
}

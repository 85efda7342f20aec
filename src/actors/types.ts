/**
 * actors/: actors of your own on the worker threads (`processor.spawn`):
 * what they look like to you (this file), and the ref you hold
 * (actor-ref.ts). The supervisor keeps the directory of live actors
 * (supervisor/actors.ts); inside a thread they run in workers/actor-host.ts.
 */
import type { ActorSnapshot } from '../workers/protocol.js';

export type { ActorSnapshot };

/** Options of `processor.spawn`. */
export interface SpawnOptions {
  /** The actor's address, unique among live actors; generated when omitted. */
  id?: string;
  /** The logic's input (a machine's `context: ({ input }) => …`); structured-cloned to the thread. */
  input?: unknown;
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

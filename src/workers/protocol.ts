import type { MessagePort, TransferListItem } from 'node:worker_threads';

import type { ActorInProgress, ActorOrder, ActorReport } from '../actors/protocol.js';
import type { SerializedError } from '../errors/serialize.js';
import type { TraceContext } from '../task/types.js';

/**
 * What crosses between a worker actor and its thread. The control call
 * (load) goes over comlink. The hot path does not: tasks travel in batches over
 * a dedicated `MessagePort`, handed to the thread at `load`, as one-way
 * messages both ways. Every attempt dispatched to a thread in one tick goes as
 * one `WireAttempt[]` message; everything the thread has to report in one
 * turn of its event loop (attempts it started, attempts that settled, what
 * its actors did) comes back as one `ThreadReport` message. A comlink call per batch would cost four
 * messages per round trip (two requests, two answers) where two suffice.
 *
 * A thread holds up to `concurrency` running attempts and a window of more
 * waiting behind them, so it never idles while the main thread prepares its
 * next task. An attempt sent into a free run slot starts on arrival; one sent
 * into the window counts as started when the thread says so (its timeout runs
 * from then), and while it waits it can be taken back (`ThreadRevoke`) and
 * run elsewhere.
 *
 * Every outcome is data: the thread reports failures as values, never as a
 * rejected call, so errors keep their class, code and cause
 * (see `errors/serialize.ts`).
 */

/** One attempt of one task, as the thread sees it. */
export interface WireAttempt {
  /** Unique per attempt across the processor; the thread keys its abort controllers by it. */
  readonly token: number;
  readonly id: string;
  readonly handler: string;
  readonly attempt: number;
  readonly payload: unknown;
  /** The payload's buffers, moved with it; the thread hands them back if the attempt fails. */
  readonly transfer?: readonly TransferListItem[];
  /**
   * Sent into the thread's window, not a free run slot: the thread reports
   * when it starts it. One sent into a free slot starts on arrival, and the
   * main thread counts it started when it sends it.
   */
  readonly windowed?: true;
  /** The attempt's span, when the task is traced: the handler's `ctx.traceContext`. */
  readonly traceContext?: TraceContext;
}

/** A payload whose buffers were moved in, moved back out for the next attempt. */
export interface Returned {
  readonly payload: unknown;
  readonly transfer: readonly TransferListItem[];
}

export type WireOutcome =
  | { readonly token: number; readonly ok: true; readonly value: unknown }
  /** The attempt never started: it was taken back (revoked or cancelled) while waiting in the thread. */
  | { readonly token: number; readonly ok: false; readonly unstarted: true; readonly returned?: Returned }
  | {
      readonly token: number;
      readonly ok: false;
      readonly error: SerializedError;
      readonly retryable: boolean;
      readonly returned?: Returned;
    };

/** Orders for the thread's actors, on the batch port: carried, not read (see `actors/protocol.ts`). */
export interface ThreadActorOrders {
  readonly actors: readonly ActorOrder[];
}

/**
 * What a thread sends back, in the order it happened: a number is the token
 * of an attempt that has just started; an object with a `token` is an
 * attempt's outcome; one with an `actor`, an actor's report.
 */
export type ThreadReport = ReadonlyArray<number | WireOutcome | ActorReport>;

/**
 * What a thread says as it exits through `process.exit` (its `exit` handler
 * posts it): the actor event it was processing then, which killed it. Sent
 * only when an actor event was in progress; a thread terminated, out of
 * memory or crashed natively says nothing. It goes on the thread's
 * `parentPort`, not the batch port: Node delivers what a thread posted on
 * its `parentPort` before the `Worker`'s `exit` event, but not what it
 * posted on a transferred port (about 1 in 15 such messages came after
 * `exit` in a trial on Node 20).
 */
export interface ThreadDying {
  readonly dying: ActorInProgress;
}

/** Takes back attempts still waiting in the thread; those already started are left to run. */
export interface ThreadRevoke {
  readonly revoke: readonly number[];
}

/**
 * Aborts an attempt's `ctx.signal`; the handler decides how fast it stops. An
 * attempt still waiting is dropped and reported unstarted. It travels on the
 * batch port, behind the batch that carried the attempt: on another channel
 * it could arrive first and find nothing to abort.
 */
export interface ThreadAbort {
  readonly abort: number;
  readonly reason: SerializedError;
}

/** What the main thread sends on the batch port. */
export type ThreadOrders = readonly WireAttempt[] | ThreadRevoke | ThreadAbort | ThreadActorOrders;

export type LoadOutcome =
  | {
      readonly ok: true;
      /** The module's function exports: task handlers. */
      readonly handlers: readonly string[];
      /** Its exports that are XState actor logic: what `spawn` can run. */
      readonly actors: readonly string[];
    }
  | { readonly ok: false; readonly error: SerializedError };

export interface ThreadConfig {
  /** Attempts the thread runs at once; the rest of its window waits in its queue, in order. */
  readonly concurrency: number;
}

/** The control interface a thread exposes over comlink. */
export interface ThreadApi {
  /**
   * Imports the handler module once (every function export becomes a
   * handler) and starts taking batches of attempts on `port`.
   */
  load(handlersUrl: string, config: ThreadConfig, port: MessagePort): Promise<LoadOutcome>;
}

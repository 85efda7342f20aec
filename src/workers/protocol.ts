import type { MessagePort, TransferListItem } from 'node:worker_threads';

import type { SerializedError } from '../errors/serialize.js';
import type { TraceContext } from '../task/types.js';

/**
 * What crosses between a worker actor and its thread. The control call
 * (load) goes over comlink. The hot path does not: tasks travel in batches over
 * a dedicated `MessagePort`, handed to the thread at `load`, as one-way
 * messages both ways. Every attempt dispatched to a thread in one tick goes as
 * one `WireAttempt[]` message; everything the thread has to tell in one turn
 * of its event loop (attempts it started, attempts that settled) comes back
 * as one `ThreadNews` message. A comlink call per batch would cost four
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

/** An order for one actor hosted by a thread. Orders for an actor arrive, and are carried out, in the order sent. */
export type ActorOrder =
  /** `snapshot`: a persisted snapshot to restore (a restart after its thread died), instead of starting afresh. */
  | { readonly kind: 'spawn'; readonly id: string; readonly logic: string; readonly input?: unknown; readonly snapshot?: unknown }
  /** `ask`: answer with the snapshot right after this event. */
  | { readonly kind: 'event'; readonly id: string; readonly event: { readonly type: string }; readonly ask?: number }
  /** Stops it once the orders before this one are carried out: the thread reports its last snapshot (`stopped`). */
  | { readonly kind: 'stop'; readonly id: string }
  /** While an inspector watches: report every event each actor processes, with the snapshot right after it (`trace`). */
  | { readonly kind: 'trace'; readonly on: boolean };

/** Orders for the thread's actors, on the batch port. */
export interface ThreadActorOrders {
  readonly actors: readonly ActorOrder[];
}

/**
 * What became of one actor since the last news: at most one per actor per
 * message, however many events it processed (its latest snapshot), with the
 * answers to the asks among them, each the snapshot right after its event.
 */
export interface ActorNews {
  readonly actor: string;
  /**
   * While it is active, XState's persisted snapshot (`getPersistedSnapshot()`):
   * what a restart restores, and a superset of its plain snapshot, which the
   * main thread takes from it (one copy of the context crosses, not two).
   * Once it has ended, its plain snapshot.
   */
  readonly snapshot: ActorSnapshot;
  /** Events it has processed since it was spawned (none once it has ended: what is sent after is not processed). */
  readonly processed: number;
  /** It ended in `error` while processing this event (its number, as `processed` counts), not on its own later. */
  readonly erredOn?: number;
  /** It was stopped by a `stop` order: `snapshot` is its last, persisted (restorable) while it was active. */
  readonly stopped?: true;
  /** While traced: each event it processed, in order, with its plain snapshot right after. */
  readonly trace?: ReadonlyArray<readonly [event: { readonly type: string }, snapshot: ActorSnapshot]>;
  /** Each ask's snapshot right after its event; `null` when that is `snapshot` (its event was the last). */
  readonly answers?: ReadonlyArray<readonly [ask: number, snapshot: ActorSnapshot | null]>;
  /** The spawn failed: the logic threw as it started. */
  readonly failed?: SerializedError;
}

/**
 * What a thread sends back, in the order it happened: a number is the token
 * of an attempt that has just started; an object with a `token` is an
 * attempt's outcome; one with an `actor`, an actor's news.
 */
export type ThreadNews = ReadonlyArray<number | WireOutcome | ActorNews>;

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
  readonly dying: {
    readonly actor: string;
    /** The event's number, as the actor's `processed` counts them on this thread (see `ActorNews.processed`). */
    readonly delivery: number;
  };
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

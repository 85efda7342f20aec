import type { MessagePort, TransferListItem } from 'node:worker_threads';
import type { SerializedError } from '../serialize-error.js';

/**
 * What crosses between a worker actor and its thread. Control calls (load,
 * abort) go over comlink. The hot path does not: tasks travel in batches over
 * a dedicated `MessagePort`, handed to the thread at `load`, as one-way
 * messages both ways. Every attempt dispatched to a thread in one tick goes as
 * one `WireAttempt[]` message; every outcome the thread produced in one turn
 * of its event loop comes back as one `WireOutcome[]` message. A comlink call
 * per batch would cost four messages per round trip (two requests, two
 * answers) where two suffice.
 *
 * Every outcome is data: the thread reports failures as values, never as a
 * rejected call, so errors keep their class, code and cause
 * (see `serialize-error.ts`).
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
}

export type WireOutcome =
  | { readonly token: number; readonly ok: true; readonly value: unknown }
  | {
      readonly token: number;
      readonly ok: false;
      readonly error: SerializedError;
      readonly retryable: boolean;
      /** A payload whose buffers were moved in, moved back out for the next attempt. */
      readonly returned?: { readonly payload: unknown; readonly transfer: readonly TransferListItem[] };
    };

export type LoadOutcome =
  | { readonly ok: true; readonly handlers: readonly string[] }
  | { readonly ok: false; readonly error: SerializedError };

export interface ThreadConfig {
  /** Attempts the thread runs at once; more wait in its queue, in order. */
  readonly concurrency: number;
}

/** The control interface a thread exposes over comlink. */
export interface ThreadApi {
  /**
   * Imports the handler module once (every function export becomes a
   * handler) and starts taking batches of attempts on `port`.
   */
  load(handlersUrl: string, config: ThreadConfig, port: MessagePort): Promise<LoadOutcome>;
  /** Aborts the attempt's `ctx.signal`; the handler decides how fast it stops. */
  abort(token: number, reason: SerializedError): void;
}

import type { TransferListItem } from 'node:worker_threads';
import type { SerializedError } from '../serialize-error.js';

/**
 * What crosses between a worker actor and its thread. Tasks travel in
 * batches both ways: `run` carries every attempt dispatched to the thread in
 * one tick, and `poll` returns every outcome the thread produced since the
 * last poll, so a busy pool pays one message per batch, not per task.
 *
 * Every call is total: the thread reports failures as data, never as a
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

/** The runner a thread exposes over comlink. */
export interface ThreadApi {
  /** Imports the handler module once; every function export becomes a handler. */
  load(handlersUrl: string, config: ThreadConfig): Promise<LoadOutcome>;
  /** Queues attempts; they start in order as slots free up. */
  run(attempts: readonly WireAttempt[]): void;
  /**
   * Resolves with the outcomes produced since the last poll, at once if there
   * are any, otherwise as soon as there are. One poll is kept pending by the
   * worker actor at all times, so outcomes flow without a request per task.
   * With `resend`, answers the last batch again, with every value that cannot
   * be structured-cloned replaced by a failure: comlink refuses a whole
   * answer when one value in it cannot be cloned, and checking each value
   * up front would copy every result twice.
   */
  poll(resend?: boolean): Promise<readonly WireOutcome[]>;
  /** Aborts the attempt's `ctx.signal`; the handler decides how fast it stops. */
  abort(token: number, reason: SerializedError): void;
}

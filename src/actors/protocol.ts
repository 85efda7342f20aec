import type { SerializedError } from '../serialize-error.js';

/**
 * What crosses between a worker actor and its thread. Every call is total:
 * the thread reports failures as data, never as a rejected call, so errors keep
 * their class, code and cause (see `serialize-error.ts`).
 */

/** One attempt of one task, as the thread sees it. */
export interface WireAttempt {
  /** Unique per attempt across the processor; the thread keys its abort controllers by it. */
  readonly token: number;
  readonly id: string;
  readonly handler: string;
  readonly attempt: number;
  readonly payload: unknown;
}

export type WireOutcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: SerializedError; readonly retryable: boolean };

export type LoadOutcome =
  | { readonly ok: true; readonly handlers: readonly string[] }
  | { readonly ok: false; readonly error: SerializedError };

/** The runner a thread exposes over comlink. */
export interface ThreadApi {
  /** Imports the handler module once; every function export becomes a handler. */
  load(handlersUrl: string): Promise<LoadOutcome>;
  run(attempt: WireAttempt): Promise<WireOutcome>;
  /** Aborts the attempt's `ctx.signal`; the handler decides how fast it stops. */
  abort(token: number, reason: SerializedError): void;
}

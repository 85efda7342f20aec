import type { TransferListItem } from 'node:worker_threads';

import type { WireAttempt } from './protocol.js';

/**
 * What a handler gets as `ctx`. Its `signal` is made the first time the
 * handler reads it: most handlers never do, and an `AbortController` per
 * attempt was most of what a no-op attempt allocated in its thread. An
 * abort before then is kept, and the signal read later is already aborted.
 */
export class AttemptContext {
  readonly id: string;
  readonly attempt: number;
  readonly traceContext: WireAttempt['traceContext'];
  /** Buffers `transfer` marked to move with the result. */
  #marked: TransferListItem[] | undefined;
  #controller: AbortController | undefined;
  #abortedWith: { readonly reason: unknown } | undefined;

  constructor(id: string, attempt: number, traceContext: WireAttempt['traceContext']) {
    this.id = id;
    this.attempt = attempt;
    this.traceContext = traceContext;
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#abortedWith) this.#controller.abort(this.#abortedWith.reason);
    }
    return this.#controller.signal;
  }

  transfer<T>(value: T, transferables: readonly TransferListItem[]): T {
    (this.#marked ??= []).push(...transferables);
    return value;
  }

  /** Static, so that a handler sees only the context's own members. */
  static abort(ctx: AttemptContext, reason: unknown): void {
    if (ctx.#controller) ctx.#controller.abort(reason);
    else ctx.#abortedWith ??= { reason };
  }

  static marked(ctx: AttemptContext): TransferListItem[] | undefined {
    return ctx.#marked;
  }
}

/**
 * task/: what a task is to users (this file: input, results, info, handler
 * types), how `submit` checks and fills one (normalize.ts), the one builder
 * of each shape it is reported in (results.ts), and the results a process
 * retains (retained.ts).
 */
import type { TransferListItem } from 'node:worker_threads';

/** Where a task is in its lifecycle. `done`, `failed` and `cancelled` are final. */
export type TaskState = 'scheduled' | 'queued' | 'processing' | 'retrying' | 'done' | 'failed' | 'cancelled';

/** The final states: every accepted task ends in exactly one of them (or is handed back by `shutdown`). */
export type FinalTaskState = Extract<TaskState, 'done' | 'failed' | 'cancelled'>;

/** The states of a task not yet ended: waiting or running. */
export type UnfinishedTaskState = Exclude<TaskState, FinalTaskState>;

/**
 * An error as a task result carries it. It is a real `Error`: Troupe's own
 * errors keep their class (`instanceof TaskTimeoutError`), other errors keep
 * their `name`, `message`, `stack`, `code`, `cause` and own fields after
 * crossing from the worker thread. A thrown non-Error arrives as a `NonError`
 * whose `message` describes the value.
 */
export type TaskError = Error & { readonly code?: string };

/**
 * A trace context in W3C Trace Context form (https://www.w3.org/TR/trace-context/),
 * as plain strings: what any OpenTelemetry propagator reads as the
 * `traceparent` and `tracestate` headers.
 */
export interface TraceContext {
  /** `00-<trace id>-<span id>-<flags>`. */
  readonly traceparent: string;
  /** Vendor entries, when the span's context has any. */
  readonly tracestate?: string;
}

/** What the handler receives besides the payload. */
export interface HandlerContext {
  /** The task's id. */
  readonly id: string;
  /** 1 for the first attempt, 2 for the first retry, … */
  readonly attempt: number;
  /** Aborts when the attempt times out, is cancelled or the processor shuts down. */
  readonly signal: AbortSignal;
  /**
   * This attempt's `troupe.attempt` span, when the app that submitted the
   * task traces (it registered an OpenTelemetry tracer provider, and did
   * not pass `tracing: false`); `undefined` otherwise. Plain strings, so the
   * handler can continue the trace in its thread with an SDK of its own:
   * its spans become children of the attempt's. See docs/observability.md.
   *
   * @example
   * ```ts
   * import { propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
   *
   * export async function resize(payload: { url: string }, ctx: HandlerContext) {
   *   const parent = propagation.extract(ROOT_CONTEXT, ctx.traceContext ?? {});
   *   return trace.getTracer('images').startActiveSpan('resize', {}, parent, async (span) => {
   *     try {
   *       return await shrink(payload.url);
   *     } finally {
   *       span.end();
   *     }
   *   });
   * }
   * ```
   */
  readonly traceContext?: TraceContext;
  /**
   * Marks buffers of the return value to be moved to the main thread instead
   * of copied; returns `value` unchanged.
   *
   * @example
   * ```ts
   * export async function render(payload: Scene, ctx: HandlerContext) {
   *   const pixels = draw(payload);
   *   return ctx.transfer({ width: 640, pixels }, [pixels.buffer]);
   * }
   * ```
   */
  transfer<T>(value: T, transferables: readonly TransferListItem[]): T;
}

/**
 * A task handler: exported by name from the handler module.
 *
 * @example
 * ```ts
 * // handlers.ts
 * export async function resize(payload: { url: string }, ctx: HandlerContext) {
 *   const response = await fetch(payload.url, { signal: ctx.signal });
 *   return shrink(await response.arrayBuffer());
 * }
 * ```
 */
// `any` by default: a handler declares the payload type it expects without a cast.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type TaskHandler<P = any, R = unknown> = (payload: P, ctx: HandlerContext) => R | Promise<R>;

/** What `submit` takes. */
export interface TaskInput<P = unknown> {
  /** Unique among unfinished tasks. Generated (a UUID) when omitted. */
  id?: string;
  /** Anything the structured clone algorithm can copy. Copied at submit. */
  payload: P;
  /**
   * Name of the handler module's export that runs this task.
   * @defaultValue 'default'
   */
  handler?: string;
  /**
   * Buffers of the payload to move instead of copy (`ArrayBuffer`s,
   * `MessagePort`s). They are detached from the caller at `submit`, move to
   * the thread of each attempt, and come back with a failed attempt so a
   * retry gets them again (unless the handler detached them itself).
   */
  transfer?: readonly TransferListItem[];
  /**
   * Cancels the task when it aborts, as `cancel(id, reason)` would: at once if
   * it is waiting, through `ctx.signal` if it is running. An already aborted
   * signal cancels it at once.
   */
  signal?: AbortSignal;
  /**
   * Higher runs first; equal priorities run in submission order, and a retry
   * re-enters the queue at its task's priority. An integer.
   * @defaultValue 0
   */
  priority?: number;
  /**
   * Starts the task no earlier than this many ms from now. Until then it is
   * `scheduled`: counted by `getStatus()`, cancellable, holding no thread.
   * Not with `runAt`.
   */
  delay?: number;
  /** Starts the task no earlier than this time (epoch ms or a `Date`), on the processor's clock. Not with `delay`. */
  runAt?: number | Date;
  /** Overrides the processor's `maxRetries` for this task. */
  maxRetries?: number;
  /** Overrides the processor's per-attempt `timeout` (ms) for this task; `0` means none. */
  timeout?: number;
  /**
   * Called on the main thread with the final result, after it is stored and
   * before `result(id)` settles. It may call `submit`. If it throws, the error
   * is reported as a `callback.error` event and harms nothing else.
   */
  callback?: (result: TaskResult) => void;
}

interface TaskResultBase {
  readonly id: string;
  /** The handler that ran the task. */
  readonly handler: string;
  readonly priority: number;
  readonly maxRetries: number;
  readonly timeout: number | undefined;
  /** Attempts started, including the last. */
  readonly attempts: number;
  /** Epoch ms when the task was accepted. */
  readonly submittedAt: number;
  /** Epoch ms when the last attempt started, if any did. */
  readonly startedAt: number | undefined;
  /** Epoch ms when the task reached its final state. */
  readonly finishedAt: number;
}

/** The task's handler returned. */
export interface DoneResult<T = unknown> extends TaskResultBase {
  readonly status: 'done';
  readonly value: T;
}

/** The task's last attempt failed and no retry was left (or the failure was not retryable). */
export interface FailedResult extends TaskResultBase {
  readonly status: 'failed';
  readonly error: TaskError;
  /** The task's payload, kept so a failed task can be inspected or resubmitted. */
  readonly payload: unknown;
}

/** The task was cancelled, or handed back by `shutdown`. */
export interface CancelledResult extends TaskResultBase {
  readonly status: 'cancelled';
  readonly reason: string;
}

/** The final result of a task: a union on `status`. */
export type TaskResult<T = unknown> = DoneResult<T> | FailedResult | CancelledResult;

/**
 * Why a `queued` task has not started yet: where it waits.
 * - `thread`: in the ready queue, until a thread has room; higher
 *   priorities, then older tasks, go first.
 * - `rateLimit`: in the ready queue, while the processor-wide `rateLimit`
 *   lets nothing start.
 * - `handlerConcurrency`, `handlerRateLimit`: held by its handler's own
 *   limit (`handlerConcurrency`, `rateLimit.perHandler`).
 * - `slot`: sent to worker `workerId`, waiting in its thread's window for a
 *   run slot (the thread starts it without another round trip).
 * - `emptyThread`: it runs isolated, so a crash is its own: on an empty
 *   thread (it was on a thread that crashed with other attempts on it), or
 *   with nothing else running in the process (with a store, it was running
 *   beside others each time the process died, twice).
 * - `previousAttempt`: an earlier attempt of its id (timed out or cancelled)
 *   is still stopping: at most one attempt of an id runs at a time.
 */
export type WaitingFor = 'thread' | 'rateLimit' | 'handlerConcurrency' | 'handlerRateLimit' | 'slot' | 'emptyThread' | 'previousAttempt';

/** A task as `getTask(id)` sees it, in any state. */
export interface TaskInfo {
  readonly id: string;
  readonly state: TaskState;
  readonly handler: string;
  readonly priority: number;
  /** While `scheduled`: when it becomes due, epoch ms on the processor's clock. */
  readonly runAt: number | undefined;
  /**
   * While `queued`: the limit that holds it back (`rateLimit` or
   * `handlerConcurrency`), if one does. `waitingFor` says this and more.
   */
  readonly blockedBy: 'rateLimit' | 'handlerConcurrency' | undefined;
  /** While `queued`: why it has not started, that is, where it waits (see {@link WaitingFor}). */
  readonly waitingFor: WaitingFor | undefined;
  /** The worker whose thread holds its attempt, while it has one: waiting in that thread's window, or running. */
  readonly workerId: number | undefined;
  /** Attempts started so far. */
  readonly attempts: number;
  readonly maxRetries: number;
  readonly timeout: number | undefined;
  readonly submittedAt: number;
  readonly startedAt: number | undefined;
  /** The error of the last failed attempt, if any. */
  readonly lastError: TaskError | undefined;
  /** While `retrying`: the backoff wait before the next attempt, in ms. */
  readonly retryDelay: number | undefined;
}

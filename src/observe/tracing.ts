/**
 * OpenTelemetry tracing through `@opentelemetry/api` only: the app registers
 * a tracer provider (and a propagator) with the SDK of its choice; Troupe
 * makes spans with whatever is registered. Each task gets a `troupe.task`
 * span, from `submit` (or, on a broker's node, from its delivery) to its
 * final state, as a child of the context active at `submit`; each attempt a
 * `troupe.attempt` span under it.
 *
 * With no provider registered, a task costs one check (`taskTrace` returns
 * `undefined`) and nothing else: no span, no context read, no string.
 */
import type { Attributes, Context, Span, Tracer, TracerProvider } from '@opentelemetry/api';

import type { TaskContext } from '../machines/task.js';
import type { TaskState, TraceContext } from '../task/types.js';
import { otelApi, registeredOtelApi } from './otel-api.js';

/** The tracer's name: what an exporter shows as the instrumentation scope. */
export const TRACER_NAME = 'troupe';

/** The span names and attribute keys Troupe writes (see docs/observability.md). */
export const SPAN = { task: 'troupe.task', attempt: 'troupe.attempt' } as const;
export const ATTRIBUTE = {
  id: 'troupe.task.id',
  handler: 'troupe.task.handler',
  attempt: 'troupe.task.attempt',
  priority: 'troupe.task.priority',
  status: 'troupe.task.status',
  cancelReason: 'troupe.task.cancel_reason',
} as const;

/**
 * The api's no-op provider: what its global proxy delegates to until an app
 * registers one. A fresh proxy has no delegate, so it hands back that very
 * singleton (the api exports no other way to name it).
 */
let noProvider: TracerProvider | undefined;

let cachedFor: TracerProvider | undefined;
let cachedTracer: Tracer | undefined;

/**
 * The tracer to trace a task with, or `undefined` when the app has
 * registered no tracer provider: the one check each task pays when nobody
 * traces. A provider registered later is found at the next task. (With
 * another copy of the api registered globally, its no-op provider is not
 * this one's: tasks are then traced through it, at the cost of no-op spans.)
 */
export function activeTracer(): Tracer | undefined {
  const api = registeredOtelApi();
  if (!api) return undefined;
  const { ProxyTracerProvider, trace } = api;
  noProvider ??= new ProxyTracerProvider().getDelegate();
  const global = trace.getTracerProvider();
  const provider = global instanceof ProxyTracerProvider ? global.getDelegate() : global;
  if (provider === noProvider) return undefined;
  if (provider !== cachedFor) {
    cachedFor = provider;
    cachedTracer = provider.getTracer(TRACER_NAME);
  }
  return cachedTracer;
}

/** What a task span says of its task. */
export interface TracedTask {
  readonly id: string;
  readonly handler: string;
  readonly priority: number;
}

/**
 * Starts the trace of a task submitted here, under the context active at
 * `submit`, when a tracer provider is registered. (A broker's node starts
 * the trace of a delivered task under the submitter's context: see
 * `broker/trace-headers.ts`.)
 */
export function traceTask(task: TracedTask): TaskTrace | undefined {
  const tracer = activeTracer();
  return tracer && new TaskTrace(tracer, task, otelApi().context.active(), false);
}

/**
 * The spans of one task: its `troupe.task` span and the `troupe.attempt`
 * span of its attempt in a thread, if any. Owned by the task's record and
 * told, in O(1), of each attempt sent and each state its machine enters.
 *
 * The attempt span lives on the main thread, made from what the supervisor
 * already knows: it starts when the attempt is sent to its thread and ends
 * when the machine hears its outcome (or gives up on it: a timeout, a
 * cancel). A span made in the thread would need the SDK loaded in every
 * thread and its spans carried back, per task, beside the batched reports;
 * here the thread gets one string per attempt, and its reports stay as they
 * are: many tasks per message, no timestamps. The price is precision: the span
 * starts when the thread is sent the attempt (into a free slot it starts
 * on arrival; one sent into the thread's window has the event
 * `troupe.attempt.started` when the thread reports its start), and ends
 * when the thread's report arrives, within one batch of the outcome.
 */
export class TaskTrace {
  readonly #tracer: Tracer;
  readonly #span: Span;
  readonly #remote: boolean;
  /** The task's attributes, which its attempt spans repeat. */
  readonly #attributes: Attributes;
  #attempt: Span | undefined;
  /** The attempt span's W3C context, as its handler gets it. */
  #attemptContext: TraceContext | undefined;
  #windowed = false;

  /** `remote`: a broker's task, whose span ends when it leaves this node for a retry elsewhere. */
  constructor(tracer: Tracer, task: TracedTask, parent: Context, remote: boolean) {
    this.#tracer = tracer;
    this.#remote = remote;
    this.#attributes = {
      [ATTRIBUTE.id]: task.id,
      [ATTRIBUTE.handler]: task.handler,
      [ATTRIBUTE.priority]: task.priority,
    };
    this.#span = tracer.startSpan(SPAN.task, { attributes: this.#attributes }, parent);
  }

  /**
   * Attempt `number` is sent to a thread (`windowed`: into its window, to
   * start when the thread gets to it). Its span starts now, once: an
   * attempt taken back uncharged and sent again (revoked from a window,
   * released from a stopped thread) keeps its number and its span. Returns
   * the context its handler gets as `ctx.traceContext`.
   */
  attemptSent(number: number, windowed: boolean): TraceContext {
    this.#windowed = windowed;
    if (this.#attempt && this.#attemptContext) return this.#attemptContext;
    const attributes: Attributes = { ...this.#attributes, [ATTRIBUTE.attempt]: number };
    const { trace, ROOT_CONTEXT } = otelApi();
    const attempt = this.#tracer.startSpan(SPAN.attempt, { attributes }, trace.setSpan(ROOT_CONTEXT, this.#span));
    this.#attempt = attempt;
    this.#attemptContext = w3c(attempt);
    return this.#attemptContext;
  }

  /** The task's machine entered `state`: an attempt span ends with its outcome, the task span with the task. */
  entered(state: TaskState, context: TaskContext): void {
    switch (state) {
      case 'processing':
        if (this.#windowed) this.#attempt?.addEvent('troupe.attempt.started');
        return;
      case 'queued':
        // Back in line with its attempt uncharged (its thread was stopped for another reason).
        this.#attempt?.addEvent('troupe.attempt.released');
        return;
      case 'retrying':
        this.#endAttempt(state, context);
        // A broker's task retries on whichever node the broker picks: it leaves this one.
        if (this.#remote) this.#endTask(state, context);
        return;
      case 'done':
      case 'failed':
      case 'cancelled':
        this.#endAttempt(state, context);
        this.#endTask(state, context);
        return;
      case 'scheduled':
        return;
    }
  }

  #endAttempt(state: TaskState, context: TaskContext): void {
    const span = this.#attempt;
    if (!span) return;
    this.#attempt = undefined;
    this.#attemptContext = undefined;
    span.setAttribute(ATTRIBUTE.status, state);
    if ((state === 'retrying' || state === 'failed') && context.error) {
      span.recordException(context.error);
      span.setStatus({ code: otelApi().SpanStatusCode.ERROR, message: context.error.message });
    }
    span.end();
  }

  #endTask(state: TaskState, context: TaskContext): void {
    const span = this.#span;
    span.setAttribute(ATTRIBUTE.status, state);
    span.setAttribute(ATTRIBUTE.attempt, context.attempts);
    if (state === 'failed') span.setStatus({ code: otelApi().SpanStatusCode.ERROR, message: context.error?.message ?? 'failed' });
    if (state === 'cancelled') {
      const reason = context.reason ?? 'cancelled';
      span.setAttribute(ATTRIBUTE.cancelReason, reason);
      span.addEvent('troupe.task.cancelled', { reason });
    }
    span.end();
  }
}

/** A span's context in W3C Trace Context form, for a handler to continue the trace with its own SDK. */
function w3c(span: Span): TraceContext {
  const { traceId, spanId, traceFlags, traceState } = span.spanContext();
  const traceparent = `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, '0')}`;
  const tracestate = traceState?.serialize();
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

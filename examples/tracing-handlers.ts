// examples/tracing-handlers.ts
/**
 * The handler module of examples/tracing.ts. A thread is an isolate of its
 * own: to continue the trace there, a handler module registers its own SDK
 * (here only the W3C propagator, to read `ctx.traceContext`; an app would
 * register a tracer provider and exporter too).
 */
import { propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

import type { HandlerContext } from '../src/index.js';

propagation.setGlobalPropagator(new W3CTraceContextPropagator());

/** Declines the card on the first attempt; says which span it ran under. */
export async function charge(payload: { order: number }, ctx: HandlerContext): Promise<{ order: number; spanId?: string }> {
  if (ctx.attempt === 1) throw new Error('card declined');
  // The parent a span made here would have: this attempt's `troupe.attempt` span.
  const parent = propagation.extract(ROOT_CONTEXT, ctx.traceContext ?? {});
  return { order: payload.order, spanId: trace.getSpanContext(parent)?.spanId };
}

/** The mail server is down, every time. */
export async function sendReceipt(): Promise<never> {
  throw new Error('mail server down');
}

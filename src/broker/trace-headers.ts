/**
 * A task's trace context across machines: the client writes the context
 * active at `submit` into the task message's NATS headers, with the
 * propagator the app registered (W3C's writes `traceparent` and
 * `tracestate`); the node that runs the task reads it back, so its
 * `troupe.task` and `troupe.attempt` spans join the submitter's trace.
 * Through `@opentelemetry/api` only; the NATS headers themselves are made
 * by the session (`BrokerSession.headersOf`), which loads the NATS client.
 */
import type { MsgHdrs } from '@nats-io/transport-node';
import type { TextMapGetter } from '@opentelemetry/api';

import { otelApi, registeredOtelApi } from '../observe/otel-api.js';
import { activeTracer, TaskTrace, type TracedTask } from '../observe/tracing.js';

/** The header entries a task's message carries. */
export type TraceHeaders = Record<string, string>;

/**
 * The context active now, as the app's propagator writes it into headers;
 * `undefined` when no tracer provider is registered (the one check a task
 * pays then) or the propagator writes nothing.
 */
export function activeTraceHeaders(): TraceHeaders | undefined {
  if (!activeTracer()) return undefined;
  const { context, propagation } = otelApi();
  const carrier: TraceHeaders = {};
  propagation.inject(context.active(), carrier);
  for (const _ in carrier) return carrier;
  return undefined;
}

const natsGetter: TextMapGetter<MsgHdrs | undefined> = {
  get: (headers, key) => headers?.get(key) || undefined,
  keys: (headers) => headers?.keys() ?? [],
};

/**
 * Starts the trace of a task a broker delivered, under the submitter's
 * context read from its headers (a root span when it has none), when a
 * tracer provider is registered.
 */
export function traceDelivery(task: TracedTask, headers: MsgHdrs | undefined): TaskTrace | undefined {
  const tracer = activeTracer();
  if (!tracer) return undefined;
  const { propagation, ROOT_CONTEXT } = otelApi();
  const parent = headers ? propagation.extract(ROOT_CONTEXT, headers, natsGetter) : ROOT_CONTEXT;
  return new TaskTrace(tracer, task, parent, true);
}

/** The trace entries of a message's headers (those the app's propagator reads), to carry into a message that moves the task on. */
export function traceHeadersOf(headers: MsgHdrs | undefined): TraceHeaders | undefined {
  // With nothing registered, the api's propagator reads no field.
  const api = registeredOtelApi();
  if (!headers || !api) return undefined;
  let carried: TraceHeaders | undefined;
  for (const field of api.propagation.fields()) {
    const value = headers.get(field);
    if (value) (carried ??= {})[field] = value;
  }
  return carried;
}

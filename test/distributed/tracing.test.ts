/**
 * Tracing across a NATS JetStream server: the context active at a client's
 * `submit` travels in the task message's headers, and the node that runs the
 * task makes its spans children of it. Both processors live in this process
 * (one tracer provider), so the test also checks that the node's parent came
 * from the headers (a remote context), not from this process's async context.
 */
import { trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { createProcessor, natsBroker, type Processor } from '../../src/index.js';
import { handlers } from '../helpers/index.js';
import { NATS_URL, natsAvailable, removeStream, uniqueStream } from './nats.js';

const available = await natsAvailable();

describe.skipIf(!available)(`tracing across NATS JetStream (${NATS_URL})`, () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  let stream = '';
  let processors: Processor[] = [];

  beforeAll(() => provider.register({ propagator: new W3CTraceContextPropagator() }));
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
  });
  afterEach(async () => {
    await Promise.all(processors.map((processor) => processor.shutdown({ timeout: 1_000 })));
    processors = [];
    if (stream) await removeStream(stream);
    exporter.reset();
  });

  it("joins the node's task and attempt spans to the trace active at the client's submit, delayed tasks too", async () => {
    stream = uniqueStream('tracing');
    const broker = natsBroker({ stream, storage: 'memory', ackWait: 2_000 });
    const client = createProcessor({ workers: 0, broker });
    const node = createProcessor({ handlers, workers: 1, broker });
    processors.push(client, node);
    await Promise.all([client.ready, node.ready]);

    const { request, ids } = trace.getTracer('app').startActiveSpan('request', (request) => {
      const submitted = [
        client.submit({ id: 'now', handler: 'traced', payload: {} }),
        client.submit({ id: 'later', handler: 'traced', payload: {}, delay: 50 }),
      ];
      request.end();
      return { request: request.spanContext(), ids: submitted };
    });
    const results = await Promise.all(ids.map((id) => client.result(id)));
    expect(results.map((result) => result.status)).toEqual(['done', 'done']);

    const spans = exporter.getFinishedSpans();
    for (const id of ids) {
      const task = spans.find((span) => span.name === 'troupe.task' && span.attributes['troupe.task.id'] === id);
      const attempt = spans.find((span) => span.name === 'troupe.attempt' && span.attributes['troupe.task.id'] === id);
      expect(task?.spanContext().traceId).toBe(request.traceId);
      expect(task?.parentSpanContext).toMatchObject({ spanId: request.spanId, isRemote: true });
      expect(task?.attributes).toMatchObject({ 'troupe.task.status': 'done', 'troupe.task.attempt': 1 });
      expect(attempt?.spanContext().traceId).toBe(request.traceId);
      expect(attempt?.parentSpanContext?.spanId).toBe(task?.spanContext().spanId);
      // The handler on the node saw its attempt's span.
      const result = results[ids.indexOf(id)];
      expect(result?.status === 'done' && result.value).toMatchObject({
        traceContext: { traceparent: `00-${request.traceId}-${attempt?.spanContext().spanId}-01` },
      });
    }
  });

  it('gives each delivery of a retried task a span under the submitter: the first ends retrying, the last done', async () => {
    stream = uniqueStream('tracing_retry');
    const broker = natsBroker({ stream, storage: 'memory', ackWait: 2_000 });
    const client = createProcessor({ workers: 0, broker });
    const node = createProcessor({ handlers, workers: 1, broker, backoff: { delay: 20, jitter: 0 } });
    processors.push(client, node);
    await Promise.all([client.ready, node.ready]);

    const { request, id } = trace.getTracer('app').startActiveSpan('request', (request) => {
      const submitted = client.submit({ id: 'flaky', handler: 'traced', payload: { failFirst: true }, maxRetries: 1 });
      request.end();
      return { request: request.spanContext(), id: submitted };
    });
    expect(await client.result(id)).toMatchObject({ status: 'done', attempts: 2 });

    const spans = exporter.getFinishedSpans();
    const deliveries = spans.filter((span) => span.name === 'troupe.task').map((span) => span.attributes);
    expect(deliveries).toEqual([
      expect.objectContaining({ 'troupe.task.status': 'retrying', 'troupe.task.attempt': 1 }),
      expect.objectContaining({ 'troupe.task.status': 'done', 'troupe.task.attempt': 2 }),
    ]);
    for (const span of spans.filter((span) => span.name === 'troupe.task')) {
      expect(span.parentSpanContext).toMatchObject({ traceId: request.traceId, spanId: request.spanId });
    }
    const attempts = spans.filter((span) => span.name === 'troupe.attempt');
    expect(attempts.map((span) => [span.attributes['troupe.task.attempt'], span.status.code])).toEqual([
      [1, 2], // ERROR, with its exception
      [2, 0],
    ]);
  });
});

/**
 * OpenTelemetry tracing with a real SDK registered as the app would: the
 * spans of retried, failed and cancelled tasks, the context handlers see,
 * and `tracing: false`.
 */
import { trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { InvalidOptionError } from '../../src/index.js';
import { nextEvent, useProcessor } from '../helpers/index.js';

const processor = useProcessor({ workers: 1, backoff: { delay: 0 } });

describe('with no tracer provider registered', () => {
  it('handlers get no trace context', async () => {
    const tasks = processor();
    const id = tasks.submit({ handler: 'traced', payload: {} });
    expect(await tasks.result(id)).toMatchObject({ status: 'done', value: { attempt: 1, traceContext: undefined } });
  });

  it('refuses a `tracing` that is not a boolean, naming it', () => {
    expect(() => processor({ tracing: 'yes' as never })).toThrow(InvalidOptionError);
    expect(() => processor({ tracing: 1 as never })).toThrow(/Expected `tracing` to be a boolean, got `1` \(number\)/);
  });
});

describe('with a tracer provider registered', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = trace.getTracer('app');

  beforeAll(() => provider.register({ propagator: new W3CTraceContextPropagator() }));
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
  });
  afterEach(() => exporter.reset());

  const named = (name: string) => exporter.getFinishedSpans().filter((span) => span.name === name);
  const ofTask = (id: string) => (span: ReadableSpan) => span.attributes['troupe.task.id'] === id;
  const traceparent = (span: ReadableSpan) => `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`;

  it('traces a retried task and a failed one in the trace active at submit, attempt by attempt', async () => {
    const tasks = processor();
    const [retried, failed] = tracer.startActiveSpan('request', (request) => {
      const ids: [string, string] = [
        tasks.submit({ id: 'retried', handler: 'traced', payload: { failFirst: true }, maxRetries: 1, priority: 2 }),
        tasks.submit({ id: 'failed', handler: 'alwaysFail', payload: null, maxRetries: 0 }),
      ];
      request.end();
      return ids;
    });
    expect(await tasks.result(retried)).toMatchObject({ status: 'done', attempts: 2 });
    expect(await tasks.result(failed)).toMatchObject({ status: 'failed', attempts: 1 });

    const [request] = named('request');
    const traceId = request?.spanContext().traceId;
    const taskSpans = named('troupe.task');
    const attemptSpans = named('troupe.attempt');
    expect(taskSpans).toHaveLength(2);
    expect(attemptSpans).toHaveLength(3);
    for (const span of [...taskSpans, ...attemptSpans]) expect(span.spanContext().traceId).toBe(traceId);

    const retriedTask = taskSpans.find(ofTask('retried')) as ReadableSpan;
    expect(retriedTask.parentSpanContext?.spanId).toBe(request?.spanContext().spanId);
    expect(retriedTask.attributes).toEqual({
      'troupe.task.id': 'retried',
      'troupe.task.handler': 'traced',
      'troupe.task.priority': 2,
      'troupe.task.attempt': 2,
      'troupe.task.status': 'done',
    });
    expect(retriedTask.status.code).not.toBe(2); // not ERROR: the task ended done
    const [first, second] = attemptSpans
      .filter(ofTask('retried'))
      .sort((a, b) => Number(a.attributes['troupe.task.attempt']) - Number(b.attributes['troupe.task.attempt']));
    for (const attempt of [first, second]) expect(attempt?.parentSpanContext?.spanId).toBe(retriedTask.spanContext().spanId);
    expect(first?.attributes).toMatchObject({
      'troupe.task.attempt': 1,
      'troupe.task.status': 'retrying',
      'troupe.task.handler': 'traced',
    });
    expect(first?.status).toEqual({ code: 2, message: expect.stringContaining('first attempt failed') });
    expect(first?.events.find((event) => event.name === 'exception')?.attributes).toMatchObject({
      'exception.type': 'Error',
      'exception.message': `first attempt failed under ${traceparent(first as ReadableSpan)}`,
    });
    expect(second?.attributes).toMatchObject({ 'troupe.task.attempt': 2, 'troupe.task.status': 'done' });
    expect(second?.status.code).toBe(0);
    // The handler saw its own attempt's span, as plain W3C strings.
    expect(await tasks.result(retried)).toMatchObject({
      value: { traceContext: { traceparent: traceparent(second as ReadableSpan) } },
    });

    const failedTask = taskSpans.find(ofTask('failed')) as ReadableSpan;
    expect(failedTask.parentSpanContext?.spanId).toBe(request?.spanContext().spanId);
    expect(failedTask.attributes).toMatchObject({ 'troupe.task.status': 'failed', 'troupe.task.attempt': 1 });
    expect(failedTask.status).toEqual({ code: 2, message: 'Always fails' });
    const [failedAttempt] = attemptSpans.filter(ofTask('failed'));
    expect(failedAttempt?.parentSpanContext?.spanId).toBe(failedTask.spanContext().spanId);
    expect(failedAttempt?.status.code).toBe(2);
    // Sent into the thread's window behind the other task, it also has the event of its start there.
    expect(failedAttempt?.events.map((event) => event.name)).toContain('exception');
  });

  it('says why a task was cancelled, on the task span and its running attempt', async () => {
    const tasks = processor();
    const started = nextEvent(tasks.events, 'task.started');
    const id = tasks.submit({ handler: 'waitForAbort', payload: null });
    await started;
    tasks.cancel(id, 'user left the page');
    expect(await tasks.result(id)).toMatchObject({ status: 'cancelled', reason: 'user left the page' });
    const [task] = named('troupe.task');
    expect(task?.attributes).toMatchObject({ 'troupe.task.status': 'cancelled', 'troupe.task.cancel_reason': 'user left the page' });
    expect(task?.events).toEqual([
      expect.objectContaining({ name: 'troupe.task.cancelled', attributes: { reason: 'user left the page' } }),
    ]);
    const [attempt] = named('troupe.attempt');
    expect(attempt?.attributes).toMatchObject({ 'troupe.task.status': 'cancelled' });
    // The task span, the root here (nothing was active at submit), holds the attempt's.
    expect(task?.parentSpanContext).toBeUndefined();
    expect(attempt?.parentSpanContext?.spanId).toBe(task?.spanContext().spanId);
  });

  it('makes no span and gives handlers no context with `tracing: false`', async () => {
    const tasks = processor({ tracing: false });
    const id = tracer.startActiveSpan('request', (request) => {
      const submitted = tasks.submit({ handler: 'traced', payload: {} });
      request.end();
      return submitted;
    });
    expect(await tasks.result(id)).toMatchObject({ status: 'done', value: { traceContext: undefined } });
    expect(exporter.getFinishedSpans().map((span) => span.name)).toEqual(['request']);
  });
});

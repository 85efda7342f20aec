// examples/tracing.ts
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

import { createProcessor } from '../src/index.js';

// The app's SDK, registered before anything is submitted. In production: a
// BatchSpanProcessor and an OTLP exporter; here the spans stay in memory to be printed.
const exporter = new InMemorySpanExporter();
new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).register();

const processor = createProcessor({
  handlers: new URL('./tracing-handlers.ts', import.meta.url),
  workers: 2,
  backoff: { delay: 5 },
});

// One request submits two tasks: a charge that is declined once, and a receipt that cannot be sent.
const charged = await trace.getTracer('shop').startActiveSpan('POST /orders/42', async (request) => {
  const charge = processor.submit({ id: 'charge-42', handler: 'charge', payload: { order: 42 } });
  const receipt = processor.submit({ id: 'receipt-42', handler: 'sendReceipt', payload: { order: 42 }, maxRetries: 0 });
  const [result] = await Promise.all([processor.result(charge), processor.result(receipt)]);
  request.end();
  return result;
});

// The trace, as a tree: Troupe's spans under the request that submitted the tasks.
const spans = exporter.getFinishedSpans();
const attribute = (span: ReadableSpan, name: string) => String(span.attributes[`troupe.task.${name}`]);
const byAttempt = (a: ReadableSpan, b: ReadableSpan) =>
  attribute(a, 'id').localeCompare(attribute(b, 'id')) || Number(attribute(a, 'attempt')) - Number(attribute(b, 'attempt'));
const childrenOf = (parent: ReadableSpan) =>
  spans.filter((span) => span.parentSpanContext?.spanId === parent.spanContext().spanId).sort(byAttempt);
const describe = (span: ReadableSpan) => {
  const what =
    span.name === 'troupe.task'
      ? `${attribute(span, 'id')}, ${attribute(span, 'attempt')} attempt(s)`
      : `attempt ${attribute(span, 'attempt')}`;
  const error = span.status.code === SpanStatusCode.ERROR ? `, ERROR ${span.status.message}` : '';
  return `${span.name} (${what}): ${attribute(span, 'status')}${error}`;
};
const print = (span: ReadableSpan, depth: number): void => {
  console.log(`${'  '.repeat(depth)}${depth === 0 ? span.name : describe(span)}`);
  for (const child of childrenOf(span)) print(child, depth + 1);
};
const request = spans.find((span) => span.name === 'POST /orders/42') as ReadableSpan;
print(request, 0);
const secondAttempt = spans.find((span) => span.name === 'troupe.attempt' && span.attributes['troupe.task.attempt'] === 2);
const value = charged.status === 'done' ? (charged.value as { spanId?: string }) : undefined;
console.log(`the charge's handler continued its attempt's span: ${value?.spanId === secondAttempt?.spanContext().spanId}`);

// The same tasks, counted: metrics see what the spans show one by one.
const { finished, retries } = processor.metrics();
console.log(`metrics: ${finished.done} done, ${finished.failed} failed, ${retries} retry`);

await processor.shutdown();

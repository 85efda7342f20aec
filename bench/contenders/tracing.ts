/**
 * What an app that traces registers before it creates its processor: the
 * OpenTelemetry SDK's `NodeTracerProvider` (with its AsyncLocalStorage
 * context manager and the W3C propagator), every span sampled and handed to
 * a `BatchSpanProcessor`, as in production. Its queue is large enough that
 * no span is dropped at Troupe's rate (the default 2,048 would drop most,
 * and flatter the result); the exporter drops them: the bench measures what
 * making the spans costs Troupe and the SDK, not a collector.
 */
import { ExportResultCode } from '@opentelemetry/core';
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

const discard: SpanExporter = {
  export(_spans: ReadableSpan[], done) {
    done({ code: ExportResultCode.SUCCESS });
  },
  shutdown: () => Promise.resolve(),
};

/** Registers a tracer provider (and its context manager and W3C propagator) for this process. */
export function registerTracerProvider(): void {
  const spans = new BatchSpanProcessor(discard, { maxQueueSize: 100_000, maxExportBatchSize: 1_000 });
  new NodeTracerProvider({ spanProcessors: [spans] }).register();
}

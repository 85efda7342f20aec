// examples/metrics.ts
import { createServer } from 'node:http';

import { createProcessor } from '../src/index.js';

const processor = createProcessor({
  handlers: new URL('./retries-handlers.ts', import.meta.url),
  workers: 2,
  backoff: { delay: 5 },
});

// Some work: 30 fetches that fail once before they succeed, 10 parses, one of them bad.
const ids = [
  ...Array.from({ length: 30 }, (_, n) => processor.submit({ handler: 'flaky', payload: { failures: 1 }, id: `fetch-${n}` })),
  ...Array.from({ length: 10 }, (_, n) => processor.submit({ handler: 'parse', payload: n === 3 ? 'oops' : '{}', maxRetries: 0 })),
];
await Promise.all(ids.map((id) => processor.result(id)));

const { finished, retries, throughput, runTime, queueWait } = processor.metrics();
console.log(`finished: ${finished.done} done, ${finished.failed} failed; ${retries} retries`);
console.log(`throughput: ${throughput.lastMinute} in the last minute`);
console.log(
  `run time measured: ${runTime.count} attempts, p50 ≤ p99 ≤ max: ${runTime.p50! <= runTime.p99! && runTime.p99! <= runTime.max!}`,
);
console.log(`queue wait measured: ${queueWait.count} times`);

// A /metrics endpoint for Prometheus, on loopback.
const server = createServer((_request, response) => {
  response.setHeader('content-type', processor.metricsRegistry.contentType);
  processor.prometheus().then(
    (text) => response.end(text),
    (error: unknown) => response.writeHead(500).end(String(error)),
  );
}).listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const { port } = server.address() as { port: number };
const scraped = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
for (const line of scraped.split('\n')) {
  if (/^troupe_(tasks_finished_total|task_retries_total|tasks_submitted_total)/.test(line)) console.log(line);
}

server.close();
await processor.shutdown();

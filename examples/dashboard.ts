// examples/dashboard.ts
import { createProcessor } from '../src/index.js';

const processor = createProcessor({
  handlers: new URL('./retries-handlers.ts', import.meta.url),
  workers: 2,
  backoff: { delay: 10 },
});

// Loopback only, unless `host` says otherwise: the dashboard has no authentication.
const dashboard = await processor.serveDashboard({ port: Number(process.env['PORT'] ?? 0) });
console.log(`dashboard at ${dashboard.url.replace(/:\d+\//, ':<port>/')}`);

// Some work to watch: fetches that fail once, and a parse that always fails.
const ids = Array.from({ length: 10 }, (_, n) => processor.submit({ id: `fetch-${n}`, handler: 'flaky', payload: { failures: 1 } }));
ids.push(processor.submit({ id: 'parse-bad', handler: 'parse', payload: 'not json', maxRetries: 0 }));
await Promise.all(ids.map((id) => processor.result(id)));

// What the page shows when the failed task is clicked, and what Prometheus scrapes.
const task = (await (await fetch(`${dashboard.url}task/parse-bad`)).json()) as { error: { name: string }; timeline: { state: string }[] };
console.log(`parse-bad: ${task.error.name}; ${task.timeline.map((step) => step.state).join(' → ')}`);
const metrics = await (await fetch(`${dashboard.url}metrics`)).text();
console.log(metrics.split('\n').find((line) => line.startsWith('troupe_tasks_finished_total{status="done"}')));

if (process.env['KEEP_OPEN']) console.log('open it in a browser; Ctrl-C to stop');
else {
  await dashboard.close();
  await processor.shutdown();
}

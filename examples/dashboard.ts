// examples/dashboard.ts
import { randomBytes } from 'node:crypto';

import { createProcessor } from '../src/index.js';

const processor = createProcessor({
  handlers: new URL('./retries-handlers.ts', import.meta.url),
  workers: 2,
  backoff: { delay: 10 },
});

// Loopback unless `host` says otherwise (and then a token is required). With the token, the page and the API can act.
const token = randomBytes(32).toString('base64url');
const dashboard = await processor.serveDashboard({ port: Number(process.env['PORT'] ?? 0), token });
const url = `${dashboard.url}#token=${token}`;
console.log(`dashboard at ${url.replace(/:\d+\//, ':<port>/').replace(token, '<token>')}`);

// Some work to watch: fetches that fail once, and a parse that always fails.
const ids = Array.from({ length: 10 }, (_, n) => processor.submit({ id: `fetch-${n}`, handler: 'flaky', payload: { failures: 1 } }));
ids.push(processor.submit({ id: 'parse-bad', handler: 'parse', payload: 'not json', maxRetries: 0 }));
await Promise.all(ids.map((id) => processor.result(id)));

// The API, as the page uses it: every request carries the token.
const api = async <T>(path: string, method = 'GET'): Promise<T> =>
  (await fetch(`${dashboard.url}api/${path}`, { method, headers: { authorization: `Bearer ${token}` } })).json() as Promise<T>;
const failed = await api<{ tasks: { id: string }[] }>('tasks?state=failed');
const task = await api<{ result: { error: { name: string } }; timeline: { state: string }[] }>('tasks/parse-bad');
console.log(`failed: ${failed.tasks.map(({ id }) => id).join(', ')}`);
console.log(`parse-bad: ${task.result.error.name}; ${task.timeline.map((step) => step.state).join(' → ')}`);

// Cancel a waiting export, then retry it: it runs again with its id, handler and payload.
processor.submit({ id: 'export', handler: 'slow', payload: { ms: 50 } });
await api('tasks/export/cancel', 'POST');
await api('tasks/export/retry', 'POST');
console.log(`export: ${(await processor.result('export')).status} after a cancel and a retry`);
// Without the token, nothing is shown and nothing changes.
console.log(`without the token: ${(await fetch(`${dashboard.url}api/tasks/parse-bad/retry`, { method: 'POST' })).status}`);

if (process.env['KEEP_OPEN']) console.log(`open ${url} in a browser; Ctrl-C to stop`);
else {
  await dashboard.close();
  await processor.shutdown();
}

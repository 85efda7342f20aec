// examples/distributed.ts
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

import { createProcessor, DuplicateTaskError, natsBroker } from '../src/index.js';

const servers = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
// A stream of this run's own, in memory; deleted at the end.
const stream = `demo_${process.pid}`;
const broker = natsBroker({ servers, stream, storage: 'memory' });

// Two worker nodes: in production, two processes on two machines with the same broker settings.
const handlers = new URL('./distributed-handlers.ts', import.meta.url);
const nodes = [1, 2].map(() => createProcessor({ handlers, workers: 1, backoff: { delay: 10 }, broker }));
// A pure client: it submits and reads results, and runs nothing.
const client = createProcessor({ workers: 0, broker });
await Promise.all([...nodes.map((node) => node.ready), client.ready]);

const images = { 'img-1': [1920, 1080], 'img-2': [1080, 1920], 'img-3': [4000, 3000], 'img-4': [640, 640] } as const;
for (const [id, [width, height]] of Object.entries(images)) client.submit({ id, handler: 'resize', payload: { width, height } });
// Fails on its first delivery; the retry goes back to the stream and may land on either node.
client.submit({ id: 'fetch-1', handler: 'fetchOriginal', payload: { url: 'https://example.com/a.jpg' } });
// Fails for good: the error keeps its name and code across the broker.
client.submit({ id: 'huge-1', handler: 'resize', payload: { width: 20_000, height: 20_000 }, maxRetries: 0 });

const ids = [...Object.keys(images), 'fetch-1', 'huge-1'].sort();
for (const id of ids) {
  const result = await client.result(id);
  const attempts = `after ${result.attempts} attempt${result.attempts === 1 ? '' : 's'}`;
  if (result.status === 'done') console.log(`${id}: done ${attempts}: ${String(result.value)}`);
  else if (result.status === 'failed') console.log(`${id}: failed ${attempts}: ${result.error.name} (${String(result.error.code)})`);
}

// The stream refuses an id it saw within its duplicate window, whichever process submits it.
await client.submitAsync({ id: 'img-1', handler: 'resize', payload: { width: 1, height: 1 } }).catch((error: unknown) => {
  if (error instanceof DuplicateTaskError) console.log(`img-1 again: refused, ${error.name}`);
});

// Any process reads any task's result: this node did not submit img-3.
const read = await nodes[0]!.result('img-3');
console.log(`img-3 read by a node: ${read.status === 'done' ? String(read.value) : read.status}`);

// Cancelling reaches the node that holds the task (or removes it from the stream).
await client.submitAsync({ id: 'wait-1', handler: 'wait', payload: null });
console.log(`wait-1: cancel requested: ${client.cancel('wait-1', 'no longer needed')}`);
const waited = await client.result('wait-1');
console.log(`wait-1: ${waited.status}${waited.status === 'cancelled' ? `, ${waited.reason}` : ''}`);

await Promise.all([client, ...nodes].map((processor) => processor.shutdown()));

const nc = await connect({ servers });
const jsm = await jetstreamManager(nc);
for (const name of [stream, `KV_${stream}-results`, `KV_${stream}-nodes`]) await jsm.streams.delete(name);
await nc.close();

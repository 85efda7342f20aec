/**
 * A worker node in a process of its own, for the failure tests: it reports
 * `ready`, then the ids it starts (batched), reports the batch not yet sent
 * and `flushed` on `flush`, and shuts down on `shutdown`.
 * Settings come from the environment: NATS_URL, STREAM, ACK_WAIT, CONCURRENCY.
 */
import { createProcessor, natsBroker } from '../../src/index.js';

const env = process.env;
const processor = createProcessor({
  handlers: new URL('../fixtures/handlers.ts', import.meta.url),
  workers: 1,
  concurrency: Number(env['CONCURRENCY'] ?? 8),
  broker: natsBroker({ servers: env['NATS_URL'], stream: env['STREAM'], ackWait: Number(env['ACK_WAIT'] ?? 30_000) }),
});

const started: string[] = [];
processor.events.subscribe((event) => {
  // Its own starts only: relayed events of the other nodes name their node.
  if (event.type !== 'task.started' || event.node !== undefined) return;
  if (started.length === 0) {
    setImmediate(() => {
      if (started.length > 0) process.send?.({ type: 'started', ids: started.splice(0) });
    });
  }
  started.push(event.id);
});

process.on('message', (message: { type: string }) => {
  // The starts batched for the next turn go first: IPC keeps the order, so a
  // test that asks after the results arrived sees every start before 'flushed'.
  if (message.type === 'flush') {
    process.send?.({ type: 'started', ids: started.splice(0) });
    process.send?.({ type: 'flushed' });
  }
  if (message.type === 'shutdown') void processor.shutdown().then(() => process.exit(0));
});

await processor.ready;
process.send?.({ type: 'ready', pid: process.pid });

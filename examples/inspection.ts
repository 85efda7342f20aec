// examples/inspection.ts
import { once } from 'node:events';

import { createWebSocketInspector, createWebSocketReceiver } from '@statelyai/inspect';
import { WebSocketServer } from 'ws';

import { createProcessor } from '../src/index.js';

// A relay on loopback, as `@statelyai/inspect/server` runs one (that one also
// serves a page embedding Stately's hosted inspector UI, which needs the
// internet, and listens on every interface).
const relay = new WebSocketServer({ host: '127.0.0.1', port: 0 });
await once(relay, 'listening');
relay.on('connection', (socket) => {
  socket.on('message', (data) => {
    for (const client of relay.clients) if (client !== socket) client.send((data as Buffer).toString());
  });
});
const url = `ws://127.0.0.1:${(relay.address() as { port: number }).port}`;

// What an inspector UI would receive, read back from the relay (connected
// first: this relay keeps no history).
const receiverConnected = once(relay, 'connection');
const receiver = createWebSocketReceiver({ server: url });
await receiverConnected;
const path: string[] = [];
const actors = new Set<string>();
const reportDone = new Promise<void>((resolve) => {
  receiver.subscribe((event) => {
    if (event.type === '@xstate.actor') actors.add(event.sessionId);
    if (event.type === '@xstate.snapshot' && event.sessionId === 'troupe.task.report') {
      // A queued task's value says where it waits: { queued: 'ready' }, shown as queued.ready.
      const value = (event.snapshot as unknown as { value: string | Record<string, string> }).value;
      const state = typeof value === 'string' ? value : Object.entries(value)[0]!.join('.');
      if (path.at(-1) !== state) path.push(state);
      if (state === 'done') resolve();
    }
  });
});

// The app: its processor reports to the inspector over the WebSocket.
const inspector = createWebSocketInspector({ url });
const processor = createProcessor({
  handlers: new URL('./retries-handlers.ts', import.meta.url),
  workers: 1,
  backoff: { delay: 0 },
  inspect: inspector.inspect,
});
await processor.result(processor.submit({ id: 'report', handler: 'flaky', payload: { failures: 1 } }));
await processor.shutdown();

// The events cross the relay on their own time: wait for the last one.
await reportDone;
console.log(`actors: ${[...actors].sort().join(', ')}`);
console.log(`report: ${path.join(' → ')}`);

inspector.stop();
for (const client of relay.clients) client.terminate();
relay.close();

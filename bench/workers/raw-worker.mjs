/**
 * The raw `worker_threads` baseline: the least a pool can do. A request is
 * `[seq, name, payload]` (or an array of them, for the batched variant); the
 * reply is `[seq, ok, valueOrMessage]` (or an array of them). No framework, no
 * error serialisation beyond the message.
 */
import { parentPort } from 'node:worker_threads';
import * as handlers from './handlers.mjs';

function runOne([seq, name, payload]) {
  try {
    return [seq, true, handlers[name](payload)];
  } catch (error) {
    return [seq, false, error instanceof Error ? error.message : String(error)];
  }
}

parentPort.on('message', (message) => {
  // A batch is an array of requests; a single request starts with its number.
  parentPort.postMessage(typeof message[0] === 'number' ? runOne(message) : message.map(runOne));
});

/**
 * A pure client in a process of its own: it submits COUNT tasks (ids
 * `<PREFIX><n>`) and reports `submitted` once the stream holds them all; the
 * test then kills it before it reads a single result.
 */
import { createProcessor, natsBroker } from '../../src/index.js';

const env = process.env;
const processor = createProcessor({ workers: 0, broker: natsBroker({ servers: env['NATS_URL'], stream: env['STREAM'] }) });
await processor.ready;
const count = Number(env['COUNT']);
await Promise.all(
  Array.from({ length: count }, (_, n) => processor.submitAsync({ id: `${env['PREFIX']}${n}`, handler: 'napAndTell', payload: { ms: 20 } })),
);
process.send?.({ type: 'submitted' });

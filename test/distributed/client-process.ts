/**
 * A pure client in a process of its own: it submits COUNT tasks (ids
 * `<PREFIX><n>`) with `submitAsync`, then reports `submitted` with the ids the
 * stream took from it and the errors of the ones it refused. The tests then
 * kill it, or ask it to wait for its results (`await`) and report them.
 */
import { createProcessor, natsBroker } from '../../src/index.js';

const env = process.env;
const processor = createProcessor({ workers: 0, broker: natsBroker({ servers: env['NATS_URL'], stream: env['STREAM'] }) });
await processor.ready;
const count = Number(env['COUNT']);
const ids = Array.from({ length: count }, (_, n) => `${env['PREFIX']}${n}`);
const outcomes = await Promise.allSettled(ids.map((id) => processor.submitAsync({ id, handler: 'napAndTell', payload: { ms: 20 } })));
const accepted = ids.filter((_, n) => outcomes[n]?.status === 'fulfilled');
const refused = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [(outcome.reason as Error).name] : []));
process.send?.({ type: 'submitted', accepted, refused });

process.on('message', (message: { type: string }) => {
  if (message.type !== 'await') return;
  void Promise.all(accepted.map((id) => processor.result(id))).then(async (results) => {
    process.send?.({ type: 'results', statuses: results.map((result) => result.status) });
    await processor.shutdown();
    process.exit(0);
  });
});

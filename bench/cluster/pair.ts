/**
 * A Troupe node and a pure client on one fresh NATS stream, in this (child)
 * process: what the broker scenarios submit to. Both are closed after the
 * measurement is reported, the client first (the node then has nothing left
 * to deliver to it), and the stream deleted.
 */
import type { NatsBrokerOptions, Processor, ProcessorOptions } from '../../src/index.js';
import { HANDLERS } from '../contenders/pool.js';
import { closeLater } from '../scenarios/open.js';

export async function openNodeAndClient(
  tag: string,
  node: Omit<ProcessorOptions, 'handlers' | 'broker'>,
  broker: Partial<NatsBrokerOptions> = {},
): Promise<Processor> {
  // Imported here: only a child of a broker scenario may load Troupe and the NATS client.
  const { createProcessor, natsBroker } = await import('../contenders/troupe.js');
  const { NATS_URL, deleteStreams, streamName } = await import('./nats.js');
  const stream = streamName(tag);
  const options = natsBroker({ servers: NATS_URL, stream, storage: 'memory', ackWait: 30_000, ...broker });
  const worker = createProcessor({ ...node, handlers: HANDLERS, broker: options });
  const client = createProcessor({ workers: 0, broker: options });
  closeLater({
    async close() {
      await client.shutdown();
      await worker.shutdown();
      await deleteStreams(stream);
    },
  });
  await Promise.all([worker.ready, client.ready]);
  return client;
}

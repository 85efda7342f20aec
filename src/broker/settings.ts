import type { NodeConnectionOptions } from '@nats-io/transport-node';

/** `natsBroker()`'s options, checked and filled in: what the session connects and sets JetStream up with. */
export interface NatsSettings {
  readonly servers: readonly string[];
  readonly stream: string;
  readonly ackWait: number;
  readonly resultTtl: number;
  readonly duplicateWindow: number;
  readonly prefetch: number | undefined;
  readonly storage: 'file' | 'memory';
  readonly replicas: number;
  readonly name: string | undefined;
  readonly connection: Omit<NodeConnectionOptions, 'servers'> | undefined;
}

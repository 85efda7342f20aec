import { deserialize } from 'node:v8';

import type { KvWatchEntry } from '@nats-io/kv';

import type { ClusterStatus, NodeBeat } from '../observe/status.js';
import { keyOf } from './codec.js';
import { NODE_BEAT } from './node-beat.js';
import type { BrokerSession } from './session.js';

/**
 * What this process knows of the cluster, for `getStatus().cluster`: the
 * nodes, from the beats in the nodes bucket (fed by the client's watch of
 * it), and the tasks in the stream, read from the consumers every beat.
 * Owned by the client; read-only to everyone else.
 */
export class ClusterView {
  readonly #nodes = new Map<string, NodeBeat>();
  #waiting = 0;
  #scheduled = 0;
  #delivered = 0;
  readonly #poll: NodeJS.Timeout;
  readonly #session: () => BrokerSession | undefined;

  /** `session`: the connected session, once there is one (the poll skips a beat before). */
  constructor(session: () => BrokerSession | undefined) {
    this.#session = session;
    this.#poll = setInterval(() => void this.poll(), NODE_BEAT);
    this.#poll.unref();
  }

  /** Updates the table of nodes from an entry of the nodes bucket: a node's beat, or its goodbye. */
  update(entry: KvWatchEntry): void {
    if (entry.operation === 'PUT') {
      const beat = deserialize(entry.value) as NodeBeat;
      this.#nodes.set(beat.node, beat);
    } else {
      for (const [node] of this.#nodes) if (keyOf(node) === entry.key) this.#nodes.delete(node);
    }
  }

  status(): ClusterStatus {
    const now = Date.now();
    // A node killed without a goodbye leaves its last beat: dropped once stale, so the table stays as big as the cluster.
    for (const [node, beat] of this.#nodes) if (now - beat.at >= 3 * NODE_BEAT) this.#nodes.delete(node);
    const nodes = [...this.#nodes.values()];
    return { scheduled: this.#scheduled, waiting: this.#waiting, delivered: this.#delivered, nodes };
  }

  /** Reads the stream's counts from the server; kept from the last poll while the server is away. */
  async poll(): Promise<void> {
    try {
      const session = this.#session();
      if (!session) return;
      // Read from the server: the consumer is the nodes' (it may not exist before the first node starts).
      const { stream } = session.config;
      const [info, scheduler] = await Promise.all([
        session.jsm.consumers.info(stream, session.durable),
        session.jsm.consumers.info(stream, session.schedulerDurable),
      ]);
      this.#waiting = info.num_pending;
      this.#delivered = info.num_ack_pending;
      this.#scheduled = scheduler.num_pending + scheduler.num_ack_pending;
    } catch {
      // Kept from the last poll while the server is away.
    }
  }

  close(): void {
    clearInterval(this.#poll);
  }
}

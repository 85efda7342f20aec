import type { NodeConnectionOptions } from '@nats-io/transport-node';

import type { BrokerOpening, OpenBroker } from '../backend.js';
import { InvalidOptionError } from '../errors/errors.js';
import { checkNumber, describe, nonNegativeInteger, optionalNumber, positiveInteger as positive } from '../util/validate.js';
import { BrokerBackend } from './backend.js';
import type { NatsSettings } from './settings.js';

/** How to reach NATS JetStream, and the names and settings of what Troupe creates there. */
export interface NatsBrokerOptions {
  /**
   * Server URLs, e.g. `nats://127.0.0.1:4222`; several for a cluster.
   * @defaultValue `process.env.NATS_URL ?? 'nats://127.0.0.1:4222'`
   */
  servers?: string | readonly string[];
  /**
   * The work-queue stream every node of one processor shares; also the prefix
   * of its consumer (`<stream>-workers`), its key-value buckets
   * (`<stream>-results`, `<stream>-nodes`) and its subjects (`<stream>.>`).
   * Letters, digits, `-` and `_`.
   * @defaultValue `'troupe'`
   */
  stream?: string;
  /**
   * How long a delivered task may go without word from its node (an ack, a
   * nak or an in-progress heartbeat, sent every third of it) before JetStream
   * delivers it again to another node, in ms. Only a dead or cut-off node
   * goes silent that long: long attempts are kept alive by the heartbeats.
   * @defaultValue 30_000
   */
  ackWait?: number;
  /**
   * How long results stay in the results bucket (its TTL), in ms: `result(id)`
   * works from any node this long after a task ends.
   * @defaultValue 86_400_000 (a day)
   */
  resultTtl?: number;
  /**
   * The stream's duplicate window, in ms: a task id submitted again within it
   * is refused with `DuplicateTaskError`, whichever process submits it.
   * At most `resultTtl`.
   * @defaultValue 120_000
   */
  duplicateWindow?: number;
  /**
   * Tasks a node holds beyond what its threads run at once (waiting for a
   * free slot), as the processor's `window` does for a thread. More keeps
   * threads busy between pulls (short tasks need it: a pull is a round trip
   * to the server); fewer leaves more for other nodes (0: a node takes only
   * what it can start at once, the fairest split for long tasks).
   * @defaultValue `workers × window` (the processor's `window`, 16 by default with a broker)
   */
  prefetch?: number;
  /**
   * `file` keeps tasks and results across a server restart; `memory` does
   * not. Applies when Troupe creates the stream and buckets.
   * @defaultValue 'file'
   */
  storage?: 'file' | 'memory';
  /** Copies of the stream and buckets in a JetStream cluster. @defaultValue 1 */
  replicas?: number;
  /** This node's name in `getStatus().cluster.nodes`. @defaultValue `<hostname>-<pid>-<n>` */
  name?: string;
  /**
   * Passed on to the NATS client's `connect`: authentication (`user` and
   * `pass`, `token`, `authenticator` for NKeys and JWTs), `tls`, timeouts.
   * Troupe's own settings (reconnect for as long as the process runs) apply
   * unless these override them.
   *
   * @example
   * ```ts
   * natsBroker({ servers: 'tls://nats.internal:4222', connection: { user: 'troupe', pass: process.env.NATS_PASS, tls: {} } });
   * ```
   */
  connection?: Omit<NodeConnectionOptions, 'servers'>;
}

/**
 * A validated broker configuration: pass it as `createProcessor({ broker })`.
 * Its settings are `natsBroker()`'s options filled in; `open` is how the
 * processor opens it (a `BrokerBackend`, whose NATS client loads only then).
 */
export interface NatsBroker extends NatsSettings, OpenBroker {
  readonly kind: 'nats';
}

/** Where a broker connects when neither `servers` nor `NATS_URL` says. */
export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

const NAME = /^[A-Za-z0-9_-]+$/;

function positiveInteger(option: string, value: unknown, fallback: number): number {
  return optionalNumber(`broker.${option}`, value, fallback, positive);
}

/**
 * Runs a processor's queue, results and status on NATS JetStream, so that
 * any number of processes on any number of machines share the work: each
 * `createProcessor({ broker })` with the same `stream` is a node; one with
 * `workers: 0` only submits and reads results. Throws `InvalidOptionError`
 * for bad options; connecting happens in `createProcessor` (`ready` rejects
 * if the server cannot be reached).
 *
 * @example
 * ```ts
 * import { createProcessor, natsBroker } from 'troupe';
 *
 * const processor = createProcessor({
 *   handlers: new URL('./handlers.js', import.meta.url),
 *   broker: natsBroker({ servers: 'nats://127.0.0.1:4222', stream: 'thumbnails' }),
 * });
 * await processor.ready;
 * const id = await processor.submitAsync({ id: 'img-1', payload: { url } });
 * console.log(await processor.result(id)); // from whichever node ran it
 * ```
 */
export function natsBroker(options: NatsBrokerOptions = {}): NatsBroker {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('broker', `Expected broker options to be an object, got ${describe(options)}`);
  }
  const servers = options.servers ?? process.env['NATS_URL'] ?? DEFAULT_NATS_URL;
  const list: readonly unknown[] = typeof servers === 'string' ? servers.split(',') : servers;
  if (!Array.isArray(list) || list.length === 0 || list.some((server) => typeof server !== 'string' || server.trim() === '')) {
    throw new InvalidOptionError('broker.servers', `Expected \`broker.servers\` to be a URL or a list of URLs, got ${describe(servers)}`);
  }
  const stream = options.stream ?? 'troupe';
  if (typeof stream !== 'string' || !NAME.test(stream)) {
    throw new InvalidOptionError('broker.stream', `Expected \`broker.stream\` to be letters, digits, - and _, got ${describe(stream)}`);
  }
  const resultTtl = positiveInteger('resultTtl', options.resultTtl, 86_400_000);
  const duplicateWindow = positiveInteger('duplicateWindow', options.duplicateWindow, Math.min(120_000, resultTtl));
  if (duplicateWindow > resultTtl) {
    throw new InvalidOptionError(
      'broker.duplicateWindow',
      `Expected \`broker.duplicateWindow\` (${duplicateWindow}) to be at most \`broker.resultTtl\` (${resultTtl})`,
    );
  }
  const storage = options.storage ?? 'file';
  if (storage !== 'file' && storage !== 'memory') {
    throw new InvalidOptionError('broker.storage', `Expected \`broker.storage\` to be 'file' or 'memory', got ${describe(storage)}`);
  }
  const name = options.name;
  if (name !== undefined && (typeof name !== 'string' || name.length === 0)) {
    throw new InvalidOptionError('broker.name', `Expected \`broker.name\` to be a non-empty string, got ${describe(name)}`);
  }
  const prefetch = options.prefetch === undefined ? undefined : checkNumber('broker.prefetch', options.prefetch, nonNegativeInteger);
  const connection = options.connection;
  if (connection !== undefined && (typeof connection !== 'object' || connection === null || 'servers' in connection)) {
    throw new InvalidOptionError(
      'broker.connection',
      `Expected \`broker.connection\` to be the NATS client's connect options without \`servers\` (set \`servers\` itself), got ${describe(connection)}`,
    );
  }
  const broker: NatsBroker = Object.freeze({
    kind: 'nats' as const,
    servers: Object.freeze((list as readonly string[]).map((server) => server.trim())),
    stream,
    ackWait: positiveInteger('ackWait', options.ackWait, 30_000),
    resultTtl,
    duplicateWindow,
    prefetch,
    storage,
    replicas: positiveInteger('replicas', options.replicas, 1),
    name,
    connection,
    open: (opening: BrokerOpening) => new BrokerBackend(broker, opening),
  });
  return broker;
}

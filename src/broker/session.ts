import { hostname } from 'node:os';

import {
  AckPolicy,
  type Consumer,
  type ConsumerConfig,
  DeliverPolicy,
  jetstream,
  type JetStreamClient,
  type JetStreamManager,
  jetstreamManager,
  PubHeaders,
  RetentionPolicy,
  StorageType,
  type StoredMsg,
  type StreamConfig,
} from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import { connect, headers, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';

import { BrokerError } from '../errors/errors.js';
import { keyOf } from './codec.js';
import { NODE_BEAT } from './node-beat.js';
import { JetStreamPublisher } from './publisher.js';
import type { NatsSettings } from './settings.js';

const nanos = (ms: number) => ms * 1_000_000;
/** How long a publish waits for the stream's acknowledgement before it counts as failed (and is tried again). */
const PUBLISH_TIMEOUT = 5_000;
let sessions = 0;

/**
 * One connection to NATS and the JetStream objects a processor uses, created
 * if missing (and updated where their settings changed): the work-queue
 * stream `<stream>` on `<stream>.tasks.>` (ready tasks) and
 * `<stream>.delayed.>` (tasks with a delayed start), with the durable pull
 * consumers `<stream>-workers` and `<stream>-scheduler`, and the key-value buckets `<stream>-results` (TTL:
 * `resultTtl`) and `<stream>-nodes`.
 */
export class BrokerSession {
  readonly node: string;
  readonly config: NatsSettings;
  readonly #isNode: boolean;
  /** Publishes tasks and results (see `publisher.ts`). */
  readonly publisher: JetStreamPublisher;
  /**
   * Headers that make a publish to a key's subject store only if the key
   * holds nothing: what the bucket's `create` sends. Built once: a publish
   * only reads them, and building them costs more than the publish.
   */
  readonly createOnly: MsgHdrs = headers();

  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    /** Only on a node: a pure client never creates or changes the consumer, whose settings are the nodes'. */
    readonly consumer: Consumer | undefined,
    /** Only on a node: moves delayed tasks to the ready subjects when they are due. */
    readonly scheduler: Consumer | undefined,
    readonly results: KV,
    readonly nodes: KV,
    config: NatsSettings,
    node: boolean,
  ) {
    this.config = config;
    this.#isNode = node;
    this.publisher = new JetStreamPublisher(nc, PUBLISH_TIMEOUT, config.connection?.inboxPrefix);
    this.createOnly.set(PubHeaders.ExpectedLastSubjectSequenceHdr, '0');
    this.node = config.name ?? `${hostname()}-${process.pid}-${++sessions}`;
  }

  static async open(config: NatsSettings, node: boolean): Promise<BrokerSession> {
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: [...config.servers],
        name: `troupe:${config.stream}`,
        // A node outlives server restarts: it reconnects for as long as it runs.
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        // Without it the client builds two errors with stack traces per
        // request, in case it fails: 14% of a node's CPU in a profile.
        noAsyncTraces: true,
        ...config.connection,
      });
    } catch (error) {
      throw new BrokerError(`Could not connect to NATS at ${config.servers.join(', ')}`, { cause: error });
    }
    try {
      const jsm = await jetstreamManager(nc);
      const js = jetstream(nc);
      const { consumer, scheduler, results, nodes } = await provision(jsm, js, new Kvm(nc), config, node);
      return new BrokerSession(nc, js, jsm, consumer, scheduler, results, nodes, config, node);
    } catch (error) {
      await nc.close().catch(() => {});
      throw new BrokerError(`Could not set up JetStream stream \`${config.stream}\` (is JetStream enabled on the server?)`, {
        cause: error,
      });
    }
  }

  #restoring: Promise<void> | undefined;
  #restoredAt = 0;

  /**
   * Creates again whatever of the stream, consumers and buckets is missing
   * (a server without file storage restarted, or someone deleted them), so
   * new work flows again. At most one at a time, and one every 2 s: callers
   * call it on every failure they see.
   */
  restore(): Promise<void> {
    if (this.#restoring) return this.#restoring;
    if (Date.now() - this.#restoredAt < 2_000 || this.nc.isClosed()) return Promise.resolve();
    this.#restoredAt = Date.now();
    this.#restoring = provision(this.jsm, this.js, new Kvm(this.nc), this.config, this.#isNode)
      .then(
        () => {},
        () => {},
      )
      .finally(() => (this.#restoring = undefined));
    return this.#restoring;
  }

  get durable(): string {
    return workersDurable(this.config.stream);
  }

  get schedulerDurable(): string {
    return schedulerDurable(this.config.stream);
  }

  /** NATS headers holding `entries` (a task's trace context; see `trace-headers.ts`); undefined for none. */
  headersOf(entries: Readonly<Record<string, string>> | undefined): MsgHdrs | undefined {
    if (!entries) return undefined;
    const made = headers();
    for (const [key, value] of Object.entries(entries)) made.set(key, value);
    return made;
  }

  /**
   * A task's headers: its id as message id (the stream's duplicate window
   * refuses it again), and its trace context. The id goes as its key: a
   * header value may not hold a line break, and the client trims it, so
   * `a` and ` a` would have shared one message id (the second joining a
   * task that never ends).
   */
  taskHeaders(id: string, trace: Readonly<Record<string, string>> | undefined): MsgHdrs {
    const made = this.headersOf(trace) ?? headers();
    made.set(PubHeaders.MsgIdHdr, keyOf(id));
    return made;
  }

  /** Where the results bucket (`<stream>-results`, see `provision`) keeps `id`'s result: a publish here with `createOnly` headers is the bucket's `create`. */
  resultSubject(id: string): string {
    return `$KV.${this.config.stream}-results.${keyOf(id)}`;
  }

  /** Where a ready task waits. */
  subject(id: string): string {
    return `${this.config.stream}.tasks.${keyOf(id)}`;
  }

  /** Where a task with a delayed start waits until it is due. */
  delayedSubject(id: string): string {
    return `${this.config.stream}.delayed.${keyOf(id)}`;
  }

  /** The task's message in the stream, ready or delayed; null once it has left (ended, or never there). */
  async pending(id: string): Promise<StoredMsg | null> {
    const { stream } = this.config;
    // Delayed first: a node moves a due task by publishing it ready before it
    // acks the delayed one, so in this order a moving task is always seen.
    return (
      (await this.jsm.streams.getMessage(stream, { last_by_subj: this.delayedSubject(id) })) ??
      (await this.jsm.streams.getMessage(stream, { last_by_subj: this.subject(id) }))
    );
  }

  get cancelSubject(): string {
    return `${this.config.stream}.cancel`;
  }

  /** Where a node relays its task events: one subject per node, so a process skips its own without decoding them. */
  eventsSubject(node: string): string {
    return `${this.config.stream}.events.${keyOf(node)}`;
  }

  get allEventsSubject(): string {
    return `${this.config.stream}.events.*`;
  }

  async close(): Promise<void> {
    await this.nc.drain().catch(() => this.nc.close());
    this.publisher.close();
  }
}

async function ensureConsumer(
  jsm: JetStreamManager,
  js: JetStreamClient,
  stream: string,
  config: Partial<ConsumerConfig> & { durable_name: string },
): Promise<Consumer> {
  try {
    await jsm.consumers.add(stream, config);
  } catch {
    await jsm.consumers.update(stream, config.durable_name, config);
  }
  return js.consumers.get(stream, config.durable_name);
}

const workersDurable = (stream: string) => `${stream}-workers`;
const schedulerDurable = (stream: string) => `${stream}-scheduler`;

/** The stream, its consumers (on a node) and the buckets: added, or brought to these settings. */
async function provision(jsm: JetStreamManager, js: JetStreamClient, kvm: Kvm, config: NatsSettings, node: boolean) {
  const { stream } = config;
  const storage = config.storage === 'file' ? StorageType.File : StorageType.Memory;
  await ensureStream(jsm, {
    name: stream,
    subjects: [`${stream}.tasks.>`, `${stream}.delayed.>`],
    retention: RetentionPolicy.Workqueue,
    storage,
    num_replicas: config.replicas,
    duplicate_window: nanos(config.duplicateWindow),
  });
  const consumerConfig = {
    durable_name: workersDurable(stream),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(config.ackWait),
    // Retries are counted by Troupe from the delivery count and end with
    // `term`: the server's own limit would leave an exhausted task stuck.
    max_deliver: -1,
    // Tasks waiting on a nak delay count as pending: room for many.
    max_ack_pending: 1_000_000,
    filter_subject: `${stream}.tasks.>`,
  };
  let consumer: Consumer | undefined;
  let scheduler: Consumer | undefined;
  if (node) {
    consumer = await ensureConsumer(jsm, js, stream, consumerConfig);
    // Delayed tasks wait here on nak delays, apart from the workers' consumer, so
    // waiting never counts as a delivery of the task itself.
    scheduler = await ensureConsumer(jsm, js, stream, {
      ...consumerConfig,
      durable_name: schedulerDurable(stream),
      filter_subject: `${stream}.delayed.>`,
    });
  }
  const results = await kvm.create(`${stream}-results`, { ttl: config.resultTtl, history: 1, storage, replicas: config.replicas });
  const nodes = await kvm.create(`${stream}-nodes`, {
    ttl: NODE_BEAT * 10,
    history: 1,
    storage: StorageType.Memory,
    replicas: config.replicas,
  });
  return { consumer, scheduler, results, nodes };
}

/** Adds the stream, or brings an existing one to these settings (adding one that differs is an error). */
async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  try {
    await jsm.streams.add(config);
  } catch {
    await jsm.streams.update(config.name, config);
  }
}

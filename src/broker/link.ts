/**
 * broker/: everything NATS JetStream. The link (this file) ties a processor
 * to its broker; the client (client.ts) submits and reads results in every
 * process; the node (node.ts) pulls tasks for this process's threads; the
 * session, codec, options and store-once write are theirs. The NATS client
 * is loaded only when a broker is configured.
 */
import type { ResolvedOptions } from '../options/types.js';
import type { RemoteTaskHooks, ShutdownOutcome, Supervisor } from '../supervisor/supervisor.js';
import { handedBack } from '../task/results.js';
import type { TaskResult } from '../task/types.js';
import { BrokerClient } from './client.js';
import { BrokerNode } from './node.js';
import type { NatsBroker } from './options.js';
import type { BrokerSession } from './session.js';

/**
 * A processor's tie to its broker: the connection (opened at once, in the
 * background), the client every process has, and the node side when this
 * process runs workers. It starts pulling only once the threads are up, and
 * shuts down in the order that loses nothing: stop pulling, let the
 * supervisor finish what runs and give back what waits, store the last
 * results, then close.
 */
export class BrokerLink {
  readonly client: BrokerClient;
  /** Where the supervisor gives back the broker's tasks: the node, once it exists (tasks arrive only through it). */
  readonly hooks: RemoteTaskHooks = {
    retry: (id, delay) => this.#node?.retry(id, delay),
    finished: (result: TaskResult) => this.#node?.finished(result),
    returned: (id) => this.#node?.returned(id),
  };
  readonly #opened: Promise<BrokerSession>;
  readonly #options: ResolvedOptions;
  #node: BrokerNode | undefined;
  #supervisor: Supervisor | undefined;
  #failed: unknown;

  constructor(config: NatsBroker, options: ResolvedOptions) {
    this.#options = options;
    // Loaded only here: a processor without a broker never loads the NATS client.
    this.#opened = import('./session.js').then(({ BrokerSession }) => BrokerSession.open(config, options.workers > 0));
    this.#opened.catch((error: unknown) => (this.#failed = error));
    this.client = new BrokerClient(this.#opened, options.retention, options.tracing);
  }

  /** Set when the broker could not be reached: submits are refused with it. */
  get error(): unknown {
    return this.#failed;
  }

  /** Ties the link to the processor's supervisor; resolves when connected and, on a node, pulling. */
  attach(supervisor: Supervisor): Promise<void> {
    this.#supervisor = supervisor;
    const ready = (async () => {
      const session = await this.#opened;
      await this.client.start();
      const { workers, concurrency, window } = this.#options;
      if (workers === 0) return;
      // This node's own events tell the client of the tasks it submitted and runs here.
      supervisor.events.subscribe((event) => this.client.note(event));
      await supervisor.ready.promise;
      if (supervisor.phase !== 'running') return;
      this.#node = new BrokerNode(session, supervisor, workers * concurrency, workers * window, workers, this.#options.tracing);
      this.#node.start();
    })();
    ready.catch((error: unknown) => (this.#failed ??= error));
    return ready;
  }

  /** The node's threads were scaled: it holds deliveries for as many. */
  resized(workers: number): void {
    const { concurrency, window } = this.#options;
    this.#node?.resized(workers, { slots: concurrency, prefetch: window });
  }

  /** `shutdown` in broker mode; what it hands back are the tasks whose publish never completed. */
  async shutdown(timeout: number, drain: boolean): Promise<ShutdownOutcome> {
    const supervisor = this.#supervisor as Supervisor;
    this.#node?.stopPulling();
    supervisor.send({ type: 'shutdown', timeout, drain });
    const outcome = await supervisor.stopped.promise;
    await this.#node?.close();
    const unpublished = await this.client.close(timeout);
    await this.#opened.then(
      (session) => session.close(),
      () => {},
    );
    const never = unpublished.map((task) => handedBack(task, task.payload, undefined, task.runAt));
    return { unfinished: [...outcome.unfinished, ...never], actors: outcome.actors };
  }
}

/**
 * broker/: everything NATS JetStream. The backend (this file) is what a
 * processor with a broker calls; the client (client.ts) submits and reads
 * results in every process; the node (node.ts) pulls tasks for this
 * process's threads; the session, codec, options and store-once write are
 * theirs. The NATS client is loaded only when a broker is configured.
 */
import type { Observable } from 'rxjs';

import type { ActorRef } from '../actors/actor-ref.js';
import type { VirtualActorRef } from '../actors/virtual-ref.js';
import type { Backend, BrokerOpening } from '../backend.js';
import { BrokerError, DuplicateTaskError, InvalidActorError, QueueFullError } from '../errors/errors.js';
import type { ProcessorEvent } from '../observe/events.js';
import { rx } from '../observe/rx.js';
import type { ProcessorStatus } from '../observe/status.js';
import type { ResolvedOptions } from '../options/types.js';
import type { RemoteTaskHooks, ShutdownOutcome, Supervisor } from '../supervisor/supervisor.js';
import type { NormalizedTask } from '../task/normalize.js';
import { handedBack, resultInfo } from '../task/results.js';
import type { FailedResult, TaskInfo, TaskResult } from '../task/types.js';
import { BrokerClient } from './client.js';
import { BrokerNode } from './node.js';
import type { BrokerSession } from './session.js';
import type { NatsSettings } from './settings.js';

/**
 * A processor over a broker: tasks are submitted to the stream, results and
 * cancels go through it, and any process's task can be waited on. The
 * connection opens at once, in the background. This process's threads (a
 * node's) are a local backend it keeps: it starts pulling for them only once
 * they are up, merges their events, tasks and failures with the client's,
 * and shuts down in the order that loses nothing: stop pulling, let the
 * supervisor finish what runs and give back what waits, store the last
 * results, then close.
 */
export class BrokerBackend implements Backend {
  readonly supervisor: Supervisor;
  readonly ready: Promise<void>;
  readonly #client: BrokerClient;
  /** This process's threads. */
  readonly #local: Backend;
  /** Where the supervisor gives back the broker's tasks: the node, once it exists (tasks arrive only through it). */
  readonly #remote: RemoteTaskHooks = {
    retry: (id, delay) => this.#node?.retry(id, delay),
    finished: (result: TaskResult) => this.#node?.finished(result),
    returned: (id) => this.#node?.returned(id),
  };
  readonly #opened: Promise<BrokerSession>;
  readonly #options: ResolvedOptions;
  #node: BrokerNode | undefined;
  /** Set when the broker could not be reached: submits are refused with it. */
  #failed: unknown;

  /** Made by a `natsBroker()`'s `open`, once, in the processor's constructor. */
  constructor(config: NatsSettings, { options, local }: BrokerOpening) {
    this.#options = options;
    // Loaded only here: a processor without a broker never loads the NATS client.
    this.#opened = import('./session.js').then(({ BrokerSession }) => BrokerSession.open(config, options.workers > 0));
    this.#opened.catch((error: unknown) => (this.#failed = error));
    this.#client = new BrokerClient(this.#opened, options.retention, options.tracing);
    this.#local = local(this.#remote);
    this.supervisor = this.#local.supervisor;
    this.ready = this.#attach();
  }

  /** Resolves when connected and, on a node, pulling. */
  #attach(): Promise<void> {
    const { supervisor } = this;
    const ready = (async () => {
      const session = await this.#opened;
      await this.#client.start();
      const { workers, concurrency, window, tracing } = this.#options;
      if (workers === 0) return;
      // This node's own events tell the client of the tasks it submitted and runs here.
      supervisor.events.subscribe((event) => this.#client.note(event));
      await supervisor.ready.promise;
      if (!supervisor.lifecycle.running) return;
      this.#node = new BrokerNode(session, supervisor, workers * concurrency, workers * window, workers, tracing);
      this.#node.start();
    })();
    ready.catch((error: unknown) => (this.#failed ??= error));
    return ready;
  }

  /** Tasks this process submitted that have not ended: this process cannot tell waiting from running elsewhere. */
  get waiting(): number {
    return this.#client.unfinished;
  }

  get unfinished(): number {
    return this.#client.unfinished;
  }

  until(holds: () => boolean): Promise<void> {
    return this.#client.until(holds);
  }

  events(): Observable<ProcessorEvent> {
    return rx().merge(this.#local.events(), this.#client.events);
  }

  submit(task: NormalizedTask): void {
    this.#check(task.id);
    // The broker answers later: a duplicate it finds joins the task that holds the id.
    this.#client.submit(task, false).catch(() => {});
  }

  async submitAsync(task: NormalizedTask): Promise<void> {
    this.#check(task.id);
    await this.#client.submit(task, true);
  }

  /** What a submit refuses at once: a broker that could not be reached, an id this process has unfinished, a full queue. */
  #check(id: string): void {
    const failed = this.#failed;
    if (failed !== undefined) {
      throw failed instanceof BrokerError ? failed : new BrokerError('The broker could not be reached', { cause: failed });
    }
    if (this.#client.has(id)) throw new DuplicateTaskError(id);
    const { maxQueue } = this.#options;
    if (this.#client.unfinished >= maxQueue) throw new QueueFullError(maxQueue);
  }

  result(id: string): Promise<TaskResult> {
    return this.#client.result(id);
  }

  getResult(id: string): TaskResult | undefined {
    return this.#client.getResult(id) ?? this.#local.getResult(id);
  }

  /** This node's own tasks first; then a task this process submitted, as its events tell, or its retained result. */
  getTask(id: string): TaskInfo | undefined {
    const local = this.#local.getTask(id);
    if (local) return local;
    const result = this.#client.getResult(id);
    return this.#client.taskInfo(id) ?? (result && resultInfo(result));
  }

  /** Which node holds it, if any, only that node knows: the cancelled result is stored, then every node is told. */
  cancel(id: string, reason: string): boolean {
    if (!this.#client.has(id) && this.#client.getResult(id) !== undefined) return false;
    this.#client.cancel(id, reason);
    return true;
  }

  getFailedTasks(): Map<string, FailedResult> {
    const failed = this.#local.getFailedTasks();
    for (const [id, result] of this.#client.getFailedTasks()) failed.set(id, result);
    return failed;
  }

  clearResults(): void {
    this.#local.clearResults();
    this.#client.clearResults();
  }

  status(): ProcessorStatus {
    return { ...this.#local.status(), cluster: this.#client.cluster() };
  }

  actorOf(): VirtualActorRef {
    // Over NATS, one activation per key across the cluster needs claims fenced in the broker (docs/actors.md).
    throw new InvalidActorError(
      'Virtual actors run in one process for now: actorOf is not available with a broker yet (see docs/actors.md)',
    );
  }

  async spawn(): Promise<ActorRef> {
    throw new InvalidActorError('Actors run on the threads of one process: spawn is not available with a broker (see docs/actors.md)');
  }

  /** The node's threads were scaled: it holds deliveries for as many. */
  resize(workers: number): void {
    this.#local.resize(workers);
    const { concurrency, window } = this.#options;
    this.#node?.resized(workers, { slots: concurrency, prefetch: window });
  }

  /** What it hands back beside the supervisor's are the tasks whose publish never completed. */
  async shutdown(timeout: number, drain: boolean): Promise<ShutdownOutcome> {
    this.#node?.stopPulling();
    const outcome = await this.#local.shutdown(timeout, drain);
    await this.#node?.close();
    const unpublished = await this.#client.close(timeout);
    await this.#opened.then(
      (session) => session.close(),
      () => {},
    );
    const never = unpublished.map((task) => handedBack(task, task.payload, undefined, task.runAt));
    return { unfinished: [...outcome.unfinished, ...never], actors: outcome.actors };
  }
}

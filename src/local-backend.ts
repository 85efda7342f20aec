import type { Observable } from 'rxjs';

import type { ActorRef } from './actors/actor-ref.js';
import { checkSpawn } from './actors/spawn-options.js';
import type { SpawnOptions } from './actors/types.js';
import type { RestartOn } from './actors/types.js';
import type { VirtualActorRef } from './actors/virtual-ref.js';
import type { Backend } from './backend.js';
import { DuplicateTaskError, QueueFullError, UnknownTaskError } from './errors/errors.js';
import type { ProcessorEvent } from './observe/events.js';
import { observableOf } from './observe/rx.js';
import type { ProcessorStatus } from './observe/status.js';
import { traceTask } from './observe/tracing.js';
import type { ResolvedOptions } from './options/types.js';
import { openStore } from './store/open.js';
import { type RemoteTaskHooks, type ShutdownOutcome, Supervisor } from './supervisor/supervisor.js';
import type { NormalizedTask } from './task/normalize.js';
import type { FailedResult, TaskInfo, TaskResult } from './task/types.js';

/**
 * Every task in this process: the supervisor holds it from `submit` to its
 * result, with a store on disk too. A broker's backend keeps one of these
 * for the threads of its node (`remote`: where the broker's tasks go when
 * they leave them).
 */
export class LocalBackend implements Backend {
  readonly supervisor: Supervisor;
  readonly ready: Promise<void>;
  readonly #options: ResolvedOptions;

  constructor(options: ResolvedOptions, remote?: RemoteTaskHooks) {
    this.#options = options;
    this.supervisor = new Supervisor(options, remote, options.store && openStore(options.store, options.retention));
    this.ready = this.supervisor.ready.promise;
  }

  get waiting(): number {
    return this.supervisor.tasks.waiting;
  }

  get unfinished(): number {
    return this.supervisor.tasks.unfinished;
  }

  until(holds: () => boolean): Promise<void> {
    return this.supervisor.until(holds);
  }

  events(): Observable<ProcessorEvent> {
    return observableOf(this.supervisor.events);
  }

  submit(task: NormalizedTask): void {
    const { tasks } = this.supervisor;
    if (tasks.has(task.id)) throw new DuplicateTaskError(task.id);
    const { maxQueue, tracing } = this.#options;
    if (tasks.waiting >= maxQueue) throw new QueueFullError(maxQueue);
    // The one check per task when nobody traces: `traceTask` finds no tracer provider.
    this.supervisor.send({ type: 'task.submit', task, trace: tracing ? traceTask(task) : undefined });
  }

  async submitAsync(task: NormalizedTask): Promise<void> {
    this.submit(task);
    // With a store: on disk before it resolves.
    await this.supervisor.committed();
  }

  result(id: string): Promise<TaskResult> {
    return this.supervisor.tasks.result(id) ?? Promise.reject(new UnknownTaskError(id));
  }

  getResult(id: string): TaskResult | undefined {
    return this.supervisor.tasks.getResult(id);
  }

  getTask(id: string): TaskInfo | undefined {
    return this.supervisor.tasks.getTask(id);
  }

  cancel(id: string, reason: string): boolean {
    if (!this.supervisor.tasks.has(id)) return false;
    this.supervisor.send({ type: 'task.cancel', id, reason });
    return true;
  }

  getFailedTasks(): Map<string, FailedResult> {
    return this.supervisor.tasks.getFailedTasks();
  }

  clearResults(): void {
    this.supervisor.send({ type: 'results.clear' });
  }

  status(): ProcessorStatus {
    const { supervisor } = this;
    const { lifecycle } = supervisor;
    return {
      workers: supervisor.threads.size,
      ...supervisor.tasks.counts(),
      shutdown: lifecycle.shuttingDown,
      state: lifecycle.phase,
    };
  }

  spawn(logic: string, options: SpawnOptions): Promise<ActorRef> {
    const { id, input, snapshot, restart } = checkSpawn(logic, options);
    return new Promise((resolve, reject) =>
      this.supervisor.send({ type: 'actor.spawn', id, logic, input, snapshot, restart, reply: { resolve, reject } }),
    );
  }

  actorOf(logic: string, key: string, input: unknown, restart: RestartOn): VirtualActorRef {
    return this.supervisor.virtualActors.ref(logic, key, input, restart);
  }

  resize(workers: number): void {
    this.supervisor.send({ type: 'pool.resize', workers });
  }

  shutdown(timeout: number, drain: boolean): Promise<ShutdownOutcome> {
    const stopped = this.supervisor.stopped.promise;
    this.supervisor.send({ type: 'shutdown', timeout, drain });
    return stopped;
  }
}

/**
 * The seam between the facade and what runs its tasks. A processor picks
 * one backend in its constructor, the local one (local-backend.ts) or a
 * broker's (broker/backend.ts), and calls only this interface: no public
 * method asks which one it has.
 */
import type { Observable } from 'rxjs';

import type { ActorRef } from './actors/actor-ref.js';
import type { RestartOn, SpawnOptions } from './actors/types.js';
import type { VirtualActorRef } from './actors/virtual-ref.js';
import type { ProcessorEvent } from './observe/events.js';
import type { ProcessorStatus } from './observe/status.js';
import type { Broker, ResolvedOptions } from './options/types.js';
import type { RemoteTaskHooks, ShutdownOutcome, Supervisor } from './supervisor/supervisor.js';
import type { NormalizedTask } from './task/normalize.js';
import type { FailedResult, TaskInfo, TaskResult } from './task/types.js';

/**
 * Where a processor's tasks go and where their results come from. Both
 * backends have a supervisor of this process's threads: a broker's node runs
 * its tasks there, and actors, metrics, inspection and the dashboard are the
 * supervisor's whichever backend there is.
 */
export interface Backend {
  /** The supervisor of this process's threads. */
  readonly supervisor: Supervisor;
  /** Resolves once tasks accepted can run: the threads are up (with a broker: connected, and on a node pulling). */
  readonly ready: Promise<void>;
  /** Tasks that count against `maxQueue`: waiting here, or with a broker this process's submissions not yet ended. */
  readonly waiting: number;
  /** Tasks accepted and not yet ended. */
  readonly unfinished: number;
  /** Resolves once `holds()` is true: checked after each change of the counts above. */
  until(holds: () => boolean): Promise<void>;
  /** Every event, as one Observable: made once, on the facade's first need of it. */
  events(): Observable<ProcessorEvent>;
  /** Accepts a checked task, or throws the typed refusal (a duplicate id, a full queue) and changes nothing. */
  submit(task: NormalizedTask): void;
  /** Accepts a checked task as `submit` does; resolves once it is kept (on disk, or held by the broker). */
  submitAsync(task: NormalizedTask): Promise<void>;
  /** The final result; rejects with `UnknownTaskError` for an id never accepted or forgotten. */
  result(id: string): Promise<TaskResult>;
  getResult(id: string): TaskResult | undefined;
  getTask(id: string): TaskInfo | undefined;
  /** False, changing nothing, for an id it knows to be unknown or finished. */
  cancel(id: string, reason: string): boolean;
  getFailedTasks(): Map<string, FailedResult>;
  clearResults(): void;
  status(): ProcessorStatus;
  /** Starts an actor on this process's threads, or rejects where actors cannot run. */
  spawn(logic: string, options: SpawnOptions): Promise<ActorRef>;
  /** The address of a virtual actor, or a refusal where virtual actors cannot run. */
  actorOf(logic: string, key: string, input: unknown, restart: RestartOn): VirtualActorRef;
  /** The pool of task threads is to have `workers` threads. */
  resize(workers: number): void;
  /** Stops accepting, lets what was accepted end by `timeout`, and hands back the rest. Called once. */
  shutdown(timeout: number, drain: boolean): Promise<ShutdownOutcome>;
}

/** What a broker's `open` is given. */
export interface BrokerOpening {
  readonly options: ResolvedOptions;
  /** Makes this process's local backend, whose supervisor gives the broker's tasks back through `remote`. */
  readonly local: (remote: RemoteTaskHooks) => Backend;
}

/**
 * A broker as the facade opens it: options name a broker only as a
 * {@link Broker}, which types `open` loosely so that they know nothing of
 * backends; each broker's configuration (`NatsBroker`) implements this.
 */
export interface OpenBroker extends Broker {
  /** Called once, by the processor's constructor: the backend it calls from then on. */
  open(opening: BrokerOpening): Backend;
}

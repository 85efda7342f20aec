import type { ActorMessage } from '../actors/directory.js';
import type { StoppedActor } from '../actors/types.js';
import type { VirtualMessage } from '../actors/virtual.js';
import type { StoreError } from '../errors/errors.js';
import type { TaskLifecycle } from '../machines/lifecycles.js';
import type { TaskEntered } from '../machines/task.js';
import type { InspectedActor, Inspection } from '../observe/inspection.js';
import type { TaskTrace } from '../observe/tracing.js';
import type { NormalizedTask } from '../task/normalize.js';
import type { TaskInput, TaskResult } from '../task/types.js';
import type { WorkerActor, WorkerReport } from '../workers/worker.js';
import type { TaskRecord } from './task-record.js';

/** A task of an earlier run, read from the store: its crashes and suspicions so far, and its row's key. */
export interface Resumed {
  readonly crashes: number;
  readonly suspected: number;
  readonly key: number;
}

/**
 * What the supervisor processes, one at a time, in order: the only way into
 * it. The facade and a broker send the `task.*` requests, `results.clear` and
 * `shutdown`; task machines announce the states they enter (`task.entered`)
 * and their timers (`task.timer`); worker actors send their reports
 * (`worker.*`, `attempts.reported`); the supervisor's own timers and parts
 * send the rest, through the callbacks it gave them.
 */
export type SupervisorMessage =
  /**
   * `attempts`: set for a task a broker delivered, the attempts its earlier
   * deliveries made. `trace`: its spans, started at `submit` (or at a
   * broker's delivery) when the app traces.
   */
  | {
      readonly type: 'task.submit';
      readonly task: NormalizedTask;
      readonly attempts?: number;
      readonly submittedAt?: number;
      readonly resumed?: Resumed;
      readonly trace?: TaskTrace | undefined;
    }
  | { readonly type: 'task.cancel'; readonly id: string; readonly reason: string }
  /** The task's own AbortSignal aborted: it cancels that run of the id, not a later one. */
  | { readonly type: 'task.abort'; readonly record: TaskRecord; readonly reason: string }
  /** A task's machine entered a state; `lifecycle.owner` is the task's record. */
  | (TaskEntered & { readonly lifecycle: TaskLifecycle<TaskRecord> })
  /** A machine's timer fired (a backoff, an attempt timeout, a delayed start): `fire` delivers its event. */
  | { readonly type: 'task.timer'; readonly fire: () => void }
  | { readonly type: 'results.clear' }
  | { readonly type: 'shutdown'; readonly timeout: number; readonly drain: boolean }
  | { readonly type: 'shutdown.deadline' }
  /** `scale(n)`: the pool of task threads takes this size. */
  | { readonly type: 'pool.resize'; readonly workers: number }
  /** An elastic pool's thread has been idle for `idleTimeout` (unless it worked since): it may leave. */
  | { readonly type: 'worker.idle'; readonly worker: WorkerActor }
  /** A crashed thread's restart backoff is over: a new worker takes its slot. */
  | { readonly type: 'worker.respawn'; readonly slot: number }
  /** A write to the task store failed: nothing more is accepted. */
  | { readonly type: 'store.failed'; readonly error: StoreError }
  /** A group commit is on disk, after `ms`: measured. */
  | { readonly type: 'store.committed'; readonly ms: number }
  /** A limit's window slid: held tasks may go. */
  | { readonly type: 'limits.open' }
  /** An attempt of a limited handler left its thread (queued behind that task's own transitions). */
  | { readonly type: 'limits.ended'; readonly handler: string }
  | ActorMessage
  | VirtualMessage
  | WorkerReport;

/** `task.submit`: a task accepted here, or delivered by a broker, or read back from a store. */
export type TaskSubmit = Extract<SupervisorMessage, { type: 'task.submit' }>;

/** A supervisor message as an inspector sees it: its type and what names its subject, not its internals. */
function inspectable(message: SupervisorMessage): { type: string } & Record<string, unknown> {
  switch (message.type) {
    case 'task.submit':
      return { type: message.type, id: message.task.id, handler: message.task.handler, priority: message.task.priority };
    case 'task.cancel':
      return { type: message.type, id: message.id, reason: message.reason };
    case 'task.abort':
      return { type: message.type, id: message.record.task.id, reason: message.reason };
    case 'task.entered':
      return { type: message.type, id: message.context.id, state: message.state };
    case 'attempts.reported':
      return { type: message.type, workerId: message.worker.id, started: message.started.length, settled: message.settled.length };
    case 'worker.ready':
    case 'worker.startFailed':
    case 'worker.exited':
      return { type: message.type, workerId: message.worker.id };
    case 'actors.reported':
      return { type: message.type, workerId: message.worker.id, actors: message.reports.length };
    case 'actor.spawn':
    case 'actor.send':
    case 'actor.ask':
    case 'actor.stop':
      return { type: message.type, id: message.id };
    case 'virtual.send':
    case 'virtual.ask':
      return { type: message.type, id: message.ref.id, event: message.event.type };
    case 'shutdown':
      return { type: message.type, timeout: message.timeout, drain: message.drain };
    case 'pool.resize':
      return { type: message.type, workers: message.workers };
    case 'worker.idle':
      return { type: message.type, workerId: message.worker.id };
    case 'limits.ended':
      return { type: message.type, handler: message.handler };
    default:
      return { type: message.type };
  }
}

/**
 * Handles `message` with an inspector attached: the inspector sees the
 * supervisor (`root`) receive it, from the worker that sent it if one did,
 * then the supervisor's snapshot after it, and a worker's own snapshot when
 * the message says it joined or left.
 */
export function handleInspected(
  message: SupervisorMessage,
  inspection: Inspection,
  root: InspectedActor,
  refOf: (worker: WorkerActor) => InspectedActor | undefined,
  handle: (message: SupervisorMessage) => void,
): void {
  const event = inspectable(message);
  const worker = 'worker' in message ? message.worker : undefined;
  inspection.received(root, event, worker && refOf(worker));
  handle(message);
  inspection.changed(root, event);
  if (worker && (message.type === 'worker.ready' || message.type === 'worker.exited')) {
    const ref = refOf(worker);
    if (ref) inspection.changed(ref, event);
  }
}

export interface ShutdownOutcome {
  /** Tasks that had not finished at the deadline: cancelled here, and handed back so they can be resubmitted. */
  readonly unfinished: TaskInput[];
  /** Actors it stopped, each with its last persisted snapshot: `spawn(logic, { id, snapshot })` resumes one. */
  readonly actors: StoppedActor[];
}

/**
 * Where a broker's tasks go when they leave this node. A broker (see
 * `broker/`) delivers tasks with `task.submit` and `attempts`; the supervisor
 * runs each attempt under the same machine, and gives the task back through
 * these, called after the message that decided it.
 */
export interface RemoteTaskHooks {
  /** An attempt failed and the machine chose to retry: deliver the task again after `delay` ms. */
  retry(id: string, delay: number, error: Error): void;
  /** The task ended here: store `result` as its one terminal result. */
  finished(result: TaskResult): void;
  /** The task leaves this node unfinished (shutdown): deliver it again, to any node. */
  returned(id: string): void;
}

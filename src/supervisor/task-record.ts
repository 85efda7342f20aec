import type { TransferListItem } from 'node:worker_threads';

import { ProcessorShutdownError } from '../errors/errors.js';
import type { TaskLifecycle } from '../machines/lifecycles.js';
import type { TaskTrace } from '../observe/tracing.js';
import type { NormalizedTask } from '../task/normalize.js';
import type { TaskResult, TaskState } from '../task/types.js';
import type { Linked } from '../util/linked-list.js';
import type { WorkerActor } from '../workers/worker.js';

/**
 * Where a task waits while its machine is `queued`, in which part of the
 * supervisor. One field, so a queued task is always in exactly one of them
 * and `getTask(id).waitingFor` can say which:
 * - `ready`: the dispatcher's ready queue, in priority order;
 * - `held`: its handler's gate (`handlerConcurrency`, `rateLimit.perHandler`);
 * - `isolation`: a suspects' queue: it was on a thread that died with
 *   others on it, and now runs only alone, on an empty thread; or it was
 *   running when the process died, twice, with others running, and now
 *   runs only alone in the process;
 * - `parked`: set aside until an earlier attempt of its id has stopped;
 * - `thread`: an attempt of it is in a thread, waiting in its window or
 *   running (then its machine is `processing`);
 * - `none`: in none of them (scheduled, retrying, or ended).
 */
export type Place = 'ready' | 'held' | 'isolation' | 'parked' | 'thread' | 'none';

/** Which limit of its handler holds a task back (see `Limits`). */
export type HeldBy = 'handlerConcurrency' | 'rateLimit';

/** An attempt sent to a worker, until it settles or is lost with its thread. */
export interface Attempt {
  /** Unique across the processor: the thread keys the attempt by it. */
  readonly token: number;
  readonly record: TaskRecord;
  readonly worker: WorkerActor;
  /** Its thread started it (sent into a free slot, or reported started from the window); its machine was told. */
  started: boolean;
}

/**
 * One accepted, unfinished task. Owned by the supervisor and the parts it
 * calls, inside its messages. `prev` and `next` link it among the tasks of
 * its state, in the registry's list of that state.
 */
export interface TaskRecord extends Linked<TaskRecord> {
  readonly task: NormalizedTask;
  /** The payload as the next attempt gets it: a failed attempt hands moved buffers back. */
  payload: unknown;
  transfer: readonly TransferListItem[] | undefined;
  readonly lifecycle: TaskLifecycle<TaskRecord>;
  /** The state its machine last announced. */
  state: TaskState;
  /** In the registry as its id's unfinished task: from `add` to `remove` (a flag, so asking costs no lookup by id). */
  live: boolean;
  place: Place;
  /** While `held`: the limit that holds it. */
  heldBy: HeldBy | undefined;
  /** Let back into the ready queue by its handler's gate and not yet sent: the gate counts it against the cap. */
  reserved: boolean;
  /** Its attempt in a thread, while it has one it still owns (not one that timed out or was cancelled). */
  attempt: Attempt | undefined;
  /**
   * Runs only alone from now on: `thread`, on an empty thread (it was on a
   * thread that died with other attempts on it); `process`, with nothing
   * else running in the process (see `suspected`).
   */
  isolation: 'thread' | 'process' | undefined;
  /** Process deaths it was running at, beside other tasks: not charged, since the cause cannot be told. */
  suspected: number;
  /** Its place in arrival order among the tasks of its priority: set each time it enters `queued` anew. */
  seq: number;
  readonly submittedAt: number;
  startedAt: number | undefined;
  /** While scheduled: when it is due, on the clock. */
  readonly runAt: number | undefined;
  /** When it last entered the queue, and when its running attempt started (performance.now()). */
  queuedAt: number;
  runStart: number;
  /** Attempts that ended with their thread crashing. */
  crashes: number;
  /** Delivered by a broker: its retries and its result go back to the broker. */
  readonly remote: boolean;
  /**
   * Given back unfinished at shutdown, not ended: a broker's task, which the
   * broker delivers again elsewhere, or a task a store keeps for the next start.
   */
  returned: boolean;
  /** Listens to the task's AbortSignal until the task ends. */
  onAbort: (() => void) | undefined;
  /** The `result(id)` promises waiting for it. */
  waiters: Array<{ resolve: (result: TaskResult) => void; reject: (error: Error) => void }> | undefined;
  /** Its spans, when the app traces (see `observe/tracing.ts`). */
  readonly trace: TaskTrace | undefined;
}

/** A record for a task just accepted: `scheduled`, in no queue yet. */
export function createRecord(
  task: NormalizedTask,
  lifecycle: TaskLifecycle<TaskRecord>,
  submittedAt: number,
  runAt: number | undefined,
  remote: boolean,
  trace: TaskTrace | undefined,
): TaskRecord {
  return {
    task,
    payload: task.payload,
    transfer: task.transfer,
    lifecycle,
    state: 'scheduled',
    live: false,
    place: 'none',
    heldBy: undefined,
    reserved: false,
    attempt: undefined,
    isolation: undefined,
    suspected: 0,
    seq: 0,
    submittedAt,
    startedAt: undefined,
    runAt,
    queuedAt: 0,
    runStart: 0,
    crashes: 0,
    remote,
    returned: false,
    onAbort: undefined,
    waiters: undefined,
    trace,
    prev: undefined,
    next: undefined,
  };
}

/**
 * Hands a task's result to whoever waits for it: its callback (a throw is
 * passed to `callbackFailed`, harming nothing else), then each `result()`
 * promise. Run as an effect, after the message that ended the task.
 */
export function deliverResult(record: TaskRecord, result: TaskResult, callbackFailed: (error: unknown) => void): void {
  const { callback } = record.task;
  if (callback) {
    try {
      callback(result);
    } catch (error) {
      callbackFailed(error);
    }
  }
  for (const waiter of record.waiters ?? []) waiter.resolve(result);
}

/**
 * The task was given back unfinished at shutdown: it has no result in this
 * process, so the `result()` promises waiting for it reject with
 * `ProcessorShutdownError`, and its callback does not run.
 */
export function abandonWaiters(record: TaskRecord): void {
  const { id } = record.task;
  const where = record.remote
    ? 'the broker delivers it again to another node'
    : 'the task store keeps it, and the processor that opens the store next runs it and has its result';
  const error = new ProcessorShutdownError(`The processor shut down before task ${id} ended: ${where}`);
  for (const waiter of record.waiters ?? []) waiter.reject(error);
}

import type { TransferListItem } from 'node:worker_threads';

import { ProcessorShutdownError } from '../errors/errors.js';
import type { TaskLifecycle } from '../machines/lifecycles.js';
import type { TaskTrace } from '../observe/tracing.js';
import type { NormalizedTask } from '../task/normalize.js';
import type { TaskResult, TaskState } from '../task/types.js';
import type { Linked } from '../util/linked-list.js';
import type { WorkerActor } from '../workers/worker.js';

/** An attempt sent to a worker, until it settles or is lost with its thread. */
export interface Attempt {
  /** Unique across the processor: the thread keys the attempt by it. */
  readonly token: number;
  readonly record: TaskRecord;
  readonly worker: WorkerActor;
  /** Its thread started it (sent into a free slot, or reported started from the window); its machine was told. Written by `AttemptStarts`. */
  started: boolean;
  /**
   * Its task no longer waits for it (it timed out, or the task ended while
   * it ran): it is being stopped, and stays in the attempts table until its
   * thread says it has, so no other attempt of the id starts meanwhile.
   * Written by `TaskEndings`.
   */
  orphaned: boolean;
}

/**
 * One accepted, unfinished task: what the supervisor keeps beside its
 * machine. Where the task is (its state, and where it waits while queued),
 * whether it runs isolated, and why it was handed back are the machine's
 * (`lifecycle`); this holds its identity, payload, timings, trace and
 * waiters. Each field that changes is written by one part, named on it.
 * `prev` and `next` link it among the tasks of its state, in the
 * registry's list of that state.
 */
export interface TaskRecord extends Linked<TaskRecord> {
  readonly task: NormalizedTask;
  /** The payload as the next attempt gets it: a failed attempt hands moved buffers back. Written by `Outcomes`. */
  payload: unknown;
  /** Written by `Outcomes`, with `payload`. */
  transfer: readonly TransferListItem[] | undefined;
  readonly lifecycle: TaskLifecycle<TaskRecord>;
  /**
   * The state its machine last announced, which is the registry's list it
   * is in: the machine may have moved on within the message being
   * processed, and the registry hears of it from the next. Written by the
   * `TaskRegistry`.
   */
  state: TaskState;
  /** In the registry as its id's unfinished task: from `add` to `remove` (a flag, so asking costs no lookup by id). Written by the `TaskRegistry`. */
  live: boolean;
  /** Its place in arrival order among the tasks of its priority: set each time it enters `queued` anew. Written by the `Dispatcher`. */
  seq: number;
  /** Process deaths it was running at, beside other tasks, in earlier runs (with a store): not charged, since the cause cannot be told. */
  readonly suspected: number;
  readonly submittedAt: number;
  /** When its first attempt started (epoch ms). Written by `AttemptStarts`. */
  startedAt: number | undefined;
  /** While scheduled: when it is due, on the clock. */
  readonly runAt: number | undefined;
  /** When it last entered the queue (performance.now()). Written by the `Supervisor`. */
  queuedAt: number;
  /** When its running attempt started (performance.now()). Written by `AttemptStarts`. */
  runStart: number;
  /** Attempts that ended with their thread crashing (with a store, in earlier runs too). Written by `Outcomes`. */
  crashes: number;
  /** Delivered by a broker: its retries and its result go back to the broker. */
  readonly remote: boolean;
  /** Listens to the task's AbortSignal until the task ends. Written by the `Supervisor`. */
  onAbort: (() => void) | undefined;
  /** The `result(id)` promises waiting for it. Written by the `TaskView`. */
  waiters: Array<{ resolve: (result: TaskResult) => void; reject: (error: Error) => void }> | undefined;
  /** Its spans, when the app traces (see `observe/tracing.ts`). */
  readonly trace: TaskTrace | undefined;
}

/** What a task brings from an earlier run, with a store: its crashes and suspicions. */
export interface Earlier {
  readonly crashes: number;
  readonly suspected: number;
}

/** A record for a task just accepted: `scheduled`, in no queue yet. */
export function createRecord(
  task: NormalizedTask,
  lifecycle: TaskLifecycle<TaskRecord>,
  submittedAt: number,
  runAt: number | undefined,
  remote: boolean,
  trace: TaskTrace | undefined,
  earlier: Earlier | undefined,
): TaskRecord {
  return {
    task,
    payload: task.payload,
    transfer: task.transfer,
    lifecycle,
    state: 'scheduled',
    live: false,
    seq: 0,
    suspected: earlier?.suspected ?? 0,
    submittedAt,
    startedAt: undefined,
    runAt,
    queuedAt: 0,
    runStart: 0,
    crashes: earlier?.crashes ?? 0,
    remote,
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

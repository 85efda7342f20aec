import type { NormalizedTask } from './normalize.js';
import type {
  CancelledResult,
  DoneResult,
  FailedResult,
  FinalTaskState,
  TaskError,
  TaskInfo,
  TaskInput,
  TaskResult,
  TaskState,
  WaitingFor,
} from './types.js';

/**
 * The one builder of each shape a task is reported in: its final result
 * (`done`, `failed`, `cancelled`), its `TaskInfo`, and the `TaskInput` that
 * `shutdown` hands back. The supervisor, the broker's node and client and
 * the streams all build through these, so a field added to a shape is added
 * once. Each result is spelled out field by field: a spread of a shared base
 * per task showed up in profiles.
 */

/** What a result and a task info take from the task itself. */
export type TaskFields = Pick<NormalizedTask, 'id' | 'handler' | 'priority' | 'maxRetries' | 'timeout'>;

/** How far the task got: attempts started, and when it was accepted and last started. */
export interface Progress {
  readonly attempts: number;
  readonly submittedAt: number;
  readonly startedAt: number | undefined;
}

export function doneResult(task: TaskFields, value: unknown, { attempts, submittedAt, startedAt }: Progress): DoneResult {
  const { id, handler, priority, maxRetries, timeout } = task;
  return { id, handler, priority, maxRetries, timeout, attempts, submittedAt, startedAt, finishedAt: Date.now(), status: 'done', value };
}

/** `payload`: the task's payload, kept so a failed task can be inspected or resubmitted. */
export function failedResult(
  task: TaskFields,
  error: TaskError,
  payload: unknown,
  { attempts, submittedAt, startedAt }: Progress,
): FailedResult {
  const { id, handler, priority, maxRetries, timeout } = task;
  const finishedAt = Date.now();
  return { id, handler, priority, maxRetries, timeout, attempts, submittedAt, startedAt, finishedAt, status: 'failed', error, payload };
}

export function cancelledResult(task: TaskFields, reason: string, { attempts, submittedAt, startedAt }: Progress): CancelledResult {
  const { id, handler, priority, maxRetries, timeout } = task;
  const finishedAt = Date.now();
  return { id, handler, priority, maxRetries, timeout, attempts, submittedAt, startedAt, finishedAt, status: 'cancelled', reason };
}

/** What a task's machine knows when it ends: its value, its last error, or why it was cancelled. */
export interface Ending {
  readonly value: unknown;
  readonly error: TaskError | undefined;
  readonly reason: string | undefined;
}

/** The final result of a task that ended in `state`. */
export function finalResult(task: TaskFields, state: FinalTaskState, ending: Ending, payload: unknown, progress: Progress): TaskResult {
  switch (state) {
    case 'done':
      return doneResult(task, ending.value, progress);
    case 'failed':
      return failedResult(task, ending.error ?? new Error('unknown failure'), payload, progress);
    case 'cancelled':
      return cancelledResult(task, ending.reason ?? 'cancelled', progress);
  }
}

/** Where a task is, as far as its owner knows, for its `TaskInfo`. */
export interface Whereabouts extends Progress {
  readonly state: TaskState;
  readonly lastError: TaskError | undefined;
  /** While `scheduled`. */
  readonly runAt?: number | undefined;
  /** While `retrying`. */
  readonly retryDelay?: number | undefined;
  /** While `queued`. */
  readonly waitingFor?: WaitingFor | undefined;
  readonly workerId?: number | undefined;
}

export function taskInfo(task: TaskFields, where: Whereabouts): TaskInfo {
  const { state, waitingFor } = where;
  return {
    id: task.id,
    state,
    handler: task.handler,
    priority: task.priority,
    runAt: state === 'scheduled' ? where.runAt : undefined,
    blockedBy: blockedBy(waitingFor),
    waitingFor: state === 'queued' ? waitingFor : undefined,
    workerId: where.workerId,
    attempts: where.attempts,
    maxRetries: task.maxRetries,
    timeout: task.timeout,
    submittedAt: where.submittedAt,
    startedAt: where.startedAt,
    lastError: where.lastError,
    retryDelay: state === 'retrying' ? where.retryDelay : undefined,
  };
}

/** The limits among the reasons a task waits, as `blockedBy` names them. */
function blockedBy(waitingFor: WaitingFor | undefined): TaskInfo['blockedBy'] {
  switch (waitingFor) {
    case 'rateLimit':
    case 'handlerRateLimit':
      return 'rateLimit';
    case 'handlerConcurrency':
      return 'handlerConcurrency';
    default:
      return undefined;
  }
}

/** A finished task as `getTask(id)` describes it, from its result. */
export function resultInfo(result: TaskResult): TaskInfo {
  return taskInfo(result, {
    state: result.status,
    attempts: result.attempts,
    submittedAt: result.submittedAt,
    startedAt: result.startedAt,
    lastError: result.status === 'failed' ? result.error : undefined,
  });
}

/**
 * A failed or cancelled task as a `TaskInput` to submit again: its id,
 * handler, payload, priority, retries and timeout; it runs at once.
 */
export function resubmission(result: TaskFields, payload: unknown): TaskInput {
  const { id, handler, priority, maxRetries, timeout } = result;
  return { id, payload, handler, priority, maxRetries, ...(timeout !== undefined ? { timeout } : {}) };
}

/**
 * A task `shutdown` hands back unfinished, as a `TaskInput` to submit again:
 * its payload as the next attempt would get it (with the buffers it moves),
 * and `runAt` when it had not become due.
 */
export function handedBack(
  task: NormalizedTask,
  payload: unknown,
  transfer: NormalizedTask['transfer'],
  runAt: number | undefined,
): TaskInput {
  const { id, handler, priority, maxRetries, timeout, callback, signal } = task;
  return {
    id,
    payload,
    ...(transfer ? { transfer } : {}),
    handler,
    priority,
    ...(runAt !== undefined ? { runAt } : {}),
    maxRetries,
    ...(timeout !== undefined ? { timeout } : {}),
    ...(callback ? { callback } : {}),
    ...(signal ? { signal } : {}),
  };
}

import type { StatusCounts } from '../observe/status.js';
import { resubmission, resultInfo, taskInfo } from '../task/results.js';
import type { FailedResult, TaskInfo, TaskInput, TaskResult, TaskState } from '../task/types.js';
import type { Attempts } from './attempts.js';
import type { Dispatcher } from './dispatcher.js';
import type { TaskRegistry } from './registry.js';
import type { TaskRecord } from './task-record.js';

/** A page of the tasks in one state (see `TaskView.page`). */
export interface TaskPage {
  readonly tasks: TaskInfo[];
  /** How many tasks are in that state: unfinished ones, or finished ones retained. */
  readonly size: number;
}

/**
 * The supervisor's tasks, read-only: what the facade, a broker's node and
 * the dashboard read between messages. Reading changes no task (every
 * change goes through the supervisor's mailbox); `result` only adds a
 * waiter to the task.
 */
export class TaskView {
  readonly #registry: TaskRegistry;
  readonly #dispatcher: Dispatcher;
  readonly #attempts: Attempts;

  constructor(registry: TaskRegistry, dispatcher: Dispatcher, attempts: Attempts) {
    this.#registry = registry;
    this.#dispatcher = dispatcher;
    this.#attempts = attempts;
  }

  counts(): StatusCounts {
    return this.#registry.counts();
  }

  /** Tasks waiting: scheduled, queued or retrying (not running). */
  get waiting(): number {
    return this.#registry.waiting;
  }

  /** Unfinished tasks, waiting or running. */
  get unfinished(): number {
    return this.#registry.size;
  }

  /** Whether `id` is an unfinished task. */
  has(id: string): boolean {
    return this.#registry.get(id) !== undefined;
  }

  isProcessing(id: string): boolean {
    return this.#registry.get(id)?.state === 'processing';
  }

  getResult(id: string): TaskResult | undefined {
    return this.#registry.results.get(id);
  }

  getFailedTasks(): Map<string, FailedResult> {
    return this.#registry.results.failed();
  }

  /** A task in any state: unfinished (and where it waits), or finished and retained. */
  getTask(id: string): TaskInfo | undefined {
    const record = this.#registry.get(id);
    if (!record) {
      const result = this.getResult(id);
      return result && resultInfo(result);
    }
    return this.#info(record);
  }

  /**
   * Up to `limit` tasks in `state`, after the task of id `after` (the last
   * of the previous page): unfinished ones in the order they entered the
   * state, finished ones retained in the order they ended. It walks only
   * the page. A cursor that has left the state starts again from the first.
   */
  page(state: TaskState, after: string | undefined, limit: number): TaskPage {
    const registry = this.#registry;
    if (state === 'done' || state === 'failed' || state === 'cancelled') {
      return { tasks: registry.results.page(state, after, limit).map(resultInfo), size: registry.results.size(state) };
    }
    return { tasks: registry.page(state, after, limit).map((record) => this.#info(record)), size: registry.counts()[state] };
  }

  /**
   * What a task was submitted with, as far as it is still known: an
   * unfinished task's, or a failed or cancelled one's while its result is
   * retained (a done task's payload is not kept).
   */
  input(id: string): TaskInput | undefined {
    const record = this.#registry.get(id);
    if (record) return resubmission(record.task, record.payload);
    return this.#registry.results.resubmission(id);
  }

  #info(record: TaskRecord): TaskInfo {
    const { attempts, error, retryDelay } = record.lifecycle.context;
    const { state, submittedAt, startedAt, runAt } = record;
    return taskInfo(record.task, {
      state,
      attempts,
      submittedAt,
      startedAt,
      lastError: error,
      runAt,
      retryDelay,
      waitingFor: this.#dispatcher.waitingFor(record),
      workerId: this.#attempts.of(record)?.worker.id,
    });
  }

  /**
   * Resolves with the task's final result; `undefined` if the id is unknown.
   * Rejects with `ProcessorShutdownError` if shutdown gives the task back
   * unfinished to a store (it runs at the next start) or to a broker.
   */
  result(id: string): Promise<TaskResult> | undefined {
    const record = this.#registry.get(id);
    if (record) return new Promise((resolve, reject) => (record.waiters ??= []).push({ resolve, reject }));
    const result = this.getResult(id);
    return result && Promise.resolve(result);
  }
}

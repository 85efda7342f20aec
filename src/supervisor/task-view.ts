import type { StatusCounts } from '../observe/status.js';
import { resultInfo, taskInfo } from '../task/results.js';
import type { FailedResult, TaskInfo, TaskResult } from '../task/types.js';
import type { Dispatcher } from './dispatcher.js';
import type { TaskRegistry } from './registry.js';

/**
 * The supervisor's tasks, read-only: what the facade, a broker's node and
 * the dashboard read between messages. Reading changes no task (every
 * change goes through the supervisor's mailbox); `result` only adds a
 * waiter to the task.
 */
export class TaskView {
  readonly #registry: TaskRegistry;
  readonly #dispatcher: Dispatcher;

  constructor(registry: TaskRegistry, dispatcher: Dispatcher) {
    this.#registry = registry;
    this.#dispatcher = dispatcher;
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
      workerId: record.attempt?.worker.id,
    });
  }

  /** Resolves with the task's final result; `undefined` if the id is unknown. */
  result(id: string): Promise<TaskResult> | undefined {
    const record = this.#registry.get(id);
    if (record) return new Promise((resolve) => (record.waiters ??= []).push(resolve));
    const result = this.getResult(id);
    return result && Promise.resolve(result);
  }
}

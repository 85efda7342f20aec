import { ResultStore } from '../util/result-store.js';
import type { FailedResult, TaskResult } from './types.js';

/**
 * The results of finished tasks a process remembers, within `retention`:
 * failed ones apart from the rest, so a flood of successes cannot push the
 * failure records out. Oldest are forgotten first, in O(1).
 */
export class RetainedResults {
  /** Results of tasks that ended `done` or `cancelled`. */
  readonly #done: ResultStore<TaskResult>;
  readonly #failed: ResultStore<FailedResult>;

  constructor(retention: { readonly maxResults: number; readonly maxFailed: number }) {
    this.#done = new ResultStore(retention.maxResults);
    this.#failed = new ResultStore(retention.maxFailed);
  }

  get(id: string): TaskResult | undefined {
    return this.#done.get(id) ?? this.#failed.get(id);
  }

  /** The failed results by id, as a copy: changing it changes nothing. */
  failed(): Map<string, FailedResult> {
    return new Map(this.#failed.entries());
  }

  store(result: TaskResult): void {
    if (result.status === 'failed') this.#failed.set(result);
    else this.#done.set(result);
  }

  /** Forgets the result of `id`: a finished id was reused. */
  forget(id: string): void {
    this.#done.delete(id);
    this.#failed.delete(id);
  }

  clear(): void {
    this.#done.clear();
    this.#failed.clear();
  }
}

import type { StatusCounts } from '../observe/status.js';
import { RetainedResults } from '../task/retained.js';
import type { FinalTaskState, TaskState } from '../task/types.js';
import type { TaskRecord } from './task-record.js';

/**
 * The registry of tasks: every unfinished one by id, the counts by state,
 * and the results of finished ones, kept within `retention`. A task is in
 * it from `submit` to its final state and no longer; the counts are kept as
 * the machines announce states, so reading them walks nothing.
 */
export class TaskRegistry {
  readonly #live = new Map<string, TaskRecord>();
  readonly #counts = { scheduled: 0, queued: 0, processing: 0, retrying: 0, done: 0, failed: 0, cancelled: 0 };
  readonly #results: RetainedResults;

  constructor(retention: { readonly maxResults: number; readonly maxFailed: number }) {
    this.#results = new RetainedResults(retention);
  }

  /** The unfinished task of `id`. */
  get(id: string): TaskRecord | undefined {
    return this.#live.get(id);
  }

  /** Whether `record` is the unfinished task of its id (not an ended one, nor an earlier task of the id). */
  holds(record: TaskRecord): boolean {
    return this.#live.get(record.task.id) === record;
  }

  /** Unfinished tasks, waiting or running. */
  get size(): number {
    return this.#live.size;
  }

  unfinished(): IterableIterator<TaskRecord> {
    return this.#live.values();
  }

  /** Tasks waiting: scheduled, queued or retrying (not running). */
  get waiting(): number {
    const counts = this.#counts;
    return counts.scheduled + counts.queued + counts.retrying;
  }

  counts(): StatusCounts {
    return { ...this.#counts };
  }

  /** A task was accepted (`scheduled`). A finished id may be reused: its old result is discarded. */
  add(record: TaskRecord): void {
    const { id } = record.task;
    this.#results.forget(id);
    this.#live.set(id, record);
    this.#counts.scheduled++;
  }

  /** The task's machine entered `state`. */
  enter(record: TaskRecord, state: TaskState): void {
    const previous = record.state;
    if (previous === state) return;
    this.#counts[previous]--;
    this.#counts[state]++;
    record.state = state;
  }

  /** The task leaves: it ended in `final` (counted), or, with none, it went to another node unfinished. */
  remove(record: TaskRecord, final: FinalTaskState | undefined): void {
    this.#live.delete(record.task.id);
    this.#counts[record.state]--;
    if (final) {
      this.#counts[final]++;
      record.state = final;
    }
  }

  /** The retained results of finished tasks. */
  get results(): RetainedResults {
    return this.#results;
  }
}

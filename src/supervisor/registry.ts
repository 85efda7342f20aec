import type { StatusCounts } from '../observe/status.js';
import { RetainedResults } from '../task/retained.js';
import type { FinalTaskState, TaskState, UnfinishedTaskState } from '../task/types.js';
import { LinkedList } from '../util/linked-list.js';
import type { TaskRecord } from './task-record.js';

/**
 * The registry of tasks: every unfinished one by id, the counts by state,
 * the unfinished ones listed by state, and the results of finished ones,
 * kept within `retention`. A task is in it from `submit` to its final state
 * and no longer; the counts are kept as the machines announce states, so
 * reading them walks nothing, and each state's list is in the order its
 * tasks entered it, so a page of it walks only the page.
 */
export class TaskRegistry {
  readonly #live = new Map<string, TaskRecord>();
  readonly #byState: Record<UnfinishedTaskState, LinkedList<TaskRecord>> = {
    scheduled: new LinkedList(),
    queued: new LinkedList(),
    processing: new LinkedList(),
    retrying: new LinkedList(),
  };
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
    return record.live;
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

  /**
   * Up to `limit` unfinished tasks in `state`, in the order they entered it,
   * after the task of id `after`. A cursor that has since left the state
   * starts again from the first: a page may then repeat a task, but never
   * skips one that stayed.
   */
  page(state: UnfinishedTaskState, after: string | undefined, limit: number): TaskRecord[] {
    const cursor = after === undefined ? undefined : this.#live.get(after);
    return this.#byState[state].slice(cursor?.state === state ? cursor : undefined, limit);
  }

  /** A task was accepted (`scheduled`). A finished id may be reused: its old result is discarded. */
  add(record: TaskRecord): void {
    const { id } = record.task;
    this.#results.forget(id);
    this.#live.set(id, record);
    record.live = true;
    this.#byState.scheduled.push(record);
    this.#counts.scheduled++;
  }

  /** The task's machine entered `state`. */
  enter(record: TaskRecord, state: TaskState): void {
    const previous = record.state;
    if (previous === state) return;
    this.#counts[previous]--;
    this.#counts[state]++;
    if (!isFinal(previous)) this.#byState[previous].remove(record);
    if (!isFinal(state)) this.#byState[state].push(record);
    record.state = state;
  }

  /** The task leaves: it ended in `final` (counted), or, with none, it went to another node unfinished. */
  remove(record: TaskRecord, final: FinalTaskState | undefined): void {
    this.#live.delete(record.task.id);
    record.live = false;
    this.#counts[record.state]--;
    if (!isFinal(record.state)) this.#byState[record.state].remove(record);
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

function isFinal(state: TaskState): state is FinalTaskState {
  return state === 'done' || state === 'failed' || state === 'cancelled';
}

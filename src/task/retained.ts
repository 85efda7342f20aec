import { type Linked, LinkedList } from '../util/linked-list.js';
import { resubmission } from './results.js';
import type { FailedResult, FinalTaskState, TaskInput, TaskResult } from './types.js';

/** One retained result, in the list of its status. */
interface Retained extends Linked<Retained> {
  readonly result: TaskResult;
  /** Order of arrival across the lists: `done` and `cancelled` share one bound. */
  readonly seq: number;
  /** A cancelled task's payload, kept (with the result, no longer) so it can be resubmitted; a failed result holds its own. */
  readonly input: { readonly payload: unknown } | undefined;
}

/**
 * The results of finished tasks a process remembers, within `retention`:
 * failed ones apart from the rest, so a flood of successes cannot push the
 * failure records out. Oldest are forgotten first, in O(1).
 *
 * Each status has its own list in order of arrival, so a page of one
 * status after a cursor costs the page, not the walk through the others.
 * (Walking a `Map` from its front also walks the holes its deletions leave:
 * see ResultStore.)
 */
export class RetainedResults {
  readonly #byId = new Map<string, Retained>();
  readonly #lists: Record<FinalTaskState, LinkedList<Retained>> = {
    done: new LinkedList(),
    failed: new LinkedList(),
    cancelled: new LinkedList(),
  };
  readonly #maxResults: number;
  readonly #maxFailed: number;
  #seq = 0;

  constructor(retention: { readonly maxResults: number; readonly maxFailed: number }) {
    this.#maxResults = retention.maxResults;
    this.#maxFailed = retention.maxFailed;
  }

  get(id: string): TaskResult | undefined {
    return this.#byId.get(id)?.result;
  }

  /** The failed results by id, oldest first, as a copy: changing it changes nothing. */
  failed(): Map<string, FailedResult> {
    const failed = new Map<string, FailedResult>();
    for (const { result } of this.#lists.failed.slice(undefined, Infinity)) failed.set(result.id, result as FailedResult);
    return failed;
  }

  /**
   * Up to `limit` results of `status`, oldest first, after the one of id
   * `after`. A cursor no longer among them (forgotten, cleared, or its id
   * reused) starts again from the oldest: a page may then repeat one, but
   * never skips one.
   */
  page(status: FinalTaskState, after: string | undefined, limit: number): TaskResult[] {
    const cursor = after === undefined ? undefined : this.#byId.get(after);
    const from = cursor?.result.status === status ? cursor : undefined;
    return this.#lists[status].slice(from, limit).map((entry) => entry.result);
  }

  /** How many results of `status` are retained. */
  size(status: FinalTaskState): number {
    return this.#lists[status].size;
  }

  /**
   * What a failed or cancelled task was submitted with, to submit it again,
   * while its result is retained; `undefined` for any other id, and for a
   * cancelled one whose payload was not kept (one a store or a broker gave back).
   */
  resubmission(id: string): TaskInput | undefined {
    const entry = this.#byId.get(id);
    if (!entry) return undefined;
    const { result, input } = entry;
    if (result.status === 'failed') return resubmission(result, result.payload);
    if (result.status === 'cancelled' && input) return resubmission(result, input.payload);
    return undefined;
  }

  /**
   * Stores `result` as the newest. `input`, the payload a cancelled task
   * was submitted with, is kept with it for `resubmission`.
   */
  store(result: TaskResult, input?: { readonly payload: unknown }): void {
    this.forget(result.id);
    this.#keep(result, input);
  }

  /**
   * `store` for the result of a task that ended here: its id's earlier
   * result was forgotten when the task was accepted (`TaskRegistry.add`),
   * so none is looked for (a lookup in a map of thousands, per task).
   */
  storeEnded(result: TaskResult, input?: { readonly payload: unknown }): void {
    this.#keep(result, input);
  }

  #keep(result: TaskResult, input: { readonly payload: unknown } | undefined): void {
    const failed = result.status === 'failed';
    if ((failed ? this.#maxFailed : this.#maxResults) === 0) return;
    const kept = result.status === 'cancelled' ? input : undefined;
    const entry: Retained = { result, seq: this.#seq++, input: kept, prev: undefined, next: undefined };
    this.#byId.set(result.id, entry);
    this.#lists[result.status].push(entry);
    if (failed) {
      while (this.#lists.failed.size > this.#maxFailed) this.#drop(this.#lists.failed.head as Retained);
      return;
    }
    const { done, cancelled } = this.#lists;
    while (done.size + cancelled.size > this.#maxResults) {
      const oldest = !cancelled.head || (done.head && done.head.seq < cancelled.head.seq) ? done.head : cancelled.head;
      this.#drop(oldest as Retained);
    }
  }

  /** Forgets the result of `id`: a finished id was reused. */
  forget(id: string): void {
    const entry = this.#byId.get(id);
    if (entry) this.#drop(entry);
  }

  clear(): void {
    this.#byId.clear();
    for (const list of Object.values(this.#lists)) list.clear();
  }

  #drop(entry: Retained): void {
    this.#byId.delete(entry.result.id);
    this.#lists[entry.result.status].remove(entry);
  }
}

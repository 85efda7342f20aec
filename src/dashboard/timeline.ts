import type { Observable } from 'rxjs';

import { type ProcessorEvent, TASK_EVENT_STATE } from '../observe/events.js';
import type { TaskState } from '../task/types.js';
import { ResultStore } from '../util/result-store.js';

/** One state a task entered, and when (epoch ms). */
export interface TimelineEntry {
  readonly state: TaskState;
  readonly at: number;
  /** The attempt it concerns, for `processing` and `retrying`. */
  readonly attempt?: number;
}

/** A failure shown on the dashboard. */
export interface FailureEntry {
  readonly id: string;
  readonly at: number;
  readonly attempts: number;
  readonly error: { readonly name: string; readonly message: string; readonly code?: string };
}

/**
 * The recent past the dashboard shows: each of the last `tasks` tasks' states
 * with their times, and the last `failures` failures. Both bounded: the
 * oldest task's timeline is forgotten when a new task arrives past the bound.
 */
export class Timelines {
  /** Oldest evicted first, in O(1) (see ResultStore). */
  readonly #tasks: ResultStore<{ readonly id: string; readonly entries: TimelineEntry[] }>;
  readonly #failures: FailureEntry[] = [];
  readonly #maxFailures: number;

  constructor(events: Observable<ProcessorEvent>, { tasks = 2_000, failures = 50 } = {}) {
    this.#tasks = new ResultStore(tasks);
    this.#maxFailures = failures;
    events.subscribe((event) => this.#record(event));
  }

  timeline(id: string): readonly TimelineEntry[] | undefined {
    return this.#tasks.get(id)?.entries;
  }

  failures(): readonly FailureEntry[] {
    return this.#failures;
  }

  #record(event: ProcessorEvent): void {
    const state = TASK_EVENT_STATE[event.type];
    if (state === undefined || !('id' in event)) return;
    const at = Date.now();
    let entries = this.#tasks.get(event.id)?.entries;
    const last = entries?.at(-1)?.state;
    if (!entries || last === 'done' || last === 'failed' || last === 'cancelled') {
      // A new task, or an id reused after it finished: a fresh timeline.
      entries = [];
      this.#tasks.set({ id: event.id, entries });
    }
    const attempt = event.type === 'task.started' || event.type === 'task.retrying' ? event.attempt : undefined;
    entries.push(attempt === undefined ? { state, at } : { state, at, attempt });
    if (event.type === 'task.failed') {
      const { error, attempts } = event.result;
      const code = (error as { code?: unknown }).code;
      this.#failures.unshift({
        id: event.id,
        at,
        attempts,
        error: { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) },
      });
      if (this.#failures.length > this.#maxFailures) this.#failures.pop();
    }
  }
}

import type { WorkerActor } from '../workers/worker.js';
import type { Attempt, TaskRecord } from './task-record.js';

/**
 * Every attempt in a thread, by task id: at most one per id, which is how
 * the promise "at most one attempt of a task runs at any moment" is kept.
 * An attempt that outlives its task's interest in it (it timed out, or the
 * task was cancelled, while the handler still runs) stays here, orphaned,
 * until its thread says it stopped: until then no other attempt of the id
 * is sent (the dispatcher parks it).
 */
export class Attempts {
  readonly #byId = new Map<string, Attempt>();
  #tokens = 0;

  get size(): number {
    return this.#byId.size;
  }

  /** Whether an attempt of `id` is in a thread (running, waiting there, or orphaned and stopping). */
  has(id: string): boolean {
    return this.#byId.has(id);
  }

  /** The attempt of `id` that `token` names, if it is still in a thread. */
  find(id: string, token: number): Attempt | undefined {
    const attempt = this.#byId.get(id);
    return attempt?.token === token ? attempt : undefined;
  }

  /** The attempt of `record` in a thread that its task still waits for (not one orphaned, nor one of an earlier task of its id). */
  of(record: TaskRecord): Attempt | undefined {
    const attempt = this.#byId.get(record.task.id);
    return attempt && attempt.record === record && !attempt.orphaned ? attempt : undefined;
  }

  /** Records a new attempt of `record` on `worker`, with a fresh token. */
  open(record: TaskRecord, worker: WorkerActor): Attempt {
    const attempt: Attempt = { token: ++this.#tokens, record, worker, started: false, orphaned: false };
    this.#byId.set(record.task.id, attempt);
    return attempt;
  }

  /** The attempt left its thread (settled, or lost with it). */
  close(attempt: Attempt): void {
    this.#byId.delete(attempt.record.task.id);
  }
}

import { serialize } from 'node:v8';

import { StoreError } from '../errors/errors.js';
import type { StoredState, StoredTask, TaskStore } from '../store/store.js';
import type { TaskResult } from '../task/types.js';
import type { TaskRecord } from './task-record.js';

/** A task changed since the last commit: its row as it is now, or its end. */
interface Pending {
  ended: boolean;
  /** `scheduled` or `retrying`: when it is due, on the processor's clock. */
  dueAt: number | undefined;
  /** Written as `queued` with the attempts it had before an attempt shutdown interrupted (it runs again next start). */
  kept: boolean;
}

/** Changes this many tasks before the end of a turn commit at once: a producer's loop cannot pile up without bound. */
const MAX_BATCH = 4_096;
const NO_PAYLOAD = new Uint8Array(0);

/**
 * The supervisor's record of every change it makes to a task, written to
 * the store in groups: one transaction per turn of the event loop (or per
 * 4,096 changed tasks), holding the latest row of each task changed since
 * the last one, so a task submitted and finished within one commit costs
 * one result row. Effects that promise durability (callbacks, `result()`,
 * final events, `submitAsync`) wait for the commit that holds their change.
 * Owned by the supervisor and called inside its messages; a failed commit
 * reaches the supervisor through the callback it is given.
 */
export class Journal {
  readonly #store: TaskStore;
  readonly #failed: (error: StoreError) => void;
  readonly #committed: (ms: number) => void;
  readonly #pending = new Map<TaskRecord, Pending>();
  readonly #results: TaskResult[] = [];
  /** Ids of stored tasks that ended without a record in this run. */
  #resolved: string[] = [];
  #clear = false;
  /** Each task's payload as structured clone data, taken once, kept until its row is written. */
  readonly #payloads = new WeakMap<TaskRecord, Uint8Array>();
  /** Tasks whose row is on disk. */
  readonly #written = new WeakSet<TaskRecord>();
  #afterCommit: Array<() => void> = [];
  #waiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  #scheduled = false;
  #error: StoreError | undefined;
  /** `committed` learns how long each commit took, in ms (for metrics). */
  constructor(store: TaskStore, failed: (error: StoreError) => void, committed: (ms: number) => void) {
    this.#store = store;
    this.#failed = failed;
    this.#committed = committed;
  }

  /**
   * A task was accepted. A result an earlier task of its id left on disk
   * stays until this one's replaces it; the registry has forgotten it
   * already, and does again when it recovers this task.
   */
  accepted(record: TaskRecord): void {
    if (this.#error) return;
    this.#payloads.set(record, serialize(record.payload));
    this.#note(record, { ended: false, dueAt: record.runAt, kept: false });
  }

  /** Its state, attempts or crashes changed; `dueAt` while it waits for a time. */
  changed(record: TaskRecord, dueAt?: number): void {
    if (this.#error) return;
    const pending = this.#pending.get(record);
    if (pending) {
      pending.dueAt = dueAt;
      return;
    }
    this.#note(record, { ended: false, dueAt, kept: false });
  }

  /** It ended: its row goes, and `result` is stored (none for a task that leaves unfinished). */
  ended(record: TaskRecord, result: TaskResult | undefined): void {
    if (this.#error) return;
    const pending = this.#pending.get(record);
    if (pending) pending.ended = true;
    else this.#note(record, { ended: true, dueAt: undefined, kept: false });
    if (result) this.#results.push(result);
  }

  /** Shutdown left it unfinished: it stays stored, queued, to run at the next start, its interrupted attempt uncharged. */
  kept(record: TaskRecord): void {
    if (this.#error) return;
    // Waiting (scheduled, queued, retrying): its row, written or pending, is what the next start needs.
    if (record.state !== 'processing') return;
    const pending = this.#pending.get(record);
    if (pending) pending.kept = true;
    else this.#note(record, { ended: false, dueAt: undefined, kept: true });
  }

  /** A stored task of an earlier run ended without running again (its process died in its last allowed attempt). */
  resolved(result: TaskResult): void {
    if (this.#error) return;
    this.#resolved.push(result.id);
    this.#results.push(result);
    this.#schedule();
  }

  /** A task of an earlier run, queued again: its row is on disk already. */
  adopted(record: TaskRecord): void {
    this.#written.add(record);
  }

  clearResults(): void {
    if (this.#error) return;
    this.#clear = true;
    this.#results.length = 0;
    this.#schedule();
  }

  /** Runs `effect` once everything recorded so far is on disk: at once when nothing waits. */
  afterCommit(effect: () => void): void {
    if (!this.#scheduled || this.#error) return effect();
    this.#afterCommit.push(effect);
  }

  /** Runs `send` after the next commit, which holds whatever the message being processed records (write-ahead). */
  beforeSending(send: () => void): void {
    if (this.#error) return send();
    this.#afterCommit.push(send);
    this.#schedule();
  }

  /** Resolves once everything recorded so far is on disk; rejects with the store's error if it cannot be. */
  committed(): Promise<void> {
    if (this.#error) return Promise.reject(this.#error);
    if (!this.#scheduled) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** The mailbox was emptied: a full batch is written now rather than at the end of the turn. */
  settled(): void {
    if (this.#pending.size >= MAX_BATCH) this.commit();
  }

  /** Writes everything recorded since the last commit, in one transaction, then runs what waited for it. */
  commit(): void {
    if (!this.#scheduled) return;
    this.#scheduled = false;
    if (!this.#error) this.#write();
    const effects = this.#afterCommit;
    const waiters = this.#waiters;
    this.#afterCommit = [];
    this.#waiters = [];
    for (const effect of effects) effect();
    for (const waiter of waiters) {
      if (this.#error) waiter.reject(this.#error);
      else waiter.resolve();
    }
  }

  /** The last commit, then the file is closed (its log checkpointed into it). */
  close(): void {
    this.commit();
    if (this.#error) return;
    try {
      this.#store.close();
    } catch {
      // Everything was committed: a failed checkpoint leaves a log SQLite replays at the next open.
    }
  }

  #note(record: TaskRecord, pending: Pending): void {
    this.#pending.set(record, pending);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.commit());
  }

  #write(): void {
    const tasks: StoredTask[] = [];
    const ended: string[] = this.#resolved;
    const written: TaskRecord[] = [];
    for (const [record, pending] of this.#pending) {
      if (pending.ended) {
        if (this.#written.has(record)) ended.push(record.task.id);
        continue;
      }
      tasks.push(this.#row(record, pending));
      written.push(record);
    }
    const started = performance.now();
    try {
      this.#store.commit({ tasks, ended, results: this.#results, clearResults: this.#clear });
    } catch (cause) {
      const message = cause instanceof Error ? cause.message : String(cause);
      this.#error = new StoreError(this.#store.path, `A write to the task store ${this.#store.path} failed: ${message}`, { cause });
      this.#failed(this.#error);
      return;
    }
    this.#committed(performance.now() - started);
    for (const record of written) {
      this.#written.add(record);
      this.#payloads.delete(record);
    }
    this.#pending.clear();
    this.#results.length = 0;
    this.#resolved = [];
    this.#clear = false;
  }

  #row(record: TaskRecord, pending: Pending): StoredTask {
    const { id, handler, priority, maxRetries, timeout } = record.task;
    let { attempts } = record.lifecycle.context;
    let state: StoredState =
      record.state === 'processing' || record.state === 'retrying' || record.state === 'scheduled' ? record.state : 'queued';
    if (pending.kept) {
      // Interrupted by shutdown, not by its own fault: the attempt is not counted.
      if (record.state === 'processing') attempts--;
      state = 'queued';
    }
    // A row on disk keeps its payload: an update writes none.
    const payload = this.#payloads.get(record) ?? NO_PAYLOAD;
    const dueAt = state === 'scheduled' || state === 'retrying' ? pending.dueAt : undefined;
    return {
      id,
      handler,
      priority,
      maxRetries,
      timeout,
      payload,
      submittedAt: record.submittedAt,
      state,
      attempts,
      crashes: record.crashes,
      dueAt,
    };
  }
}

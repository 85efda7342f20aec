import type { RestartOn } from '../actors/types.js';
import { StoreError } from '../errors/errors.js';
import { serializeError } from '../errors/serialize.js';
import type { Changes, NewTask, Recovered, StoredActor, StoredResult, StoredState, StoreWriter } from '../store/store.js';
import { STORED_STATES } from '../store/store.js';
import type { TaskResult } from '../task/types.js';
import type { TaskRecord } from './task-record.js';

/** A task changed since the last commit: its row as it is now, or its end. */
interface Pending {
  ended: boolean;
  /** `scheduled` or `retrying`: when it is due, on the processor's clock. */
  dueAt: number | undefined;
  /** Written as `queued`, to run again at the next start: shutdown left it unfinished. */
  kept: boolean;
}

/** What a task's row says of where it is: the fields an update writes, with its crashes and suspicions. */
interface RowState {
  readonly state: StoredState;
  readonly attempts: number;
  readonly dueAt: number | undefined;
}

/** What waits for one commit: effects to run and promises to settle once it is on disk (or has failed). */
interface Group {
  readonly effects: Array<() => void>;
  readonly waiters: Array<{ resolve: () => void; reject: (error: Error) => void }>;
}

/** Changes this many tasks before the end of a turn commit at once: a producer's loop cannot pile up without bound. */
const MAX_BATCH = 4_096;

const group = (): Group => ({ effects: [], waiters: [] });

/**
 * The supervisor's record of every change it makes to a task, written to
 * the store in groups: one commit per turn of the event loop (or per 4,096
 * changed tasks, or as soon as a batch of attempts waits for it), holding
 * the latest row of each task changed since the last one, so a task
 * submitted and finished within one commit costs only its result. Commits go to the store's thread, which writes them in order
 * (several in one transaction when they queue up) without holding up this
 * thread; the next commit need not wait for the last one. Effects that
 * promise durability (callbacks, `result()`, final events, `submitAsync`,
 * and sending a batch of attempts to a thread: write-ahead) wait for the
 * commit that holds their change. Owned by the supervisor and called inside
 * its messages; commit outcomes reach it through the callbacks it is given.
 */
export class Journal {
  readonly #store: StoreWriter;
  readonly #failed: (error: StoreError) => void;
  readonly #committed: (ms: number) => void;
  readonly #pending = new Map<TaskRecord, Pending>();
  readonly #results: StoredResult[] = [];
  /** Keys of stored tasks that ended without a record in this run. */
  #resolved: number[] = [];
  #clear = false;
  /** Actors changed since the last commit: the latest snapshot of each, or `null` for one that is gone. */
  readonly #actors = new Map<string, StoredActor | null>();
  /** Tasks whose row was sent to be written: the store writes in order, so a later change or delete finds it. */
  readonly #written = new WeakSet<TaskRecord>();
  /** Tasks whose last row written says `processing`: with how many attempts. */
  readonly #inThread = new WeakMap<TaskRecord, number>();
  /** Each task's row key: given in the order tasks are accepted, after the keys of the rows already stored. */
  readonly #keys = new WeakMap<TaskRecord, number>();
  #nextKey = 1;
  /** What waits for the next commit (the one `#scheduled` says is coming). */
  #next = group();
  /** What waits for the last commit sent, until the store acknowledges it. */
  #last: Group | undefined;
  #scheduled = false;
  /** A commit is due at the end of this microtask checkpoint (a batch of attempts waits for it). */
  #soon = false;
  #error: StoreError | undefined;

  /**
   * `recovered`: what the store held when it was opened (new rows are keyed
   * after its tasks'). `failed` hears of the first write that fails;
   * `committed` learns how long each transaction took, in ms (for metrics).
   */
  constructor(store: StoreWriter, recovered: Recovered, failed: (error: StoreError) => void, committed: (ms: number) => void) {
    this.#store = store;
    this.#failed = failed;
    this.#committed = committed;
    for (const { key } of recovered.tasks) this.#nextKey = Math.max(this.#nextKey, key + 1);
  }

  /**
   * A task was accepted. A result an earlier task of its id left on disk
   * stays until this one's replaces it; the registry has forgotten it
   * already, and does again when it recovers this task.
   */
  accepted(record: TaskRecord): void {
    if (this.#error) return;
    this.#keys.set(record, this.#nextKey++);
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
    if (result) this.#results.push(stored(result));
  }

  /**
   * Shutdown handed it back unfinished: it stays stored, queued, to run at
   * the next start, with the attempts its machine counts (an attempt
   * shutdown interrupted is given back, uncharged).
   */
  kept(record: TaskRecord): void {
    if (this.#error) return;
    // Waiting (scheduled, queued, retrying), and not on disk as in a thread: its row is what the next start needs.
    if (!record.lifecycle.context.interrupted && !this.#inThread.has(record)) return;
    const pending = this.#pending.get(record);
    if (pending) pending.kept = true;
    else this.#note(record, { ended: false, dueAt: undefined, kept: true });
  }

  /** A stored task of an earlier run, row `key`, ended without running again (its process died in its last allowed attempt). */
  resolved(result: TaskResult, key: number): void {
    if (this.#error) return;
    this.#resolved.push(key);
    this.#results.push(stored(result));
    this.#schedule();
  }

  /** A task of an earlier run, queued again: its row, `key`, is on disk already. */
  adopted(record: TaskRecord, key: number): void {
    this.#keys.set(record, key);
    this.#written.add(record);
  }

  /** An actor's persisted snapshot changed: its latest goes in the next commit. */
  actorChanged(id: string, logic: string, restart: RestartOn, snapshot: unknown): void {
    if (this.#error) return;
    this.#actors.set(id, { id, logic, restart, snapshot });
    this.#schedule();
  }

  /** An actor ended, or was stopped for good: it is not to be resumed. */
  actorGone(id: string): void {
    if (this.#error) return;
    this.#actors.set(id, null);
    this.#schedule();
  }

  clearResults(): void {
    if (this.#error) return;
    this.#clear = true;
    this.#results.length = 0;
    this.#schedule();
  }

  /** Runs `effect` once everything recorded so far is on disk: at once when nothing waits. */
  afterCommit(effect: () => void): void {
    if (this.#error) return effect();
    const waiting = this.#waiting();
    if (waiting) waiting.effects.push(effect);
    else effect();
  }

  /**
   * Runs `send` after the next commit (write-ahead for a batch of attempts).
   * Not `afterCommit`: a batch may be flushed while the message that
   * dispatched it is processed, before the states its attempts entered are
   * recorded (they arrive as messages of their own, in the same drain of the
   * mailbox), and the next commit is the first that surely holds them.
   *
   * That commit goes a microtask later, once the drain that dispatched the
   * batch is over, rather than at the end of the turn: a thread whose window
   * waits on it is idle meanwhile, and a turn spent on the other threads'
   * results would put this batch in the same commit as theirs. Committed
   * apart, one thread's batch is written while the main thread handles
   * another's results (about 1.3x the throughput with a store, docs/performance.md).
   */
  beforeSending(send: () => void): void {
    if (this.#error) return send();
    this.#next.effects.push(send);
    this.#schedule();
    if (this.#soon) return;
    this.#soon = true;
    queueMicrotask(() => {
      this.#soon = false;
      this.commit();
    });
  }

  /** Resolves once everything recorded so far is on disk; rejects with the store's error if it cannot be. */
  committed(): Promise<void> {
    if (this.#error) return Promise.reject(this.#error);
    const waiting = this.#waiting();
    if (!waiting) return Promise.resolve();
    return new Promise((resolve, reject) => waiting.waiters.push({ resolve, reject }));
  }

  /** The mailbox was emptied: a full batch is sent now rather than at the end of the turn. */
  settled(): void {
    if (this.#pending.size >= MAX_BATCH) this.commit();
  }

  /**
   * Sends everything recorded since the last commit to be written, as one
   * commit; what waited for it runs once the store has it on disk.
   */
  commit(): void {
    if (!this.#scheduled) return;
    this.#scheduled = false;
    const waiting = this.#next;
    this.#next = group();
    if (this.#error) return settle(waiting, this.#error);
    this.#last = waiting;
    this.#store.write(this.#take()).then(
      (ms) => {
        if (this.#last === waiting) this.#last = undefined;
        this.#committed(ms);
        settle(waiting, undefined);
        // What those effects recorded and hold back (a callback's next task, say) goes now, not a turn later.
        if (this.#next.effects.length > 0) this.commit();
      },
      (cause: unknown) => {
        if (this.#last === waiting) this.#last = undefined;
        this.#fail(cause);
        settle(waiting, this.#error);
      },
    );
  }

  /** The last commit, then the file is closed (its log checkpointed into it) and free for another process. */
  async close(): Promise<void> {
    this.commit();
    await this.#store.close();
  }

  /** The commit whatever was recorded so far is in: the next one, or the last one sent while it is unacknowledged. */
  #waiting(): Group | undefined {
    return this.#scheduled ? this.#next : this.#last;
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

  #fail(cause: unknown): void {
    if (this.#error) return;
    this.#error =
      cause instanceof StoreError
        ? cause
        : new StoreError(this.#store.path, `A write to the task store ${this.#store.path} failed: ${String(cause)}`, { cause });
    this.#pending.clear();
    this.#results.length = 0;
    this.#resolved = [];
    this.#actors.clear();
    this.#failed(this.#error);
  }

  /** The changes since the last commit, as the store takes them; the journal starts afresh. */
  #take(): Changes {
    const tasks: NewTask[] = [];
    const updates: number[] = [];
    const ended: number[] = this.#resolved;
    for (const [record, pending] of this.#pending) {
      if (pending.ended) {
        if (this.#written.has(record)) ended.push(this.#keys.get(record) as number);
        continue;
      }
      const row = this.#row(record, pending);
      if (row) {
        if (!this.#written.has(record)) tasks.push(this.#wholeRow(record, row));
        else {
          const key = this.#keys.get(record) as number;
          updates.push(key, STORED_STATES.indexOf(row.state), row.attempts, record.crashes, record.suspected, row.dueAt ?? Number.NaN);
        }
      }
      this.#written.add(record);
    }
    const actors: StoredActor[] = [];
    const actorsGone: string[] = [];
    for (const [id, actor] of this.#actors) {
      if (actor) actors.push(actor);
      else actorsGone.push(id);
    }
    this.#actors.clear();
    const results = this.#results.splice(0);
    const changes: Changes = { tasks, updates: new Float64Array(updates), ended, results, clearResults: this.#clear, actors, actorsGone };
    this.#pending.clear();
    this.#resolved = [];
    this.#clear = false;
    return changes;
  }

  /**
   * A task's row as it is now. One in a thread, running or waiting in its
   * window, is stored as `processing`, counting the attempt it was sent as:
   * a thread starts what waits in its window on its own, so if the process
   * dies, any task in a thread may have been running (see recovery.ts).
   * Undefined when the row on disk says this already (a task the window
   * held, reported started).
   */
  /** What its row is to say now: its state, attempts and due time; undefined when the row on disk says it already. */
  #row(record: TaskRecord, pending: Pending): RowState | undefined {
    let { attempts } = record.lifecycle.context;
    let state: StoredState;
    if (pending.kept) state = 'queued';
    else if (record.state === 'processing') state = 'processing';
    else if (record.lifecycle.state === 'queued.windowed') {
      state = 'processing';
      attempts++;
    } else state = record.state === 'retrying' || record.state === 'scheduled' ? record.state : 'queued';
    if (state === 'processing') {
      if (this.#inThread.get(record) === attempts && this.#written.has(record)) return undefined;
      this.#inThread.set(record, attempts);
    } else this.#inThread.delete(record);
    const dueAt = state === 'scheduled' || state === 'retrying' ? pending.dueAt : undefined;
    return { state, attempts, dueAt };
  }

  /**
   * A task's whole row, for one not on disk yet, with its payload as it was
   * accepted (a private clone, made at `submit`; nothing has moved its
   * buffers yet, since no attempt goes to a thread before this row is on
   * disk). The store's thread serializes it: on the main thread,
   * `v8.serialize` cost about 1.6 µs a task, and the clone to the store's
   * thread copied the bytes again.
   */
  #wholeRow(record: TaskRecord, { state, attempts, dueAt }: RowState): NewTask {
    const { id, handler, priority, maxRetries, timeout } = record.task;
    return {
      key: this.#keys.get(record) as number,
      id,
      handler,
      priority,
      maxRetries,
      timeout,
      payload: record.payload,
      submittedAt: record.submittedAt,
      state,
      attempts,
      crashes: record.crashes,
      suspected: record.suspected,
      dueAt,
    };
  }
}

/** A result as the store keeps it: a failure's error flattened, so it comes back as its class. */
function stored(result: TaskResult): StoredResult {
  return result.status === 'failed' ? { ...result, error: serializeError(result.error) } : result;
}

function settle(waiting: Group, error: StoreError | undefined): void {
  for (const effect of waiting.effects) effect();
  for (const waiter of waiting.waiters) {
    if (error) waiter.reject(error);
    else waiter.resolve();
  }
}

/**
 * store/: durability without a server. A store is opened on the main thread
 * (`open.ts`: the file locked, checked, migrated and read, so the tasks of
 * an earlier run are known before `createProcessor` returns) and written on
 * a thread of its own (`store-thread.ts`, `store-entry.ts`), so neither a
 * commit nor a checkpoint's flush to disk holds up the event loop. The
 * SQLite backend is `sqlite-file.ts` (opening), `sqlite.ts` (writing) and
 * `sqlite-results.ts` (results, as rows and per-commit batches). The
 * supervisor writes through its journal (supervisor/journal.ts) and queues
 * stored tasks again at start (supervisor/recovery.ts). A second backend
 * (Node 22's `node:sqlite`, say) is a few more files behind `StoreWriter`
 * and `Recovered`.
 */
import type { RestartOn } from '../actors/types.js';
import type { SerializedError } from '../errors/serialize.js';
import type { TaskResult } from '../task/types.js';

/** How many results, and how old, a store keeps (its own, or the processor's `retention`). */
export interface StoreRetention {
  readonly maxResults: number;
  readonly maxFailed: number;
  /** Results older than this (ms since they finished) are dropped; Infinity keeps them. */
  readonly maxAge: number;
}

/** The states an unfinished task is stored in. */
export type StoredState = 'scheduled' | 'queued' | 'processing' | 'retrying';

/** Each stored state's number in `Changes.updates` (its index here). */
export const STORED_STATES: readonly StoredState[] = ['scheduled', 'queued', 'processing', 'retrying'];

/** The numbers an update of a stored task's row takes in `Changes.updates`: its key, state, attempts, crashes, suspected, due time. */
export const UPDATE_FIELDS = 6;

/** An unfinished task as it is stored: enough to queue it again in another process. */
export interface StoredTask {
  /**
   * The row's key, given by the journal in the order tasks were accepted:
   * a task's row is found by it, and recovery queues tasks in its order.
   */
  readonly key: number;
  readonly id: string;
  readonly handler: string;
  readonly priority: number;
  readonly maxRetries: number;
  readonly timeout: number | undefined;
  /** The payload, as structured clone data (`v8.serialize`). */
  readonly payload: Uint8Array;
  readonly submittedAt: number;
  readonly state: StoredState;
  /** Attempts started; a `processing` task's last one was interrupted if the process died. */
  readonly attempts: number;
  /** Attempts that ended with their thread, or the whole process, dying, while nothing else that ran could have caused it. */
  readonly crashes: number;
  /** Process deaths it was running at beside other tasks: not charged (the cause cannot be told), but it runs isolated after two. */
  readonly suspected: number;
  /** `scheduled`: when it is due; `retrying`: when its retry is due; on the processor's clock. */
  readonly dueAt: number | undefined;
}

/** A task accepted, as it travels to the store's thread: its payload as the value itself, serialized there. */
export type NewTask = Omit<StoredTask, 'payload'> & { readonly payload: unknown };

/** A result as it travels to the store and is kept there: its error flattened, so it comes back as its class. */
export type StoredResult = Omit<TaskResult, 'error'> & { readonly error?: SerializedError };

/**
 * An actor spawned with `processor.spawn`, as the store keeps it: its
 * latest persisted snapshot, for `spawn(logic, { id })` to resume it in a
 * later run. Stored as structured clone data (`v8.serialize`), serialized on
 * the store's thread.
 */
export interface StoredActor {
  readonly id: string;
  readonly logic: string;
  readonly restart: RestartOn;
  /** XState's persisted snapshot. */
  readonly snapshot: unknown;
}

/** What changed since the last commit, in the order it happened. */
export interface Changes {
  /** Tasks accepted, or changed before their row was sent to be written: whole rows. */
  readonly tasks: readonly NewTask[];
  /**
   * Tasks whose row is on disk (or sent to be written) and whose state,
   * attempts, crashes, suspicions or due time changed: `UPDATE_FIELDS`
   * numbers each (key, the state's index in `STORED_STATES`, attempts,
   * crashes, suspected, due time or NaN). Packed, because most changes are
   * of this kind (every attempt's start), and a typed array crosses to the
   * store's thread as one copy, where a row object is cloned field by field.
   */
  readonly updates: Float64Array;
  /** Keys of stored tasks that ended (their result is in `results`) or left. */
  readonly ended: readonly number[];
  readonly results: readonly StoredResult[];
  /** `clearResults()` was called: every stored result goes, before `results` are added. */
  readonly clearResults: boolean;
  /** Actors whose snapshot changed (the latest of each), and ids of actors that ended or were stopped for good. */
  readonly actors: readonly StoredActor[];
  readonly actorsGone: readonly string[];
}

/** What a store kept from earlier runs. */
export interface Recovered {
  /** In the order they were accepted. */
  readonly tasks: readonly StoredTask[];
  /** Retained results, oldest first, one per id. */
  readonly results: readonly TaskResult[];
  /** Actors left live by earlier runs (stopped by shutdown, or by the process dying), each with its last snapshot. */
  readonly actors: readonly StoredActor[];
}

/** A backend as its thread drives it: opened there, then written by one journal only. */
export interface TaskStore {
  /** Writes the changes, in order, in one transaction; throws (writing nothing) when it cannot. */
  commit(changes: readonly Changes[]): void;
  /** The file's size on disk, in bytes (database and write-ahead log). */
  size(): number;
  /** Checkpoints and closes. */
  close(): void;
}

/** The journal's side of an open store. */
export interface StoreWriter {
  readonly path: string;
  /**
   * Writes `changes` after every earlier write. Resolves once they are on
   * disk, with how long the transaction that held them took (ms); rejects
   * with the cause when they cannot be, and so does every later write.
   */
  write(changes: Changes): Promise<number>;
  /** The file's size on disk, in bytes, as last measured. */
  size(): number;
  /**
   * The actor `id` as stored once every write made so far is on disk, or
   * undefined; rejects with the store's error once a write has failed. For
   * a virtual actor activated again: its snapshot is read back rather than
   * kept in memory.
   */
  readActor(id: string): Promise<StoredActor | undefined>;
  /** Closes once the writes made so far are done (the log checkpointed into the file); the file is then free for another process. */
  close(): Promise<void>;
}

/** A store opened for a processor: its writer, and what earlier runs left in it. */
export interface OpenStore {
  readonly writer: StoreWriter;
  readonly recovered: Recovered;
}

/**
 * store/: durability without a server. The interface a backend implements
 * (this file), the SQLite backend (sqlite.ts) and its options (options.ts).
 * The supervisor writes through its journal (supervisor/journal.ts) and
 * queues stored tasks again at start (supervisor/recovery.ts). A second
 * backend (Node 22's `node:sqlite`, say) is one more file implementing
 * `TaskStore`.
 */
import type { TaskResult } from '../task/types.js';

/** The states an unfinished task is stored in. */
export type StoredState = 'scheduled' | 'queued' | 'processing' | 'retrying';

/** An unfinished task as it is stored: enough to queue it again in another process. */
export interface StoredTask {
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
  /** Attempts that ended with their thread, or the whole process, dying. */
  readonly crashes: number;
  /** `scheduled`: when it is due; `retrying`: when its retry is due; on the processor's clock. */
  readonly dueAt: number | undefined;
}

/** What changed since the last commit, in the order it happened. */
export interface Changes {
  /** Tasks accepted, or whose state, attempts or crashes changed (the whole row). */
  readonly tasks: readonly StoredTask[];
  /** Ids of stored tasks that ended (their result is in `results`) or left. */
  readonly ended: readonly string[];
  readonly results: readonly TaskResult[];
  /** `clearResults()` was called: every stored result goes, before `results` are added. */
  readonly clearResults: boolean;
}

/** What a store kept from earlier runs. */
export interface Recovered {
  readonly tasks: readonly StoredTask[];
  /** Retained results, oldest first. */
  readonly results: readonly TaskResult[];
}

/** A backend: opened (and locked) by its factory, then written by one journal only. */
export interface TaskStore {
  readonly path: string;
  /** Everything the file holds: the unfinished tasks and the retained results. */
  load(): Recovered;
  /** Writes the changes in one transaction; throws (writing nothing) when it cannot. */
  commit(changes: Changes): void;
  /** The file's size on disk, in bytes (database and write-ahead log). */
  size(): number;
  /** Checkpoints and closes; the file is free for another process. */
  close(): void;
}

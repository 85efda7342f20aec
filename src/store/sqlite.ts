import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { deserialize, serialize } from 'node:v8';

import type BetterSqlite3 from 'better-sqlite3';

import { StoreError, StoreLockedError } from '../errors/errors.js';
import { deserializeError, type SerializedError, serializeError } from '../errors/serialize.js';
import type { TaskResult } from '../task/types.js';
import type { SqliteStore } from './options.js';
import type { Changes, Recovered, StoredState, StoredTask, TaskStore } from './store.js';

/** Marks a file as Troupe's (SQLite's `application_id`): 'TRPE'. */
const APPLICATION_ID = 0x54525045;
/**
 * The schema's version (SQLite's `user_version`). A file of an older version
 * is migrated when opened (MIGRATIONS[n] takes version n to n + 1); one of a
 * newer version is refused, unchanged. See docs/durability.md.
 */
export const SCHEMA_VERSION = 1;

const SCHEMA = `
  CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    handler TEXT NOT NULL,
    priority INTEGER NOT NULL,
    max_retries INTEGER NOT NULL,
    timeout INTEGER,
    payload BLOB NOT NULL,
    submitted_at INTEGER NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    crashes INTEGER NOT NULL,
    due_at INTEGER
  ) WITHOUT ROWID;
  CREATE TABLE results (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    failed INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    result BLOB NOT NULL
  );
  CREATE INDEX results_by_kind ON results (failed, seq);
`;

/** Steps from each older schema version to the next; none yet. */
const MIGRATIONS: ReadonlyArray<(db: BetterSqlite3.Database) => void> = [];

export interface StoreRetention {
  readonly maxResults: number;
  readonly maxFailed: number;
  /** Results older than this (ms since they finished) are dropped; Infinity keeps them. */
  readonly maxAge: number;
}

type Database = BetterSqlite3.Database;
type Statement = BetterSqlite3.Statement;

interface TaskRow {
  id: string;
  handler: string;
  priority: number;
  max_retries: number;
  timeout: number | null;
  payload: Uint8Array;
  submitted_at: number;
  state: StoredState;
  attempts: number;
  crashes: number;
  due_at: number | null;
}

/** A result as stored: its error flattened, so it comes back as its class. */
type Flat = Omit<TaskResult, 'error'> & { error?: SerializedError };

/** Loads better-sqlite3 (an optional peer dependency), or says which package to install. */
function driver(path: string): typeof BetterSqlite3 {
  try {
    return createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
  } catch (cause) {
    throw new StoreError(path, 'sqliteStore needs the better-sqlite3 package (12.x): npm install better-sqlite3@12', { cause });
  }
}

/**
 * Opens (creating it when missing) and locks the store's file, checks that
 * it is a Troupe store of a version this code reads, and migrates an older
 * one. Throws `StoreLockedError` when another process has it open, and
 * `StoreError` for anything else, having changed nothing in the file.
 */
export function openSqliteStore(config: SqliteStore, retention: StoreRetention): TaskStore {
  const Database = driver(config.path);
  let db: Database;
  try {
    // No busy wait: a file in use is refused at once, not after a timeout.
    db = new Database(config.path, { timeout: 0 });
  } catch (cause) {
    throw new StoreError(config.path, `Could not open the task store ${config.path}: ${(cause as Error).message}`, { cause });
  }
  try {
    claim(db, config.path);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${config.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  } catch (error) {
    db.close();
    throw error;
  }
  return new SqliteTaskStore(db, config.path, retention);
}

/**
 * Takes the file for this process (an exclusive lock held until close) and
 * checks what is in it, inside one transaction: a refusal rolls back,
 * leaving the file as it was.
 */
function claim(db: Database, path: string): void {
  try {
    // Exclusive before WAL: the lock then lasts as long as the connection.
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') throw new StoreLockedError(path, { cause });
    throw new StoreError(path, `${path} is not a Troupe task store (${(cause as Error).message})`, { cause });
  }
  try {
    const application = db.pragma('application_id', { simple: true }) as number;
    const version = db.pragma('user_version', { simple: true }) as number;
    const tables = (db.prepare(`SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'`).get() as { n: number }).n;
    if (tables === 0 && application === 0) {
      db.exec(SCHEMA);
      db.pragma(`application_id = ${APPLICATION_ID}`);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    } else if (application !== APPLICATION_ID) {
      throw new StoreError(path, `${path} is an SQLite database, but not a Troupe task store (application_id ${application})`);
    } else if (version > SCHEMA_VERSION) {
      throw new StoreError(
        path,
        `${path} has schema version ${version}, newer than this Troupe's ${SCHEMA_VERSION}: upgrade Troupe to open it`,
      );
    } else {
      for (let from = version; from < SCHEMA_VERSION; from++) (MIGRATIONS[from - 1] as (db: Database) => void)(db);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    }
    db.exec('COMMIT');
  } catch (error) {
    db.exec('ROLLBACK');
    if (error instanceof StoreError) throw error;
    throw new StoreError(path, `Could not read the task store ${path}: ${(error as Error).message}`, { cause: error });
  }
}

class SqliteTaskStore implements TaskStore {
  readonly path: string;
  readonly #db: Database;
  readonly #retention: StoreRetention;
  readonly #upsert: Statement;
  readonly #remove: Statement;
  readonly #addResult: Statement;
  readonly #write: (changes: Changes) => void;
  /** Results stored, by kind: trimmed to the retention once they exceed it by a margin, so a commit rarely pays for it. */
  #done = 0;
  #failed = 0;
  #agedAt = 0;

  constructor(db: Database, path: string, retention: StoreRetention) {
    this.#db = db;
    this.path = path;
    this.#retention = retention;
    this.#upsert = db.prepare(
      `INSERT INTO tasks (id, handler, priority, max_retries, timeout, payload, submitted_at, state, attempts, crashes, due_at)
       VALUES (@id, @handler, @priority, @max_retries, @timeout, @payload, @submitted_at, @state, @attempts, @crashes, @due_at)
       ON CONFLICT (id) DO UPDATE SET state = excluded.state, attempts = excluded.attempts, crashes = excluded.crashes, due_at = excluded.due_at`,
    );
    this.#remove = db.prepare('DELETE FROM tasks WHERE id = ?');
    // REPLACE: a result of an earlier task of the id goes, and the new one takes the newest place.
    this.#addResult = db.prepare('INSERT OR REPLACE INTO results (id, failed, finished_at, result) VALUES (?, ?, ?, ?)');
    this.#write = db.transaction((changes: Changes) => this.#apply(changes));
    const counts = db.prepare('SELECT failed, count(*) AS n FROM results GROUP BY failed').all() as Array<{ failed: number; n: number }>;
    for (const { failed, n } of counts) {
      if (failed) this.#failed = n;
      else this.#done = n;
    }
  }

  load(): Recovered {
    this.#trim(true);
    const rows = this.#db.prepare('SELECT * FROM tasks').all() as TaskRow[];
    const tasks: StoredTask[] = rows.map((row) => ({
      id: row.id,
      handler: row.handler,
      priority: row.priority,
      maxRetries: row.max_retries,
      timeout: row.timeout ?? undefined,
      payload: row.payload,
      submittedAt: row.submitted_at,
      state: row.state,
      attempts: row.attempts,
      crashes: row.crashes,
      dueAt: row.due_at ?? undefined,
    }));
    const stored = this.#db.prepare('SELECT result FROM results ORDER BY seq').all() as Array<{ result: Uint8Array }>;
    const results = stored.map(({ result }) => rebuild(deserialize(result) as Flat));
    return { tasks, results };
  }

  commit(changes: Changes): void {
    this.#write(changes);
  }

  #apply(changes: Changes): void {
    if (changes.clearResults) {
      this.#db.exec('DELETE FROM results');
      this.#done = 0;
      this.#failed = 0;
    }
    for (const id of changes.ended) this.#remove.run(id);
    for (const task of changes.tasks) {
      this.#upsert.run({
        id: task.id,
        handler: task.handler,
        priority: task.priority,
        max_retries: task.maxRetries,
        timeout: task.timeout ?? null,
        payload: task.payload,
        submitted_at: task.submittedAt,
        state: task.state,
        attempts: task.attempts,
        crashes: task.crashes,
        due_at: task.dueAt ?? null,
      });
    }
    for (const result of changes.results) {
      const failed = result.status === 'failed';
      this.#addResult.run(result.id, failed ? 1 : 0, result.finishedAt, serialize(flatten(result)));
      if (failed) this.#failed++;
      else this.#done++;
    }
    this.#trim(false);
  }

  /**
   * Keeps the results within the retention: the oldest go first, by kind,
   * once a kind exceeds its bound by an eighth (so trimming is rare and
   * batched); results past `maxAge` go at most once a second.
   */
  #trim(exact: boolean): void {
    const { maxResults, maxFailed, maxAge } = this.#retention;
    const over = (count: number, max: number) => (exact ? count > max : count > max + Math.max(64, max >> 3));
    if (over(this.#done, maxResults)) this.#done -= this.#drop(0, this.#done - maxResults);
    if (over(this.#failed, maxFailed)) this.#failed -= this.#drop(1, this.#failed - maxFailed);
    const now = Date.now();
    if (maxAge !== Infinity && (exact || now - this.#agedAt >= 1_000)) {
      this.#agedAt = now;
      const aged = this.#db.prepare('DELETE FROM results WHERE finished_at < ? RETURNING failed').all(now - maxAge) as Array<{
        failed: number;
      }>;
      for (const { failed } of aged) {
        if (failed) this.#failed--;
        else this.#done--;
      }
    }
  }

  /** Drops the `count` oldest results of a kind; returns how many went. */
  #drop(failed: 0 | 1, count: number): number {
    const sql = 'DELETE FROM results WHERE seq IN (SELECT seq FROM results WHERE failed = ? ORDER BY seq LIMIT ?)';
    return this.#db.prepare(sql).run(failed, count).changes;
  }

  size(): number {
    let bytes = 0;
    for (const file of [this.path, `${this.path}-wal`]) {
      try {
        bytes += statSync(file).size;
      } catch {
        // No log file at the moment: nothing to count.
      }
    }
    return bytes;
  }

  close(): void {
    try {
      this.#db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.#db.close();
    }
  }
}

function flatten(result: TaskResult): Flat {
  return result.status === 'failed' ? { ...result, error: serializeError(result.error) } : result;
}

function rebuild(flat: Flat): TaskResult {
  return (flat.status === 'failed' ? { ...flat, error: deserializeError(flat.error as SerializedError) } : flat) as TaskResult;
}

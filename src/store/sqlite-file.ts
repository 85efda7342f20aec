import { createRequire } from 'node:module';

import type BetterSqlite3 from 'better-sqlite3';

import { StoreError, StoreLockedError } from '../errors/errors.js';
import type { SqliteStore } from './options.js';
import { SqliteTaskStore } from './sqlite.js';
import type { Recovered, StoreRetention } from './store.js';

type Database = BetterSqlite3.Database;

/** Marks a file as Troupe's (SQLite's `application_id`): 'TRPE'. */
const APPLICATION_ID = 0x54525045;
/**
 * The schema's version (SQLite's `user_version`). A file of an older version
 * is migrated when opened (`MIGRATIONS[n - 1]` takes version n to n + 1), in
 * the transaction that checks it; one of a newer version is refused,
 * unchanged. See docs/durability.md.
 */
export const SCHEMA_VERSION = 4;

/** Actors by id: a few rows, each rewritten with its latest snapshot at most once per commit. */
const ACTORS = `
  CREATE TABLE IF NOT EXISTS actors (
    id TEXT PRIMARY KEY,
    logic TEXT NOT NULL,
    restart TEXT NOT NULL,
    snapshot BLOB NOT NULL,
    updated_at INTEGER NOT NULL
  );
`;

/**
 * Done and cancelled results, one row per commit (see sqlite-results.ts): a
 * batch of `count` takes the results' sequence numbers `seq` to
 * `seq + count - 1`, after and before those of the `results` rows around it;
 * `finished_at` is its newest result's, so `maxAge` drops a batch once all of
 * it is past.
 */
const RESULT_BATCHES = `
  CREATE TABLE IF NOT EXISTS result_batches (
    seq INTEGER PRIMARY KEY,
    count INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    batch BLOB NOT NULL
  );
`;

/**
 * Tasks and results are keyed by a number that grows as rows are added, not by
 * the task's id: ids are random (UUIDs by default), and a table or index
 * ordered by them takes each row to a different page, so a commit of a few
 * dozen tasks rewrote a few dozen pages. Keyed in order, new rows share the
 * last pages, and the oldest go from the first ones.
 */
const SCHEMA = `
  CREATE TABLE tasks (
    key INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    handler TEXT NOT NULL,
    priority INTEGER NOT NULL,
    max_retries INTEGER NOT NULL,
    timeout INTEGER,
    payload BLOB NOT NULL,
    submitted_at INTEGER NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    crashes INTEGER NOT NULL,
    suspected INTEGER NOT NULL,
    due_at INTEGER
  );
  CREATE TABLE results (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    failed INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    result BLOB NOT NULL
  );
  CREATE INDEX results_by_kind ON results (failed, seq);
  ${ACTORS}
  ${RESULT_BATCHES}
`;

/**
 * Results by id, only in a file that keeps more results than memory does:
 * only then can a result be on disk and not in memory, to be looked up (or
 * replaced) by its id. Ids are random, so the index costs a page written
 * per result in each commit (0.57x of the in-memory throughput without it,
 * 0.38x with it, in `npm run bench`). Elsewhere done and cancelled results
 * are stored a batch per commit (sqlite-results.ts), and an id's newest
 * result wins when the file is read.
 */
const RESULTS_BY_ID = 'CREATE INDEX IF NOT EXISTS results_by_id ON results (id)';

/**
 * Steps from each older schema version to the next.
 * 1 → 2: tasks keyed by a row key in acceptance order instead of by id, with
 * the process deaths each was a suspect of (none for v1's); results without
 * the unique index on their id (see RESULTS_BY_ID).
 * 2 → 3: the actors table (none stored before).
 * 3 → 4: the result_batches table; the rows a file holds stay rows.
 */
const MIGRATIONS: ReadonlyArray<(db: BetterSqlite3.Database) => void> = [
  (db) =>
    db.exec(`
      ALTER TABLE tasks RENAME TO tasks_v1;
      ALTER TABLE results RENAME TO results_v1;
      DROP INDEX results_by_kind;
      ${SCHEMA}
      INSERT INTO tasks (id, handler, priority, max_retries, timeout, payload, submitted_at, state, attempts, crashes, suspected, due_at)
        SELECT id, handler, priority, max_retries, timeout, payload, submitted_at, state, attempts, crashes, 0, due_at
        FROM tasks_v1 ORDER BY submitted_at;
      INSERT INTO results (seq, id, failed, finished_at, result) SELECT seq, id, failed, finished_at, result FROM results_v1;
      DROP TABLE tasks_v1;
      DROP TABLE results_v1;
    `),
  (db) => db.exec(ACTORS),
  (db) => db.exec(RESULT_BATCHES),
];

/** Loads better-sqlite3 (an optional peer dependency), or says which package to install. */
export function driver(path: string): typeof BetterSqlite3 {
  try {
    return createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
  } catch (cause) {
    throw new StoreError(path, 'sqliteStore needs the better-sqlite3 package (12.x): npm install better-sqlite3@12', { cause });
  }
}

/** An opened store file, checked and read: the lock that keeps it this process's, and what it held. */
export interface ClaimedFile {
  /** Held until the store is closed; `close()` frees the file for another process. */
  readonly lock: { close(): void };
  readonly recovered: Recovered;
}

/**
 * Takes the store's file for this process, creating it when missing, checks
 * that it is a Troupe store of a version this code reads (migrating an older
 * one), trims it to `retention`, and reads what earlier runs left in it: its
 * unfinished tasks, and its newest results up to `memory`. Synchronous, on the main
 * thread, so a processor knows its recovered tasks (and refuses their ids)
 * from the moment it is created. Throws `StoreLockedError` when another
 * process has the file, and `StoreError` for anything else, having changed
 * nothing in it.
 */
export function claimSqliteFile(config: SqliteStore, retention: StoreRetention, memory: StoreRetention = retention): ClaimedFile {
  const byId = retention.maxResults > memory.maxResults || retention.maxFailed > memory.maxFailed;
  const Database = driver(config.path);
  const lock = takeLock(Database, config.path);
  let db: Database | undefined;
  try {
    try {
      // No busy wait: a file in use is refused at once, not after a timeout.
      db = new Database(config.path, { timeout: 0 });
    } catch (cause) {
      throw new StoreError(config.path, `Could not open the task store ${config.path}: ${(cause as Error).message}`, { cause });
    }
    claim(db, config.path);
    db.pragma('journal_mode = WAL');
    db.exec(byId ? RESULTS_BY_ID : 'DROP INDEX IF EXISTS results_by_id');
    const recovered = new SqliteTaskStore(db, config.path, retention).recover(memory);
    db.close();
    return { lock, recovered };
  } catch (error) {
    db?.close();
    lock.close();
    if (error instanceof StoreError || error instanceof StoreLockedError) throw error;
    throw new StoreError(config.path, `Could not read the task store ${config.path}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * One process per store: an exclusive lock on a file beside it
 * (`<path>-lock`, an empty SQLite database), held by the main thread for as
 * long as the store is open. The store's own file is written from another
 * thread, with another connection, so its connection cannot hold the lock
 * itself. The operating system drops the lock when the process dies,
 * however it dies. The file stays: removing it could race another
 * process taking it.
 */
function takeLock(Database: typeof BetterSqlite3, path: string): Database {
  const file = `${path}-lock`;
  let lock: Database;
  try {
    lock = new Database(file, { timeout: 0 });
  } catch (cause) {
    throw new StoreError(path, `Could not create the task store's lock file ${file}: ${(cause as Error).message}`, { cause });
  }
  try {
    // In exclusive locking mode, the lock a transaction takes is kept after it ends.
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.exec('BEGIN EXCLUSIVE');
    lock.exec('COMMIT');
    return lock;
  } catch (cause) {
    lock.close();
    const code = (cause as { code?: string }).code;
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') throw new StoreLockedError(path, { cause });
    throw new StoreError(path, `Could not lock the task store ${path} (${file}): ${(cause as Error).message}`, { cause });
  }
}

/**
 * Checks what is in the file, creating the schema in an empty one and
 * migrating an older one, inside one transaction: a refusal rolls back,
 * leaving the file as it was.
 */
function claim(db: Database, path: string): void {
  try {
    db.exec('BEGIN IMMEDIATE');
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

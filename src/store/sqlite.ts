import { statSync } from 'node:fs';
import { deserialize, serialize } from 'node:v8';

import type BetterSqlite3 from 'better-sqlite3';

import { deserializeError, type SerializedError } from '../errors/serialize.js';
import type { TaskResult } from '../task/types.js';
import type { Changes, Recovered, StoredActor, StoredResult, StoredState, StoredTask, TaskStore } from './store.js';

export interface StoreRetention {
  readonly maxResults: number;
  readonly maxFailed: number;
  /** Results older than this (ms since they finished) are dropped; Infinity keeps them. */
  readonly maxAge: number;
}

type Database = BetterSqlite3.Database;
type Statement = BetterSqlite3.Statement;

interface TaskRow {
  key: number;
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
  suspected: number;
  due_at: number | null;
}

/**
 * A store's SQLite file, as rows: read once on the main thread when the
 * store is opened (`recover`), then written by the store's thread (`commit`),
 * each with a connection of its own.
 */
export class SqliteTaskStore implements TaskStore {
  readonly path: string;
  readonly #db: Database;
  readonly #retention: StoreRetention;
  readonly #upsert: Statement;
  readonly #remove: Statement;
  readonly #addResult: Statement;
  readonly #replace: Statement | undefined;
  readonly #saveActor: Statement;
  readonly #dropActor: Statement;
  readonly #write: (changes: readonly Changes[]) => void;
  /** Results stored, by kind: trimmed to the retention once they exceed it by a margin, so a commit rarely pays for it. */
  #done = 0;
  #failed = 0;
  #agedAt = 0;

  constructor(db: Database, path: string, retention: StoreRetention) {
    this.#db = db;
    this.path = path;
    this.#retention = retention;
    this.#upsert = db.prepare(
      `INSERT INTO tasks (key, id, handler, priority, max_retries, timeout, payload, submitted_at, state, attempts, crashes, suspected, due_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET state = excluded.state, attempts = excluded.attempts, crashes = excluded.crashes,
         suspected = excluded.suspected, due_at = excluded.due_at`,
    );
    this.#remove = db.prepare('DELETE FROM tasks WHERE key = ?');
    this.#addResult = db.prepare('INSERT INTO results (id, failed, finished_at, result) VALUES (?, ?, ?, ?)');
    // One result per id: with results indexed by id (see sqlite-file.ts), an earlier task's goes when a later task of
    // its id ends; without, it goes when the file is next read.
    const indexed = db.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = 'results_by_id'`).get() !== undefined;
    this.#replace = indexed ? db.prepare('DELETE FROM results WHERE id = ? RETURNING failed') : undefined;
    this.#saveActor = db.prepare(
      `INSERT INTO actors (id, logic, restart, snapshot, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET logic = excluded.logic, restart = excluded.restart, snapshot = excluded.snapshot,
         updated_at = excluded.updated_at`,
    );
    this.#dropActor = db.prepare('DELETE FROM actors WHERE id = ?');
    this.#write = db.transaction((changes: readonly Changes[]) => {
      for (const change of changes) this.#apply(change);
      this.#trim(false);
    });
    const counts = db.prepare('SELECT failed, count(*) AS n FROM results GROUP BY failed').all() as Array<{ failed: number; n: number }>;
    for (const { failed, n } of counts) {
      if (failed) this.#failed = n;
      else this.#done = n;
    }
  }

  /** Drops what retention no longer keeps, then reads the unfinished tasks, and the newest results up to `memory`. */
  recover(memory: StoreRetention): Recovered {
    // An id's earlier results, left when a task of the id ran again in a file without an index by id.
    if (!this.#replace) {
      const replaced = this.#db
        .prepare('DELETE FROM results WHERE seq NOT IN (SELECT max(seq) FROM results GROUP BY id) RETURNING failed')
        .all() as Array<{ failed: number }>;
      for (const { failed } of replaced) {
        if (failed) this.#failed--;
        else this.#done--;
      }
    }
    this.#trim(true);
    const rows = this.#db.prepare('SELECT * FROM tasks ORDER BY key').all() as TaskRow[];
    const tasks: StoredTask[] = rows.map((row) => ({
      key: row.key,
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
      suspected: row.suspected,
      dueAt: row.due_at ?? undefined,
    }));
    const newest = this.#db.prepare(
      `SELECT seq, result FROM (SELECT seq, result FROM results WHERE failed = 0 ORDER BY seq DESC LIMIT ?)
       UNION ALL SELECT seq, result FROM (SELECT seq, result FROM results WHERE failed = 1 ORDER BY seq DESC LIMIT ?)
       ORDER BY seq`,
    );
    const limit = (n: number) => (n === Infinity ? -1 : n);
    const stored = newest.all(limit(memory.maxResults), limit(memory.maxFailed)) as Array<{ result: Uint8Array }>;
    const results = stored.map(({ result }) => rebuildResult(deserialize(result) as StoredResult));
    const actorRows = this.#db.prepare('SELECT id, logic, restart, snapshot FROM actors ORDER BY updated_at').all() as Array<
      Omit<StoredActor, 'snapshot'> & { snapshot: Uint8Array }
    >;
    const actors = actorRows.map((row) => ({ ...row, snapshot: deserialize(row.snapshot) as unknown }));
    return { tasks, results, actors };
  }

  commit(changes: readonly Changes[]): void {
    this.#write(changes);
  }

  #apply(changes: Changes): void {
    if (changes.clearResults) {
      this.#db.exec('DELETE FROM results');
      this.#done = 0;
      this.#failed = 0;
    }
    for (const key of changes.ended) this.#remove.run(key);
    for (const task of changes.tasks) {
      // Positional parameters: binding by name costs a property lookup per column per row.
      this.#upsert.run(
        task.key,
        task.id,
        task.handler,
        task.priority,
        task.maxRetries,
        task.timeout ?? null,
        task.payload,
        task.submittedAt,
        task.state,
        task.attempts,
        task.crashes,
        task.suspected,
        task.dueAt ?? null,
      );
    }
    const now = Date.now();
    for (const actor of changes.actors) this.#saveActor.run(actor.id, actor.logic, actor.restart, serialize(actor.snapshot), now);
    for (const id of changes.actorsGone) this.#dropActor.run(id);
    for (const result of changes.results) {
      const failed = result.status === 'failed';
      for (const old of (this.#replace?.all(result.id) ?? []) as Array<{ failed: number }>) {
        if (old.failed) this.#failed--;
        else this.#done--;
      }
      this.#addResult.run(result.id, failed ? 1 : 0, result.finishedAt, serialize(result));
      if (failed) this.#failed++;
      else this.#done++;
    }
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
    return storeFileBytes(this.path);
  }

  close(): void {
    try {
      this.#db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.#db.close();
    }
  }
}

/** A store's size on disk, in bytes: its database file and its write-ahead log. */
export function storeFileBytes(path: string): number {
  let bytes = 0;
  for (const file of [path, `${path}-wal`]) {
    try {
      bytes += statSync(file).size;
    } catch {
      // No log file at the moment: nothing to count.
    }
  }
  return bytes;
}

/** A stored result as the processor reports it: a failure's error back as its class. */
export function rebuildResult(stored: StoredResult): TaskResult {
  return (stored.status === 'failed' ? { ...stored, error: deserializeError(stored.error as SerializedError) } : stored) as TaskResult;
}

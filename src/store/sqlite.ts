import { statSync } from 'node:fs';
import { deserialize, serialize } from 'node:v8';

import type BetterSqlite3 from 'better-sqlite3';

import { deserializeError, type SerializedError } from '../errors/serialize.js';
import type { TaskResult } from '../task/types.js';
import { SqliteResults } from './sqlite-results.js';
import type { Changes, Recovered, StoredActor, StoredResult, StoredState, StoredTask, StoreRetention, TaskStore } from './store.js';
import { STORED_STATES, UPDATE_FIELDS } from './store.js';

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
  readonly #upsert: Statement;
  readonly #update: Statement;
  readonly #remove: Statement;
  readonly #results: SqliteResults;
  readonly #saveActor: Statement;
  readonly #dropActor: Statement;
  #readActor: Statement | undefined;
  readonly #write: (changes: readonly Changes[]) => void;

  constructor(db: Database, path: string, retention: StoreRetention) {
    this.#db = db;
    this.path = path;
    this.#upsert = db.prepare(
      `INSERT INTO tasks (key, id, handler, priority, max_retries, timeout, payload, submitted_at, state, attempts, crashes, suspected, due_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET state = excluded.state, attempts = excluded.attempts, crashes = excluded.crashes,
         suspected = excluded.suspected, due_at = excluded.due_at`,
    );
    this.#update = db.prepare('UPDATE tasks SET state = ?, attempts = ?, crashes = ?, suspected = ?, due_at = ? WHERE key = ?');
    this.#remove = db.prepare('DELETE FROM tasks WHERE key = ?');
    this.#results = new SqliteResults(db, retention);
    this.#saveActor = db.prepare(
      `INSERT INTO actors (id, logic, restart, snapshot, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET logic = excluded.logic, restart = excluded.restart, snapshot = excluded.snapshot,
         updated_at = excluded.updated_at`,
    );
    this.#dropActor = db.prepare('DELETE FROM actors WHERE id = ?');
    this.#write = db.transaction((changes: readonly Changes[]) => {
      for (const change of changes) this.#apply(change);
      this.#results.endCommit();
    });
  }

  /** Drops what retention no longer keeps, then reads the unfinished tasks, and the newest results up to `memory`. */
  recover(memory: StoreRetention): Recovered {
    this.#results.dropSuperseded();
    this.#results.trim(true);
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
    const results = this.#results.newest(memory).map(rebuildResult);
    const actorRows = this.#db.prepare('SELECT id, logic, restart, snapshot FROM actors ORDER BY updated_at').all() as Array<
      Omit<StoredActor, 'snapshot'> & { snapshot: Uint8Array }
    >;
    const actors = actorRows.map((row) => ({ ...row, snapshot: deserialize(row.snapshot) as unknown }));
    return { tasks, results, actors };
  }

  /** One actor as stored, or none. */
  readActor(id: string): StoredActor | undefined {
    const row = (this.#readActor ??= this.#db.prepare('SELECT id, logic, restart, snapshot FROM actors WHERE id = ?')).get(id) as
      (Omit<StoredActor, 'snapshot'> & { snapshot: Uint8Array }) | undefined;
    return row && { ...row, snapshot: deserialize(row.snapshot) as unknown };
  }

  commit(changes: readonly Changes[]): void {
    this.#write(changes);
  }

  #apply(changes: Changes): void {
    if (changes.clearResults) this.#results.clear();
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
        serialize(task.payload),
        task.submittedAt,
        task.state,
        task.attempts,
        task.crashes,
        task.suspected,
        task.dueAt ?? null,
      );
    }
    const { updates } = changes;
    for (let i = 0; i < updates.length; i += UPDATE_FIELDS) {
      const dueAt = updates[i + 5] as number;
      this.#update.run(
        STORED_STATES[updates[i + 1] as number],
        updates[i + 2],
        updates[i + 3],
        updates[i + 4],
        Number.isNaN(dueAt) ? null : dueAt,
        updates[i],
      );
    }
    const now = Date.now();
    for (const actor of changes.actors) this.#saveActor.run(actor.id, actor.logic, actor.restart, serialize(actor.snapshot), now);
    for (const id of changes.actorsGone) this.#dropActor.run(id);
    for (const result of changes.results) this.#results.add(result);
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

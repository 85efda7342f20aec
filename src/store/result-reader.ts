import { deserialize } from 'node:v8';

import type BetterSqlite3 from 'better-sqlite3';

import type { TaskResult } from '../task/types.js';
import { rebuildResult } from './sqlite.js';
import { driver } from './sqlite-file.js';
import type { StoredResult } from './store.js';

/** Results a store holds, looked up one id at a time, beyond what memory retains. */
export interface ResultReader {
  /** The result the file holds for `id`, if any (read at the call: one indexed lookup). */
  get(id: string): TaskResult | undefined;
  close(): void;
}

/**
 * A read-only connection to a store that a processor of this process has
 * open: in WAL mode it reads what has been committed without holding up the
 * store's writes. `troupe run --store` asks it which lines an earlier run
 * finished. Meant for a store whose own retention keeps more than memory:
 * its results are then indexed by id (without the index, each lookup would
 * read the whole table).
 */
export function openResultReader(path: string): ResultReader {
  const Database = driver(path);
  const db: BetterSqlite3.Database = new Database(path, { readonly: true, fileMustExist: true });
  const byId = db.prepare('SELECT result FROM results WHERE id = ?');
  return {
    get(id) {
      const row = byId.get(id) as { result: Uint8Array } | undefined;
      return row && rebuildResult(deserialize(row.result) as StoredResult);
    },
    close: () => db.close(),
  };
}

import { resolve } from 'node:path';

import { InvalidOptionError } from '../errors/errors.js';
import { checkNumber, checkObject, describe, type NumberRule } from '../util/validate.js';

/** Where a processor keeps its tasks and results on disk, and how safely. */
export interface SqliteStoreOptions {
  /** The database file, created when missing; relative to the current directory. One processor per file. */
  path: string;
  /**
   * `'normal'`: SQLite's WAL mode with `synchronous=NORMAL`: a commit survives
   * the process dying (kill -9, a crash, an OOM kill), and the last commits
   * before a power loss or an OS crash may be lost. `'full'`: each commit is
   * also flushed to the disk (fsync) before it counts, so it survives those
   * too, at the price of a flush per commit.
   * @defaultValue 'normal'
   */
  synchronous?: 'normal' | 'full';
  /**
   * What the file keeps, when it should keep more (or less) than memory:
   * each field omitted is the processor's `retention`. `Infinity` keeps
   * every result. At start, memory is filled with the newest results the
   * processor's `retention` allows; the rest stay on disk. (`troupe run
   * --store` keeps every result on disk and none in memory.)
   */
  retention?: { maxResults?: number; maxFailed?: number; maxAge?: number };
}

/** A validated store configuration: pass it as `createProcessor({ store })`. */
export interface SqliteStore {
  readonly kind: 'sqlite';
  /** Absolute path of the database file. */
  readonly path: string;
  readonly synchronous: 'normal' | 'full';
  /** The file's own retention, field by field; the processor's for each one omitted. */
  readonly retention: { readonly maxResults?: number; readonly maxFailed?: number; readonly maxAge?: number };
}

const count: NumberRule = { expected: 'an integer ≥ 0, or Infinity', test: (v) => v === Infinity || (Number.isSafeInteger(v) && v >= 0) };
const age: NumberRule = { expected: 'a positive number of ms, or Infinity', test: (v) => v > 0 };

/**
 * Keeps a processor's tasks and results in one SQLite file, so they survive
 * the process: at `ready`, the tasks a previous run left unfinished are queued
 * again, and its results are readable (see docs/durability.md). Needs the
 * `better-sqlite3` package (12.x), loaded only when a store is used. Throws
 * `InvalidOptionError` for bad options; the file is opened by
 * `createProcessor`, and `ready` rejects if it cannot be used.
 *
 * @example
 * ```ts
 * import { createProcessor, sqliteStore } from 'troupe';
 *
 * const processor = createProcessor({ handlers, store: sqliteStore({ path: './tasks.db' }) });
 * await processor.ready; // open, and last run's unfinished tasks queued again
 * await processor.submitAsync({ id: 'invoice-7', payload }); // on disk once this resolves
 * ```
 */
export function sqliteStore(options: SqliteStoreOptions): SqliteStore {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('store', `Expected store options to be an object, got ${describe(options)}`);
  }
  const { path, synchronous = 'normal', retention } = options;
  if (typeof path !== 'string' || path.length === 0) {
    throw new InvalidOptionError('store.path', `Expected \`store.path\` to be a file path, got ${describe(path)}`);
  }
  if (synchronous !== 'normal' && synchronous !== 'full') {
    throw new InvalidOptionError(
      'store.synchronous',
      `Expected \`store.synchronous\` to be 'normal' or 'full', got ${describe(synchronous)}`,
    );
  }
  const keep = checkObject('store.retention', retention);
  const file: { maxResults?: number; maxFailed?: number; maxAge?: number } = {};
  for (const [field, rule] of [
    ['maxResults', count],
    ['maxFailed', count],
    ['maxAge', age],
  ] as const) {
    if (keep[field] !== undefined) file[field] = checkNumber(`store.retention.${field}`, keep[field], rule);
  }
  return Object.freeze({ kind: 'sqlite' as const, path: resolve(path), synchronous, retention: Object.freeze(file) });
}

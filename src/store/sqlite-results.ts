import { deserialize, serialize } from 'node:v8';

import type BetterSqlite3 from 'better-sqlite3';

import type { StoredResult, StoreRetention } from './store.js';

type Database = BetterSqlite3.Database;
type Statement = BetterSqlite3.Statement;

/** A result read back, with its place in the order results were stored. */
interface Sequenced {
  readonly seq: number;
  readonly result: StoredResult;
}

/**
 * The results a store's file keeps, in the order they were stored, each kind
 * (failed; done or cancelled) within its retention. Two shapes, one order:
 *
 * - a **row** per result (`results`): every failed one, and every one in a
 *   file indexed by id (which keeps more than memory does: a result must then
 *   be found, and replaced, by its id alone);
 * - otherwise a **batch** per commit (`result_batches`) holding the done and
 *   cancelled results that ended in a row between failed ones, as one
 *   structured-clone array. One insert and one `v8.serialize` per commit
 *   instead of per result: on a stream of small tasks, a result row cost the
 *   store's thread about 10 us a task (half of it serializing, half the insert),
 *   more than the rest of the task's journal together.
 *
 * A batch of `count` results takes the sequence numbers `seq` to
 * `seq + count - 1`, so rows and batches share one order, and a batch spread
 * into rows (when the file becomes indexed by id) keeps it. Retention drops
 * whole batches, oldest first, never taking the kept count below its bound,
 * so a file keeps up to a batch more than the bound (and an eighth more, see
 * `trim`). An id's newest result wins when the file is read; in a file indexed
 * by id, an earlier row of the id goes as soon as a newer one is stored.
 */
export class SqliteResults {
  readonly #db: Database;
  readonly #retention: StoreRetention;
  readonly #addRow: Statement;
  readonly #addBatch: Statement;
  readonly #replace: Statement | undefined;
  /** The next result's sequence number. */
  #seq: number;
  /** Done or cancelled results waiting to be stored as one batch at the end of the commit. */
  #batch: StoredResult[] = [];
  /** Results stored, by kind, superseded ones included: trimmed to the retention once they exceed it by a margin. */
  #done = 0;
  #failed = 0;
  #agedAt = 0;

  constructor(db: Database, retention: StoreRetention) {
    this.#db = db;
    this.#retention = retention;
    this.#addRow = db.prepare('INSERT INTO results (seq, id, failed, finished_at, result) VALUES (?, ?, ?, ?, ?)');
    this.#addBatch = db.prepare('INSERT INTO result_batches (seq, count, finished_at, batch) VALUES (?, ?, ?, ?)');
    const indexed = db.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = 'results_by_id'`).get() !== undefined;
    this.#replace = indexed ? db.prepare('DELETE FROM results WHERE id = ? RETURNING failed') : undefined;
    if (indexed) db.transaction(() => this.#spreadBatches())();
    const rows = db.prepare('SELECT failed, count(*) AS n, max(seq) AS last FROM results GROUP BY failed').all() as Array<{
      failed: number;
      n: number;
      last: number;
    }>;
    let last = 0;
    for (const { failed, n, last: seq } of rows) {
      if (failed) this.#failed = n;
      else this.#done = n;
      last = Math.max(last, seq);
    }
    const batches = db.prepare('SELECT sum(count) AS n, max(seq + count - 1) AS last FROM result_batches').get() as {
      n: number | null;
      last: number | null;
    };
    this.#done += batches.n ?? 0;
    this.#seq = Math.max(last, batches.last ?? 0) + 1;
  }

  /** Stores `result` after every earlier one: as a row, or in the batch the commit ends with (`endCommit`). */
  add(result: StoredResult): void {
    const failed = result.status === 'failed';
    if (!failed && !this.#replace) {
      this.#batch.push(result);
      return;
    }
    this.#storeBatch();
    for (const old of (this.#replace?.all(result.id) ?? []) as Array<{ failed: number }>) this.#forget(old.failed);
    this.#addRow.run(this.#seq++, result.id, failed ? 1 : 0, result.finishedAt, serialize(result));
    if (failed) this.#failed++;
    else this.#done++;
  }

  /** Drops every stored result. */
  clear(): void {
    this.#batch = [];
    this.#db.exec('DELETE FROM results; DELETE FROM result_batches');
    this.#done = 0;
    this.#failed = 0;
  }

  /** At the end of a commit's transaction: the batch is stored, and the results trimmed to the retention. */
  endCommit(): void {
    this.#storeBatch();
    this.trim(false);
  }

  /**
   * Keeps the results within the retention: the oldest go first, by kind,
   * once a kind exceeds its bound by an eighth (`exact`: at all), so
   * trimming is rare and batched; results past `maxAge` go at most once a
   * second.
   */
  trim(exact: boolean): void {
    const { maxResults, maxFailed, maxAge } = this.#retention;
    const over = (count: number, max: number) => (exact ? count > max : count > max + Math.max(64, max >> 3));
    if (over(this.#done, maxResults)) this.#done -= this.#dropDone(this.#done - maxResults);
    if (over(this.#failed, maxFailed)) this.#failed -= this.#dropRows(1, this.#failed - maxFailed);
    const now = Date.now();
    if (maxAge === Infinity || (!exact && now - this.#agedAt < 1_000)) return;
    this.#agedAt = now;
    const before = now - maxAge;
    const aged = this.#db.prepare('DELETE FROM results WHERE finished_at < ? RETURNING failed').all(before) as Array<{ failed: number }>;
    for (const { failed } of aged) this.#forget(failed);
    const batches = this.#db.prepare('DELETE FROM result_batches WHERE finished_at < ? RETURNING count').all(before) as Array<{
      count: number;
    }>;
    for (const { count } of batches) this.#done -= count;
  }

  /** In a file not indexed by id: drops the rows an id's newer row superseded (a batch's entries go with their batch). */
  dropSuperseded(): void {
    if (this.#replace) return;
    const superseded = this.#db
      .prepare('DELETE FROM results WHERE seq NOT IN (SELECT max(seq) FROM results GROUP BY id) RETURNING failed')
      .all() as Array<{ failed: number }>;
    for (const { failed } of superseded) this.#forget(failed);
  }

  /**
   * The newest result of each id, oldest first, up to `memory`'s bound of
   * each kind: what fills memory at start. In a file indexed by id, reads
   * rows no further back than the bounds need (such a file, for `troupe run
   * --store`, may hold millions, and memory none); any other holds no more
   * than memory does, and is read whole.
   */
  newest(memory: StoreRetention): StoredResult[] {
    // Not indexed by id, the file keeps no more than memory (and trimming's margin): every row is read, so that a
    // newer result of an id in a batch, or an older one beyond memory's bound, is seen before an id is reported.
    const limit = (n: number) => (n === Infinity || !this.#replace ? -1 : n);
    const newestRows = this.#db.prepare(
      `SELECT seq, result FROM (SELECT seq, result FROM results WHERE failed = 0 ORDER BY seq DESC LIMIT ?)
       UNION ALL SELECT seq, result FROM (SELECT seq, result FROM results WHERE failed = 1 ORDER BY seq DESC LIMIT ?)`,
    );
    const entries: Sequenced[] = [];
    const rows = newestRows.all(limit(memory.maxResults), limit(memory.maxFailed)) as Array<{ seq: number; result: Uint8Array }>;
    for (const row of rows) entries.push({ seq: row.seq, result: deserialize(row.result) as StoredResult });
    // Every batch: there are none in a file indexed by id (the only kind that keeps more than memory), so they
    // hold no more than memory's bound (and the margin trimming leaves), and an id's newest result may be in any.
    batchEntries(this.#db, entries);
    entries.sort((a, b) => a.seq - b.seq);
    const latest = new Map<string, Sequenced>();
    for (const entry of entries) {
      latest.delete(entry.result.id);
      latest.set(entry.result.id, entry);
    }
    const byAge = [...latest.values()];
    const keep = (failed: boolean, max: number) => {
      const kind = byAge.filter((entry) => (entry.result.status === 'failed') === failed);
      return max >= kind.length ? kind : kind.slice(kind.length - max);
    };
    return [...keep(false, memory.maxResults), ...keep(true, memory.maxFailed)].sort((a, b) => a.seq - b.seq).map((entry) => entry.result);
  }

  #storeBatch(): void {
    const batch = this.#batch;
    if (batch.length === 0) return;
    this.#batch = [];
    let finishedAt = 0;
    for (const result of batch) if (result.finishedAt > finishedAt) finishedAt = result.finishedAt;
    this.#addBatch.run(this.#seq, batch.length, finishedAt, serialize(batch));
    this.#seq += batch.length;
    this.#done += batch.length;
  }

  /** A file indexed by id finds results by id in rows only: its batches become rows, each at its own place in the order. */
  #spreadBatches(): void {
    const entries: Sequenced[] = [];
    batchEntries(this.#db, entries);
    for (const { seq, result } of entries) this.#addRow.run(seq, result.id, 0, result.finishedAt, serialize(result));
    this.#db.exec('DELETE FROM result_batches');
    // An id's newest result wins, as the index now requires of every later write.
    this.#db.exec('DELETE FROM results WHERE seq NOT IN (SELECT max(seq) FROM results GROUP BY id)');
  }

  /**
   * Drops at least `count` of the oldest done results, or as near as whole
   * batches allow without keeping fewer than the bound: rows first (any are
   * older than every batch: a file stores done results as rows only while it
   * is indexed by id, and spreads its batches into rows when it becomes so).
   * Returns how many went.
   */
  #dropDone(count: number): number {
    let dropped = this.#dropRows(0, count);
    if (dropped >= count) return dropped;
    const batches = this.#db.prepare('SELECT seq, count FROM result_batches ORDER BY seq').iterate() as IterableIterator<{
      seq: number;
      count: number;
    }>;
    let upTo: number | undefined;
    for (const batch of batches) {
      if (dropped + batch.count > count) break;
      dropped += batch.count;
      upTo = batch.seq;
    }
    if (upTo !== undefined) this.#db.prepare('DELETE FROM result_batches WHERE seq <= ?').run(upTo);
    return dropped;
  }

  /** Drops the `count` oldest result rows of a kind; returns how many went. */
  #dropRows(failed: 0 | 1, count: number): number {
    const sql = 'DELETE FROM results WHERE seq IN (SELECT seq FROM results WHERE failed = ? ORDER BY seq LIMIT ?)';
    return this.#db.prepare(sql).run(failed, count).changes;
  }

  #forget(failed: number): void {
    if (failed) this.#failed--;
    else this.#done--;
  }
}

/**
 * Every result a store's file holds, the newest of each id, read from a
 * connection of the caller's (read-only will do): what a tool or a test
 * reads from a file whose results are partly in batches.
 */
export function readStoredResults(db: Database): Map<string, StoredResult> {
  const entries: Sequenced[] = [];
  for (const row of db.prepare('SELECT seq, result FROM results').all() as Array<{ seq: number; result: Uint8Array }>) {
    entries.push({ seq: row.seq, result: deserialize(row.result) as StoredResult });
  }
  batchEntries(db, entries);
  entries.sort((a, b) => a.seq - b.seq);
  return new Map(entries.map(({ result }) => [result.id, result]));
}

/** Adds the results of every batch in the file to `entries`, each with its sequence number. */
function batchEntries(db: Database, entries: Sequenced[]): void {
  for (const row of db.prepare('SELECT seq, batch FROM result_batches').all() as Array<{ seq: number; batch: Uint8Array }>) {
    const results = deserialize(row.batch) as StoredResult[];
    for (let i = 0; i < results.length; i++) entries.push({ seq: row.seq + i, result: results[i] as StoredResult });
  }
}

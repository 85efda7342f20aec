/**
 * How a store's file keeps results: done and cancelled ones a batch per
 * commit, failed ones a row each (and every one a row in a file indexed by
 * id), in one order; an id's newest result wins when read; retention drops
 * whole batches, oldest first, never below its bound; a file that becomes
 * indexed by id spreads its batches into rows a lookup by id finds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';

import { sqliteStore } from '../../src/store/options.js';
import { openResultReader } from '../../src/store/result-reader.js';
import { claimSqliteFile } from '../../src/store/sqlite-file.js';
import { readStoredResults, SqliteResults } from '../../src/store/sqlite-results.js';
import type { StoredResult, StoreRetention } from '../../src/store/store.js';

const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
const KEEP_ALL: StoreRetention = { maxResults: Infinity, maxFailed: Infinity, maxAge: Infinity };

let dir: string;
const dbs: BetterSqlite3.Database[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A new store file (or the one at `path`), claimed and released as a processor would, then opened for the test. */
function file(path?: string, retention: StoreRetention = KEEP_ALL, memory: StoreRetention = retention): BetterSqlite3.Database {
  if (!path) dir = mkdtempSync(join(tmpdir(), 'troupe-results-'));
  const at = path ?? join(dir, 'tasks.db');
  claimSqliteFile(sqliteStore({ path: at }), retention, memory).lock.close();
  const db = new Database(at);
  dbs.push(db);
  return db;
}

function result(id: string, status: 'done' | 'failed' | 'cancelled', finishedAt = 1_000): StoredResult {
  const base = { id, handler: 'default', priority: 0, maxRetries: 0, timeout: undefined, attempts: 1, submittedAt: 0 };
  const timing = { startedAt: 0, finishedAt };
  if (status === 'done') return { ...base, ...timing, status, value: id } as StoredResult;
  if (status === 'cancelled') return { ...base, ...timing, status, reason: 'test' } as unknown as StoredResult;
  return { ...base, ...timing, status, error: { name: 'Error', message: id }, payload: undefined } as unknown as StoredResult;
}

/** One commit, as the store's thread makes it: results added in order, then the batch stored and the file trimmed. */
function commit(db: BetterSqlite3.Database, results: SqliteResults, added: StoredResult[]): void {
  db.transaction(() => {
    for (const r of added) results.add(r);
    results.endCommit();
  })();
}

const count = (db: BetterSqlite3.Database, table: string) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
const ids = (list: StoredResult[]) => list.map((r) => `${r.id}:${r.status}`);

describe('results in a store file', () => {
  it('stores done and cancelled results a batch per commit and failed ones a row each, in one order', () => {
    const db = file();
    const results = new SqliteResults(db, KEEP_ALL);
    commit(db, results, [result('a', 'done'), result('b', 'cancelled'), result('c', 'failed'), result('d', 'done')]);
    commit(db, results, [result('e', 'done')]);
    // a and b in one batch, c a row, d a batch of its own (after c, in order), e the second commit's batch.
    expect(count(db, 'result_batches')).toBe(3);
    expect(count(db, 'results')).toBe(1);
    expect(ids(new SqliteResults(db, KEEP_ALL).newest(KEEP_ALL))).toEqual(['a:done', 'b:cancelled', 'c:failed', 'd:done', 'e:done']);
    expect([...readStoredResults(db).keys()]).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it("reads an id's newest result, whichever shape holds it, and the newest of each kind up to memory's bound", () => {
    const db = file();
    const results = new SqliteResults(db, KEEP_ALL);
    commit(db, results, [result('x', 'failed'), result('y', 'done')]);
    commit(db, results, [result('x', 'done'), result('z', 'done')]);
    commit(db, results, [result('y', 'failed')]);
    const reopened = new SqliteResults(db, KEEP_ALL);
    expect(ids(reopened.newest(KEEP_ALL))).toEqual(['x:done', 'z:done', 'y:failed']);
    expect(ids(reopened.newest({ maxResults: 1, maxFailed: 0, maxAge: Infinity }))).toEqual(['z:done']);
    expect(readStoredResults(db).get('y')?.status).toBe('failed');
  });

  it('trims whole batches, oldest first, once a kind is past its bound by the margin, never below the bound', () => {
    const retention = { maxResults: 100, maxFailed: 10, maxAge: Infinity };
    const db = file(undefined, retention);
    const results = new SqliteResults(db, retention);
    // 10 commits of 20: 200 done results, a bound of 100 with a margin of 64.
    for (let c = 0; c < 10; c++)
      commit(
        db,
        results,
        Array.from({ length: 20 }, (_, i) => result(`d${c * 20 + i}`, 'done')),
      );
    for (let i = 0; i < 80; i++) commit(db, results, [result(`f${i}`, 'failed')]);
    const kept = new SqliteResults(db, retention).newest(KEEP_ALL);
    const done = kept.filter((r) => r.status === 'done');
    const failed = kept.filter((r) => r.status === 'failed');
    // Trimmed when 180 were stored (past 164): 80 went, as 4 whole batches; the rest stay until the next trim.
    expect(done.length).toBeGreaterThanOrEqual(100);
    expect(done.length).toBeLessThanOrEqual(164);
    expect(done[0]?.id).toBe(`d${200 - done.length}`);
    expect(done.at(-1)?.id).toBe('d199');
    expect(failed.length).toBeLessThanOrEqual(10 + 64);
    // At start, trimming is exact (as near as whole batches allow).
    const { recovered } = reopen(db, retention);
    expect(recovered.filter((r) => r.status === 'done').length).toBe(100);
    expect(recovered.filter((r) => r.status === 'failed').map((r) => r.id)).toEqual(Array.from({ length: 10 }, (_, i) => `f${70 + i}`));
  });

  it('drops a batch once all of it is older than maxAge', () => {
    const retention = { maxResults: Infinity, maxFailed: Infinity, maxAge: 60_000 };
    const db = file(undefined, retention);
    const results = new SqliteResults(db, retention);
    const now = Date.now();
    commit(db, results, [result('old', 'done', now - 120_000), result('older', 'done', now - 180_000)]);
    commit(db, results, [result('mixed-old', 'done', now - 120_000), result('mixed-new', 'done', now)]);
    commit(db, results, [result('old-failed', 'failed', now - 120_000)]);
    results.trim(true);
    expect([...readStoredResults(db).keys()]).toEqual(['mixed-old', 'mixed-new']);
  });

  it('spreads batches into rows when the file becomes indexed by id, where a lookup by id finds them', () => {
    const db = file();
    const results = new SqliteResults(db, KEEP_ALL);
    commit(db, results, [result('a', 'done'), result('b', 'done')]);
    commit(db, results, [result('c', 'failed'), result('a', 'cancelled')]);
    const path = db.name;
    db.close();
    dbs.length = 0;
    // A store keeping more than memory is indexed by id.
    const indexed = file(path, KEEP_ALL, { maxResults: 1, maxFailed: 1, maxAge: Infinity });
    expect(count(indexed, 'result_batches')).toBe(0);
    expect(ids(new SqliteResults(indexed, KEEP_ALL).newest(KEEP_ALL))).toEqual(['b:done', 'c:failed', 'a:cancelled']);
    const reader = openResultReader(path);
    expect(reader.get('a')?.status).toBe('cancelled');
    expect(reader.get('b')).toMatchObject({ status: 'done', value: 'b' });
    reader.close();
  });

  it('clears every result, rows and batches', () => {
    const db = file();
    const results = new SqliteResults(db, KEEP_ALL);
    commit(db, results, [result('a', 'done'), result('b', 'failed')]);
    db.transaction(() => results.clear())();
    commit(db, results, [result('c', 'done')]);
    expect([...readStoredResults(db).keys()]).toEqual(['c']);
  });
});

/** What a processor with `retention` would get back at start from the file `db` holds. */
function reopen(db: BetterSqlite3.Database, retention: StoreRetention): { recovered: StoredResult[] } {
  const path = db.name;
  db.close();
  dbs.length = 0;
  const { lock, recovered } = claimSqliteFile(sqliteStore({ path }), retention);
  lock.close();
  return { recovered: recovered.results as unknown as StoredResult[] };
}

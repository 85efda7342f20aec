/**
 * The task store in one process: what survives a shutdown and a new start,
 * and each refusal when the file cannot be used, typed and changing nothing.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serialize } from 'node:v8';

import type BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';

import {
  createProcessor,
  InvalidOptionError,
  type Processor,
  ProcessorShutdownError,
  sqliteStore,
  StoreError,
  StoreLockedError,
} from '../../src/index.js';
import { openResultReader } from '../../src/store/result-reader.js';
import { SCHEMA_VERSION } from '../../src/store/sqlite-file.js';
import { handlers, nextEvent } from '../helpers/index.js';

const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;

let dir: string;
const open: Processor[] = [];
afterEach(async () => {
  for (const p of open.splice(0)) await p.shutdown({ timeout: 0 });
  rmSync(dir, { recursive: true, force: true });
});

function make(path: string, options: { clock?: SimulatedClock } = {}): Processor {
  const p = createProcessor({ handlers, workers: 1, store: sqliteStore({ path }), ...options });
  open.push(p);
  return p;
}

function scratch(): string {
  dir = mkdtempSync(join(tmpdir(), 'troupe-store-'));
  return join(dir, 'tasks.db');
}

describe('sqliteStore', () => {
  it('is validated, and not with a broker', () => {
    expect(() => sqliteStore({ path: '' })).toThrow(InvalidOptionError);
    expect(() => sqliteStore({ path: 'x.db', synchronous: 'sometimes' as 'full' })).toThrow(/store\.synchronous/);
    expect(() => sqliteStore({ path: 'x.db', retention: { maxResults: -1 } })).toThrow(/store\.retention\.maxResults/);
    expect(() => sqliteStore({ path: 'x.db', retention: 5 as never })).toThrow(/store\.retention/);
    dir = mkdtempSync(join(tmpdir(), 'troupe-store-'));
    expect(() => createProcessor({ handlers, store: { kind: 'redis' } as never })).toThrow(/`store`/);
  });

  it('keeps results and unfinished tasks across a shutdown: the next start queues them again, due when they were', async () => {
    const path = scratch();
    const clock = new SimulatedClock();
    const first = make(path, { clock });
    await first.ready;
    await first.submitAsync({ id: 'done-1', payload: 'one' });
    expect(await first.result('done-1')).toMatchObject({ status: 'done', value: 'one' });
    await first.submitAsync({ id: 'later', payload: 'due at 1000', delay: 1_000 });
    const held = nextEvent(first.events, 'task.started', (event) => event.id === 'held');
    await first.submitAsync({ id: 'held', handler: 'waitForAbort', payload: null });
    await held;
    const settled = (promise: Promise<unknown>) =>
      promise.then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      );
    const waiting = { held: settled(first.result('held')), later: settled(first.result('later')) };
    // Unfinished at the deadline: kept in the store for the next start, not handed back.
    expect((await first.shutdown({ timeout: 0 })).unfinished).toEqual([]);
    open.length = 0;
    // No promise hangs: one waiting for a kept task rejects, saying where the task went.
    for (const [id, result] of Object.entries(waiting)) {
      const { error } = (await result) as { error?: Error };
      expect(error).toBeInstanceOf(ProcessorShutdownError);
      expect(error?.message).toMatch(new RegExp(`before task ${id} ended: the task store keeps it`));
    }

    const clock2 = new SimulatedClock();
    const second = make(path, { clock: clock2 });
    await second.ready;
    expect(second.getResult('done-1')).toMatchObject({ status: 'done', value: 'one' });
    // Running again, on the one thread: its attempt that shutdown interrupted was not charged.
    expect(second.getTask('held')).toMatchObject({ state: 'processing', attempts: 1 });
    expect(second.getTask('later')).toMatchObject({ state: 'scheduled', runAt: 1_000 });
    // Duplicate ids are refused across restarts as within one run.
    expect(() => second.submit({ id: 'held', payload: null })).toThrow(/held/);
    second.cancel('held');
    clock2.increment(999);
    expect(second.getTask('later')?.state).toBe('scheduled');
    clock2.increment(1);
    expect(await second.result('later')).toMatchObject({ status: 'done', value: 'due at 1000' });
  });

  it('announces a task that recovery ends failed (the process died under it, alone) once ready, to early and late subscribers', async () => {
    const path = scratch();
    const first = make(path);
    await first.ready;
    await first.shutdown();
    open.length = 0;
    // What a process killed while `killer` ran alone leaves on disk: its first attempt, in a thread.
    const raw = new Database(path);
    raw
      .prepare('INSERT INTO tasks VALUES (1, ?, ?, 0, 3, NULL, ?, ?, ?, 1, 0, 0, NULL)')
      .run('killer', 'default', serialize(null), Date.now(), 'processing');
    raw.close();

    const second = createProcessor({ handlers, workers: 1, store: sqliteStore({ path }), maxCrashes: 1 });
    open.push(second);
    const early = nextEvent(second.events, 'task.failed');
    await second.ready;
    const late = nextEvent(second.events, 'task.failed');
    for (const event of await Promise.all([early, late])) {
      expect(event).toMatchObject({ id: 'killer', result: { status: 'failed', error: { code: 'ERR_POISON_TASK' } } });
    }
    expect(await second.result('killer')).toMatchObject({ status: 'failed' });
  });

  it('keeps more on disk than in memory with a retention of its own; memory gets the newest back at start', async () => {
    const path = scratch();
    const store = sqliteStore({ path, retention: { maxResults: Infinity } });
    const first = createProcessor({ handlers, workers: 1, store, retention: { maxResults: 2 } });
    open.push(first);
    for (let i = 0; i < 5; i++) await first.result(first.submit({ id: `r${i}`, payload: i }));
    await first.shutdown();
    open.length = 0;
    const second = createProcessor({ handlers, workers: 1, store, retention: { maxResults: 2 } });
    open.push(second);
    await second.ready;
    const values = ['r0', 'r1', 'r2', 'r3', 'r4']
      .map((id) => second.getResult(id))
      .map((r) => (r?.status === 'done' ? r.value : undefined));
    expect(values).toEqual([undefined, undefined, undefined, 3, 4]);
    const reader = openResultReader(path);
    expect(reader.get('r0')).toMatchObject({ status: 'done', value: 0 });
    // A later task of an id replaces its result, on disk too.
    expect(await second.result(second.submit({ id: 'r0', payload: 'again' }))).toMatchObject({ value: 'again' });
    expect(reader.get('r0')).toMatchObject({ value: 'again' });
    reader.close();
  });

  it('reports its file, size and commit times in metrics() and as troupe_store_* Prometheus metrics', async () => {
    const path = scratch();
    const p = make(path);
    await p.ready;
    for (let i = 0; i < 50; i++) await p.submitAsync({ payload: i });
    await p.onIdle();
    const { store } = p.metrics();
    expect(store).toMatchObject({ path, commits: expect.any(Number), commitMs: { p50: expect.any(Number), p99: expect.any(Number) } });
    expect(store?.commits).toBeGreaterThan(0);
    expect(store?.bytes).toBeGreaterThan(0);
    const text = await p.prometheus();
    expect(text).toMatch(/^troupe_store_size_bytes [1-9]\d*$/m);
    expect(text).toMatch(/^troupe_store_commit_seconds_count [1-9]\d*$/m);
  });

  it('refuses a file another processor has open: StoreLockedError at ready, the first one unharmed', async () => {
    const path = scratch();
    const first = make(path);
    await first.ready;
    const second = make(path);
    await expect(second.ready).rejects.toThrow(StoreLockedError);
    await expect(second.ready).rejects.toMatchObject({ code: 'ERR_STORE_LOCKED', path });
    expect(() => second.submit({ payload: 1 })).toThrow(StoreLockedError);
    expect(await first.result(first.submit({ payload: 'still fine' }))).toMatchObject({ status: 'done' });
  });

  it('refuses a file that is not a Troupe store, or of a newer schema, changing nothing in it', async () => {
    const path = scratch();
    writeFileSync(path, 'not a database at all, just text');
    await expect(make(path).ready).rejects.toMatchObject({ name: 'StoreError', code: 'ERR_STORE', path });
    expect(readFileSync(path, 'utf8')).toBe('not a database at all, just text');

    const foreign = join(dir, 'foreign.db');
    const db = new Database(foreign);
    db.exec('CREATE TABLE notes (text TEXT)');
    db.close();
    const before = readFileSync(foreign);
    await expect(make(foreign).ready).rejects.toThrow(/not a Troupe task store/);
    expect(readFileSync(foreign).equals(before)).toBe(true);

    const newer = join(dir, 'newer.db');
    const p = make(newer);
    await p.ready;
    await p.shutdown();
    open.length = 0;
    const raw = new Database(newer);
    raw.pragma('user_version = 99');
    raw.close();
    await expect(make(newer).ready).rejects.toThrow(new RegExp(`schema version 99, newer than this Troupe's ${SCHEMA_VERSION}`));
  });

  it('migrates a file of schema version 1: its tasks run and its results are kept', async () => {
    const path = scratch();
    const v1 = new Database(path);
    v1.exec(`
      CREATE TABLE tasks (id TEXT PRIMARY KEY, handler TEXT NOT NULL, priority INTEGER NOT NULL, max_retries INTEGER NOT NULL,
        timeout INTEGER, payload BLOB NOT NULL, submitted_at INTEGER NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL,
        crashes INTEGER NOT NULL, due_at INTEGER) WITHOUT ROWID;
      CREATE TABLE results (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, failed INTEGER NOT NULL, finished_at INTEGER NOT NULL,
        result BLOB NOT NULL);
      CREATE INDEX results_by_kind ON results (failed, seq);
      PRAGMA application_id = ${0x54525045};
      PRAGMA user_version = 1;
    `);
    const now = Date.now();
    v1.prepare('INSERT INTO tasks VALUES (?, ?, 0, 3, NULL, ?, ?, ?, 0, 0, NULL)').run(
      'old-task',
      'default',
      serialize('kept'),
      now,
      'queued',
    );
    const result = { id: 'old-result', handler: 'default', priority: 0, maxRetries: 3, attempts: 1, submittedAt: now, finishedAt: now };
    v1.prepare('INSERT INTO results (id, failed, finished_at, result) VALUES (?, 0, ?, ?)').run(
      'old-result',
      now,
      serialize({ ...result, startedAt: now, status: 'done', value: 42 }),
    );
    v1.close();

    const p = make(path);
    await p.ready;
    expect(await p.result('old-task')).toMatchObject({ status: 'done', value: 'kept' });
    expect(p.getResult('old-result')).toMatchObject({ status: 'done', value: 42 });
    await p.shutdown();
    open.length = 0;
    const after = new Database(path, { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    // Version 3's actors table, empty: no actor was stored before it.
    expect(after.prepare('SELECT count(*) AS n FROM actors').get()).toEqual({ n: 0 });
    after.close();
  });

  it('refuses a file it cannot create: StoreError naming it', async () => {
    scratch();
    // Its folder is a file: nothing can be created there, whoever runs the test (root ignores permissions).
    const notAFolder = join(dir, 'plain-file');
    writeFileSync(notAFolder, '');
    const path = join(notAFolder, 'tasks.db');
    const p = make(path);
    await expect(p.ready).rejects.toBeInstanceOf(StoreError);
    await expect(p.ready).rejects.toMatchObject({ path, message: expect.stringContaining(path) });
  });
});

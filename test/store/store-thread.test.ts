/**
 * The store's thread on its own: writes acknowledged in order, a write
 * SQLite refuses failing it and every later one with a StoreError naming
 * the file and the cause, and the file free for another process once closed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { StoreLockedError } from '../../src/errors/errors.js';
import { sqliteStore } from '../../src/store/options.js';
import { claimSqliteFile } from '../../src/store/sqlite-file.js';
import type { Changes, StoredTask } from '../../src/store/store.js';
import { StoreThread } from '../../src/store/store-thread.js';

const retention = { maxResults: 100, maxFailed: 100, maxAge: Infinity };
let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function open(): { thread: StoreThread; path: string } {
  dir = mkdtempSync(join(tmpdir(), 'troupe-store-thread-'));
  const config = sqliteStore({ path: join(dir, 'tasks.db') });
  const { lock } = claimSqliteFile(config, retention);
  return { thread: new StoreThread(config, retention, lock), path: config.path };
}

function task(key: number, handler: string = 'default'): StoredTask {
  const row = { key, id: `t${key}`, handler, priority: 0, maxRetries: 0, timeout: undefined, payload: new Uint8Array([1]) };
  return { ...row, submittedAt: 0, state: 'queued', attempts: 0, crashes: 0, suspected: 0, dueAt: undefined };
}

const only = (tasks: StoredTask[]): Changes => ({
  tasks,
  updates: new Float64Array(0),
  ended: [],
  results: [],
  clearResults: false,
  actors: [],
  actorsGone: [],
});

describe('the store thread', () => {
  it('writes in order, then refuses every write after one SQLite rejects, naming the file and the cause', async () => {
    const { thread, path } = open();
    const first = thread.write(only([task(1), task(2)]));
    await expect(first).resolves.toBeGreaterThanOrEqual(0);
    // A row without a handler breaks the table's NOT NULL: a real error, raised in the thread.
    const broken = thread.write(only([task(3, null as unknown as string)]));
    const later = thread.write(only([task(4)]));
    await expect(broken).rejects.toMatchObject({
      name: 'StoreError',
      code: 'ERR_STORE',
      path,
      message: expect.stringContaining('NOT NULL'),
    });
    await expect(later).rejects.toMatchObject({ code: 'ERR_STORE' });
    await expect(thread.write(only([task(5)]))).rejects.toMatchObject({ code: 'ERR_STORE' });
    await thread.close();
    // Closed: the file is free again, and holds what was acknowledged, nothing after.
    const { lock, recovered } = claimSqliteFile(sqliteStore({ path }), retention);
    lock.close();
    expect(recovered.tasks.map((row) => row.id)).toEqual(['t1', 't2']);
  });

  it('holds the file until it is closed', async () => {
    const { thread, path } = open();
    expect(() => claimSqliteFile(sqliteStore({ path }), retention)).toThrow(StoreLockedError);
    await thread.write(only([task(1)]));
    expect(thread.size()).toBeGreaterThan(0);
    await thread.close();
    claimSqliteFile(sqliteStore({ path }), retention).lock.close();
  });
});

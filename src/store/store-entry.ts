/**
 * The store's thread: the only place its file is written. Writes come in
 * order; those that queued up while a transaction ran are written together
 * in the next one, so the busier the processor, the larger (and the fewer)
 * the transactions. Nothing here holds up the main thread: a commit, and a
 * checkpoint's flush to disk, take this thread's time only.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';

import { StoreError } from '../errors/errors.js';
import { serializeError } from '../errors/serialize.js';
import { SqliteTaskStore } from './sqlite.js';
import { driver } from './sqlite-file.js';
import type { Changes } from './store.js';
import type { StoreOrder, StoreReport, StoreThreadConfig } from './thread-protocol.js';

const port = parentPort;
if (!port) throw new Error('store-entry.ts runs as a worker thread');
const { store: config, retention } = workerData as StoreThreadConfig;

function report(message: StoreReport): void {
  (port as NonNullable<typeof port>).postMessage(message);
}

function open(): SqliteTaskStore {
  const Database = driver(config.path);
  // The main thread holds the store's lock: nobody else writes. A reader (the sqlite3 shell, say) may hold the log briefly.
  const db = new Database(config.path, { timeout: 5_000 });
  db.pragma(`synchronous = ${config.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  return new SqliteTaskStore(db, config.path, retention);
}

function failure(cause: unknown): StoreError {
  const message = cause instanceof Error ? cause.message : String(cause);
  return new StoreError(config.path, `A write to the task store ${config.path} failed: ${message}`, { cause });
}

let store: SqliteTaskStore | undefined;
let failed = false;
try {
  store = open();
} catch (cause) {
  failed = true;
  report({ type: 'failed', error: serializeError(failure(cause)) });
}

/** Commits the writes that queued up, in one transaction. */
function commit(writes: Changes[]): void {
  if (writes.length === 0 || !store || failed) return;
  const started = performance.now();
  try {
    store.commit(writes);
    report({ type: 'written', count: writes.length, ms: performance.now() - started, size: store.size() });
  } catch (cause) {
    failed = true;
    report({ type: 'failed', error: serializeError(failure(cause)) });
  }
}

port.on('message', (first: StoreOrder) => {
  let writes: Changes[] = [];
  let close = false;
  for (let order: StoreOrder | undefined = first; order;) {
    if (order.type === 'close') close = true;
    else if (order.type === 'write') writes.push(order.changes);
    else {
      // A read sees every write sent before it: those that queued up are committed first.
      commit(writes);
      writes = [];
      // After a failure the main thread has refused the read already: nothing is answered.
      if (store && !failed) report({ type: 'actorRead', request: order.request, actor: store.readActor(order.id) });
    }
    const next = receiveMessageOnPort(port);
    order = next ? (next.message as StoreOrder) : undefined;
  }
  commit(writes);
  if (!close) return;
  try {
    store?.close();
  } catch {
    // Everything was committed: a failed checkpoint leaves a log SQLite replays at the next open.
  }
  store = undefined;
  report({ type: 'closed' });
  port.close();
});

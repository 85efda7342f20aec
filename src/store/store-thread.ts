import type { Worker } from 'node:worker_threads';

import { StoreError } from '../errors/errors.js';
import { deserializeError } from '../errors/serialize.js';
import { needsTypescript, startThread } from '../util/threads.js';
import type { SqliteStore } from './options.js';
import type { Changes, StoredActor, StoreRetention, StoreWriter } from './store.js';
import type { StoreOrder, StoreReport, StoreThreadConfig } from './thread-protocol.js';

const SELF = import.meta.url;
// Under tsx or vitest this module is TypeScript, and so is the entry beside it.
const ENTRY = new URL(SELF.endsWith('.ts') ? './store-entry.ts' : './store-entry.js', SELF);

interface Write {
  resolve(ms: number): void;
  reject(error: Error): void;
}

/**
 * The main thread's side of the store's thread (store-entry.ts): writes go
 * out in order, and come back acknowledged in order, several at a time when
 * the thread wrote them in one transaction. Once one fails, or the thread
 * dies, every write not yet acknowledged, and every later one, is refused
 * with the same `StoreError`. The thread keeps the process alive only while
 * a write waits for it (as a worker thread does while it runs a task): an
 * idle processor does not hold the process open.
 */
export class StoreThread implements StoreWriter {
  readonly path: string;
  readonly #worker: Worker;
  readonly #lock: { close(): void };
  /** Writes sent and not yet acknowledged, oldest first. */
  #waiting: Write[] = [];
  /** Reads sent and not yet answered, by request number. */
  readonly #reads = new Map<number, { resolve(actor: StoredActor | undefined): void; reject(error: Error): void }>();
  #requests = 0;
  #size = 0;
  #error: StoreError | undefined;
  #closed: Promise<void> | undefined;
  #onClosed: (() => void) | undefined;
  #exited = false;

  /** `lock`: what keeps the file this process's; released once the thread has closed the file. */
  constructor(config: SqliteStore, retention: StoreRetention, lock: { close(): void }) {
    this.path = config.path;
    this.#lock = lock;
    const data: StoreThreadConfig = { store: config, retention };
    this.#worker = startThread(ENTRY, { typescript: needsTypescript(ENTRY), workerData: data });
    this.#worker.unref();
    this.#worker.on('message', (report: StoreReport) => this.#onReport(report));
    this.#worker.on('error', (error) => this.#fail(this.#died(error)));
    this.#worker.on('exit', (code) => {
      this.#exited = true;
      if (this.#onClosed) return this.#release();
      this.#fail(this.#died(new Error(`The store's thread exited with code ${code}`)));
    });
  }

  write(changes: Changes): Promise<number> {
    if (this.#error) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => {
      if (this.#waiting.length === 0) this.#worker.ref();
      this.#waiting.push({ resolve, reject });
      this.#send({ type: 'write', changes });
    });
  }

  size(): number {
    return this.#size;
  }

  readActor(id: string): Promise<StoredActor | undefined> {
    if (this.#error) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => {
      const request = ++this.#requests;
      this.#reads.set(request, { resolve, reject });
      this.#worker.ref();
      this.#send({ type: 'readActor', id, request });
    });
  }

  /** Nothing waits for the thread: it does not hold the process open. */
  #idle(): boolean {
    return this.#waiting.length === 0 && this.#reads.size === 0 && !this.#onClosed;
  }

  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      this.#onClosed = resolve;
      if (this.#exited) return this.#release();
      this.#worker.ref();
      this.#send({ type: 'close' });
    });
    return this.#closed;
  }

  #send(order: StoreOrder): void {
    try {
      this.#worker.postMessage(order);
    } catch (cause) {
      // A payload or result that cannot be cloned cannot get here (both are cloned, or refused, at submit).
      this.#fail(new StoreError(this.path, `Could not send a write to the task store's thread: ${(cause as Error).message}`, { cause }));
    }
  }

  #onReport(report: StoreReport): void {
    switch (report.type) {
      case 'written': {
        this.#size = report.size;
        const done = this.#waiting.splice(0, report.count);
        if (this.#idle()) this.#worker.unref();
        for (const write of done) write.resolve(report.ms);
        return;
      }
      case 'actorRead': {
        const read = this.#reads.get(report.request);
        this.#reads.delete(report.request);
        if (this.#idle()) this.#worker.unref();
        read?.resolve(report.actor);
        return;
      }
      case 'failed':
        return this.#fail(deserializeError(report.error) as StoreError);
      case 'closed':
        return void this.#worker.terminate();
    }
  }

  #died(cause: Error): StoreError {
    return new StoreError(this.path, `The task store's thread stopped: ${cause.message}`, { cause });
  }

  #fail(error: StoreError): void {
    this.#error ??= error;
    const waiting = this.#waiting;
    this.#waiting = [];
    const reads = [...this.#reads.values()];
    this.#reads.clear();
    if (!this.#onClosed && !this.#exited) this.#worker.unref();
    for (const write of waiting) write.reject(this.#error);
    for (const read of reads) read.reject(this.#error);
  }

  /** The thread is gone: the file is free for another process. */
  #release(): void {
    try {
      this.#lock.close();
    } catch {
      // Closing the lock's connection cannot lose anything; the OS drops the lock with the process anyway.
    }
    this.#onClosed?.();
  }
}

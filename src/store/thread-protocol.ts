import type { SerializedError } from '../errors/serialize.js';
import type { SqliteStore } from './options.js';
import type { Changes, StoredActor, StoreRetention } from './store.js';

/** What the store's thread is started with. */
export interface StoreThreadConfig {
  readonly store: SqliteStore;
  readonly retention: StoreRetention;
}

/** To the store's thread, in order. */
export type StoreOrder =
  | { readonly type: 'write'; readonly changes: Changes }
  /** Reads the actor `id` as it is stored after every write before this order. */
  | { readonly type: 'readActor'; readonly id: string; readonly request: number }
  | { readonly type: 'close' };

/** From the store's thread. */
export type StoreReport =
  /** The next `count` writes are on disk, in one transaction that took `ms`; the file is now `size` bytes. */
  | { readonly type: 'written'; readonly count: number; readonly ms: number; readonly size: number }
  /** A write failed (or the file could not be opened): it and every later one are refused. */
  | { readonly type: 'failed'; readonly error: SerializedError }
  /** The answer to `readActor` number `request`: the actor as stored, or none. */
  | { readonly type: 'actorRead'; readonly request: number; readonly actor: StoredActor | undefined }
  /** Closed, after every write before the order to close. */
  | { readonly type: 'closed' };

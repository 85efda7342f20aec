import { StoreError, StoreLockedError } from '../errors/errors.js';
import type { SqliteStore } from './options.js';
import { claimSqliteFile } from './sqlite-file.js';
import type { OpenStore, StoreRetention } from './store.js';
import { StoreThread } from './store-thread.js';

/**
 * Opens a processor's store: the file claimed and read here, synchronously,
 * then written from its own thread. `retention` is the processor's: what
 * memory holds (the newest results are read back up to it) and, for each
 * field the store's own `retention` omits, what the file keeps. Returns the
 * error instead of throwing, so the processor can start in its `error`
 * state and reject `ready` with it.
 */
export function openStore(config: SqliteStore, retention: StoreRetention): OpenStore | StoreError | StoreLockedError {
  try {
    const file: StoreRetention = { ...retention, ...config.retention };
    const { lock, recovered } = claimSqliteFile(config, file, retention);
    return { writer: new StoreThread(config, file, lock), recovered };
  } catch (error) {
    if (error instanceof StoreError || error instanceof StoreLockedError) return error;
    return new StoreError(config.path, `Could not open the task store ${config.path}: ${String(error)}`, { cause: error });
  }
}

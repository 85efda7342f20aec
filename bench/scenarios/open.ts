/**
 * Opens contenders' pools inside a child process and remembers them, so the
 * child can report its measurement first and close the pools afterwards: a
 * pool that hangs on close then costs a warning, not the sample.
 */
import { CONTENDERS, isContender } from '../contenders/index.js';
import type { Pool, PoolOptions } from '../contenders/pool.js';

interface Closable {
  close(): Promise<void>;
}

const opened: Closable[] = [];

/**
 * For a scenario that drives Troupe's own API rather than a `Pool` (a
 * cluster): closed with the pools, after the measurement is reported.
 */
export function closeLater(closable: Closable): void {
  opened.push(closable);
}

/** Imports a contender's library (untimed) and returns its constructor. */
export async function loadPool(name: string): Promise<(options?: PoolOptions) => Pool> {
  if (!isContender(name)) throw new Error(`unknown contender ${JSON.stringify(name)}`);
  const factory = await CONTENDERS[name]();
  return (options = {}) => {
    const pool = factory(options);
    opened.push(pool);
    return pool;
  };
}

export async function openPool(name: string, options: PoolOptions = {}): Promise<Pool> {
  return (await loadPool(name))(options);
}

/** Closes every pool this process opened; rejects if that takes longer than `timeoutMs`. */
export async function closeAll(timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`closing the pool took longer than ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([Promise.all(opened.map((pool) => pool.close())), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * No pool at all: the handlers called on the main thread, one after another.
 * The CPU-bound scenario divides this time by each pool's to get a speedup.
 */
import * as handlers from '../workers/handlers.mjs';
import type { Pool } from './pool.js';

export function createMainThread(): Pool {
  return {
    retries: false,
    run: async (handler, payload) => (handlers[handler] as (payload: unknown) => unknown)(payload),
    close: async () => {},
  };
}

import { availableParallelism } from 'node:os';

/**
 * Every default of `createProcessor`'s options, in one object (piscina's
 * `kDefaultOptions`): `resolveOptions` fills from it, and each option's
 * `@defaultValue` in `types.ts` states the same value (a test holds them
 * together). `timeout: 0` means no limit.
 */
export const DEFAULTS = Object.freeze({
  workers: availableParallelism(),
  /** `workers.idleTimeout` of an elastic pool. */
  idleTimeout: 30_000,
  actorThreads: 0,
  concurrency: 1,
  window: 64,
  /** `window` with a broker (see `ProcessorOptions.window`). */
  brokerWindow: 16,
  maxRetries: 3,
  backoff: Object.freeze({ delay: 100, factor: 2, maxDelay: 30_000, jitter: 0 }),
  timeout: 0,
  abortGrace: 1_000,
  retention: Object.freeze({ maxResults: 10_000, maxFailed: 10_000, maxAge: Infinity }),
  restart: Object.freeze({ minDelay: 100, maxDelay: 5_000, jitter: 0.2, maxRestarts: 10, window: 60_000 }),
  maxCrashes: 2,
  maxQueue: Infinity,
  actorIdleTimeout: 60_000,
  tracing: true,
});

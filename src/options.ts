import type { RateLimit } from './rate-limiter.js';
import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ResourceLimits } from 'node:worker_threads';
import type { InspectionEvent, Observer } from 'xstate';
import { InvalidOptionError } from './errors.js';
import { defaultClock, type Clock } from './clock.js';
import type { NatsBroker } from './broker/nats-broker.js';

/** Exponential backoff between attempts: `delay * factor^(attempt-1)`, capped at `maxDelay`. */
export interface BackoffOptions {
  /**
   * Wait before the first retry, in ms.
   * @defaultValue 100
   */
  delay?: number;
  /**
   * Growth per further retry.
   * @defaultValue 2
   */
  factor?: number;
  /**
   * Upper bound of any wait, in ms.
   * @defaultValue 30_000
   */
  maxDelay?: number;
  /**
   * Random spread as a fraction of the wait: `0.2` draws each wait uniformly
   * from ±20% of the computed value (never above `maxDelay`).
   * @defaultValue 0
   */
  jitter?: number;
}

/** How many finished tasks the processor remembers. Oldest are forgotten first. */
export interface RetentionOptions {
  /**
   * Results kept of tasks that ended `done` or `cancelled`.
   * @defaultValue 10_000
   */
  maxResults?: number;
  /**
   * Results kept of tasks that ended `failed` (what `getFailedTasks()` returns).
   * Kept apart so a flood of successes cannot push failure records out.
   * @defaultValue 10_000
   */
  maxFailed?: number;
}

/** How crashed threads are restarted, and when the processor gives up. */
export interface RestartOptions {
  /**
   * Wait before the first restart within `window`, ms; it doubles per restart.
   * @defaultValue 100
   */
  minDelay?: number;
  /**
   * Upper bound of a restart wait, ms.
   * @defaultValue 5_000
   */
  maxDelay?: number;
  /**
   * Random spread of each wait, as a fraction (±).
   * @defaultValue 0.2
   */
  jitter?: number;
  /**
   * More restarts than this within `window` put the processor in its `error`
   * state instead of restarting forever.
   * @defaultValue 10
   */
  maxRestarts?: number;
  /**
   * The sliding window of `maxRestarts`, ms.
   * @defaultValue 60_000
   */
  window?: number;
}

/** Options of {@link createProcessor}. */
export interface ProcessorOptions {
  /**
   * The handler module: an absolute path, a path relative to the current
   * directory, or a `file:` URL. Each exported function is a handler, named by
   * its export name; the `default` export is the handler of tasks that name none.
   * `.ts` modules work when `tsx` is installed.
   */
  handlers?: string | URL;
  /**
   * Worker threads. With a `broker`, 0 makes a pure client: it submits and
   * reads results, and runs nothing (`handlers` may then be omitted).
   * @defaultValue `os.availableParallelism()`
   */
  workers?: number;
  /**
   * Share the queue, results and status with other processes through a
   * broker, e.g. `natsBroker({ servers, stream })`: every processor with the
   * same broker settings is a node of one processor (see docs/distributed.md).
   * Without one, everything lives in this process.
   */
  broker?: NatsBroker;
  /**
   * Attempts each thread runs at once. Above 1 suits async, I/O-bound
   * handlers (like piscina's `concurrentTasksPerWorker`); CPU-bound handlers
   * gain nothing from it.
   * @defaultValue 1
   */
  concurrency?: number;
  /**
   * Attempts each thread may hold waiting behind the ones it runs, so it
   * starts its next task the moment one ends instead of waiting a round trip
   * for the main thread; tasks then travel many per message. A waiting task
   * is still `queued`: its timeout starts when the thread starts it, it can be
   * cancelled there, and work waiting in one thread's window is taken back
   * when another thread runs dry. The cost: a task waits behind the attempts
   * running on its thread, and if one of them blocks the thread's event loop
   * for good (a synchronous handler with no `timeout`), the tasks waiting
   * behind it wait with it until it ends. `0` sends a thread only what it can
   * start at once.
   * @defaultValue 16
   */
  window?: number;
  /**
   * Retries after the first attempt; a task runs at most `maxRetries + 1` times.
   * @defaultValue 3
   */
  maxRetries?: number;
  /** Backoff between attempts. Each omitted field takes its default. */
  backoff?: BackoffOptions;
  /**
   * Per-attempt time limit in ms. On expiry the attempt fails with
   * `TaskTimeoutError`, the handler's `ctx.signal` aborts, and the thread is
   * replaced if the handler has not stopped `abortGrace` ms later. `0` means no limit.
   * @defaultValue undefined (no limit)
   */
  timeout?: number;
  /**
   * How long an aborted attempt (timed out, cancelled) may take to stop before
   * its thread is terminated and replaced, in ms.
   * @defaultValue 1_000
   */
  abortGrace?: number;
  /** How many finished results are kept. */
  retention?: RetentionOptions;
  /** Restarting crashed threads. Each omitted field takes its default. */
  restart?: RestartOptions;
  /**
   * A task whose attempts crash their thread this many times ends `failed`
   * with `PoisonTaskError`, so one bad payload cannot burn the pool.
   * @defaultValue 2
   */
  maxCrashes?: number;
  /**
   * Most tasks that may wait (scheduled, queued or retrying; running ones do
   * not count). `submit` beyond it throws `QueueFullError` and changes
   * nothing; `submitAsync` waits for room. `Infinity` for no bound.
   * @defaultValue Infinity
   */
  maxQueue?: number;
  /**
   * Caps how many attempts start (are sent to a thread) in any `interval` ms,
   * across the processor; `perHandler` caps single handlers, for work that
   * calls a throttled service. A task held back stays `queued`, and
   * `getTask(id).blockedBy` says why. A sliding window: never more than `max`
   * in any `interval`.
   *
   * @example
   * ```ts
   * createProcessor({ handlers, rateLimit: { max: 100, interval: 1_000, perHandler: { fetchPage: { max: 5, interval: 1_000 } } } });
   * ```
   */
  rateLimit?: RateLimitOptions;
  /**
   * Caps the attempts of one handler in threads at once, across all threads,
   * so one slow kind of work cannot occupy every thread: `{ upload: 2 }`.
   */
  handlerConcurrency?: Record<string, number>;
  /** Passed to each `worker_threads` thread (heap limits: a thread over them dies and is restarted). */
  resourceLimits?: ResourceLimits;
  /**
   * The clock that machine delays (backoff, timeouts) and the processor's own
   * timers run on. Pass XState's `SimulatedClock` to drive time in tests.
   * @defaultValue the global `setTimeout`/`clearTimeout`
   */
  clock?: Clock;
  /** An XState inspection observer: it sees every task lifecycle actor. */
  inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
}

export interface ResolvedBackoff {
  readonly delay: number;
  readonly factor: number;
  readonly maxDelay: number;
  readonly jitter: number;
}

export interface ResolvedRestart {
  readonly minDelay: number;
  readonly maxDelay: number;
  readonly jitter: number;
  readonly maxRestarts: number;
  readonly window: number;
}

/** See `ProcessorOptions.rateLimit`. */
export interface RateLimitOptions {
  /** Attempts started per `interval` across the processor; omitted: no processor-wide cap. */
  max?: number;
  /** ms. */
  interval?: number;
  perHandler?: Record<string, RateLimit>;
}

export interface ResolvedOptions {
  /** A placeholder for a pure broker client (`workers: 0`), which loads none. */
  readonly handlers: URL;
  readonly broker: NatsBroker | undefined;
  readonly workers: number;
  readonly concurrency: number;
  readonly window: number;
  readonly maxRetries: number;
  readonly backoff: ResolvedBackoff;
  readonly timeout: number | undefined;
  readonly abortGrace: number;
  readonly retention: { readonly maxResults: number; readonly maxFailed: number };
  readonly restart: ResolvedRestart;
  readonly maxCrashes: number;
  readonly maxQueue: number;
  readonly rateLimit: RateLimit | undefined;
  readonly perHandler: ReadonlyMap<string, { readonly rateLimit?: RateLimit; readonly concurrency?: number }>;
  readonly resourceLimits: ResourceLimits | undefined;
  readonly clock: Clock;
  readonly inspect: ProcessorOptions['inspect'];
}

export const DEFAULT_BACKOFF: ResolvedBackoff = { delay: 100, factor: 2, maxDelay: 30_000, jitter: 0 };

/** Renders a value for an error message: `0` (number), `"x"` (string). */
export function describe(value: unknown): string {
  if (typeof value === 'string') return `\`${JSON.stringify(value)}\` (string)`;
  if (value === null) return '`null`';
  if (typeof value === 'object') return `\`${Object.prototype.toString.call(value).slice(8, -1)}\` (object)`;
  if (typeof value === 'function') return '`function` (function)';
  return `\`${String(value)}\` (${typeof value})`;
}

type Check = (value: number) => boolean;
const isNonNegativeInteger: Check = (v) => Number.isSafeInteger(v) && v >= 0;
const isPositiveInteger: Check = (v) => Number.isSafeInteger(v) && v >= 1;
const isNonNegativeFinite: Check = (v) => Number.isFinite(v) && v >= 0;

function numberOption(
  name: string,
  value: unknown,
  fallback: number,
  check: Check,
  expected: string,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !check(value)) {
    throw new InvalidOptionError(name, `Expected \`${name}\` to be ${expected}, got ${describe(value)}`);
  }
  return value;
}

/** A number option with no default: missing is as wrong as malformed. */
function requiredNumber(name: string, value: unknown, check: Check, expected: string): number {
  if (typeof value !== 'number' || !check(value)) {
    throw new InvalidOptionError(name, `Expected \`${name}\` to be ${expected}, got ${describe(value)}`);
  }
  return value;
}

function rateLimitOption(name: string, value: unknown): RateLimit {
  const limit = objectOption(name, value);
  return {
    max: requiredNumber(`${name}.max`, limit['max'], isPositiveInteger, 'a positive integer'),
    interval: requiredNumber(`${name}.interval`, limit['interval'], (v) => Number.isFinite(v) && v > 0, 'a positive number of ms'),
  };
}

function handlerLimits(options: ProcessorOptions): Pick<ResolvedOptions, 'rateLimit' | 'perHandler'> {
  const perHandler = new Map<string, { rateLimit?: RateLimit; concurrency?: number }>();
  let rateLimit: RateLimit | undefined;
  if (options.rateLimit !== undefined) {
    const { perHandler: handlers, ...global } = objectOption('rateLimit', options.rateLimit);
    if (global['max'] !== undefined || global['interval'] !== undefined) rateLimit = rateLimitOption('rateLimit', global);
    for (const [name, limit] of Object.entries(objectOption('rateLimit.perHandler', handlers))) {
      perHandler.set(name, { rateLimit: rateLimitOption(`rateLimit.perHandler.${name}`, limit) });
    }
  }
  for (const [name, cap] of Object.entries(objectOption('handlerConcurrency', options.handlerConcurrency))) {
    const concurrency = requiredNumber(`handlerConcurrency.${name}`, cap, isPositiveInteger, 'a positive integer');
    perHandler.set(name, { ...perHandler.get(name), concurrency });
  }
  return { rateLimit, perHandler };
}

function objectOption(name: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(name, `Expected \`${name}\` to be an object, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

function handlersUrl(value: unknown): URL {
  if (value instanceof URL) {
    if (value.protocol !== 'file:') {
      throw new InvalidOptionError('handlers', `Expected \`handlers\` to be a file: URL, got \`${value.href}\``);
    }
    return value;
  }
  if (typeof value === 'string' && value.length > 0) {
    if (value.startsWith('file:')) return new URL(value);
    return pathToFileURL(isAbsolute(value) ? value : resolve(value));
  }
  throw new InvalidOptionError(
    'handlers',
    `Expected \`handlers\` to be a module path or file: URL, got ${describe(value)}`,
  );
}

/** Fills defaults and validates every option, naming the one that is wrong. */
export function resolveOptions(options: ProcessorOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', `Expected options to be an object, got ${describe(options)}`);
  }
  const backoff = objectOption('backoff', options.backoff);
  const retention = objectOption('retention', options.retention);
  const restart = objectOption('restart', options.restart);
  const resourceLimits = options.resourceLimits === undefined ? undefined : objectOption('resourceLimits', options.resourceLimits);
  for (const [key, value] of Object.entries(resourceLimits ?? {})) {
    numberOption(`resourceLimits.${key}`, value, 0, isNonNegativeFinite, 'a non-negative number');
  }
  const restartJitter = numberOption('restart.jitter', restart.jitter, 0.2, isNonNegativeFinite, 'a number from 0 to 1');
  if (restartJitter > 1) {
    throw new InvalidOptionError('restart.jitter', `Expected \`restart.jitter\` to be a number from 0 to 1, got ${describe(restartJitter)}`);
  }
  const jitter = numberOption('backoff.jitter', backoff.jitter, DEFAULT_BACKOFF.jitter, isNonNegativeFinite, 'a number from 0 to 1');
  if (jitter > 1) {
    throw new InvalidOptionError('backoff.jitter', `Expected \`backoff.jitter\` to be a number from 0 to 1, got ${describe(jitter)}`);
  }
  const clock = options.clock ?? defaultClock;
  if (typeof clock.setTimeout !== 'function' || typeof clock.clearTimeout !== 'function') {
    throw new InvalidOptionError('clock', 'Expected `clock` to have `setTimeout` and `clearTimeout` methods');
  }
  if (clock.now !== undefined && typeof clock.now !== 'function') {
    throw new InvalidOptionError('clock', 'Expected `clock.now` to be a method when given');
  }
  const inspect = options.inspect;
  if (inspect !== undefined && typeof inspect !== 'function' && typeof inspect?.next !== 'function') {
    throw new InvalidOptionError('inspect', `Expected \`inspect\` to be a function or an observer, got ${describe(inspect)}`);
  }
  const broker = options.broker;
  if (broker !== undefined && (typeof broker !== 'object' || broker === null || (broker as { kind?: unknown }).kind !== 'nats')) {
    throw new InvalidOptionError('broker', `Expected \`broker\` to be made by natsBroker(), got ${describe(broker)}`);
  }
  const workers = broker
    ? numberOption('workers', options.workers, availableParallelism(), isNonNegativeInteger, 'a non-negative integer')
    : numberOption('workers', options.workers, availableParallelism(), isPositiveInteger, 'a positive integer');
  return {
    handlers: workers === 0 && options.handlers === undefined ? new URL('troupe:none') : handlersUrl(options.handlers),
    broker,
    workers,
    concurrency: numberOption('concurrency', options.concurrency, 1, isPositiveInteger, 'a positive integer'),
    window: numberOption('window', options.window, 16, isNonNegativeInteger, 'a non-negative integer'),
    maxRetries: numberOption('maxRetries', options.maxRetries, 3, isNonNegativeInteger, 'a non-negative integer'),
    backoff: {
      delay: numberOption('backoff.delay', backoff.delay, DEFAULT_BACKOFF.delay, isNonNegativeFinite, 'a non-negative number'),
      factor: numberOption('backoff.factor', backoff.factor, DEFAULT_BACKOFF.factor, (v) => Number.isFinite(v) && v >= 1, 'a number ≥ 1'),
      maxDelay: numberOption('backoff.maxDelay', backoff.maxDelay, DEFAULT_BACKOFF.maxDelay, isNonNegativeFinite, 'a non-negative number'),
      jitter,
    },
    timeout: numberOption('timeout', options.timeout, 0, isNonNegativeInteger, 'a non-negative integer') || undefined,
    abortGrace: numberOption('abortGrace', options.abortGrace, 1_000, isNonNegativeInteger, 'a non-negative integer'),
    retention: {
      maxResults: numberOption('retention.maxResults', retention.maxResults, 10_000, isNonNegativeInteger, 'a non-negative integer'),
      maxFailed: numberOption('retention.maxFailed', retention.maxFailed, 10_000, isNonNegativeInteger, 'a non-negative integer'),
    },
    restart: {
      minDelay: numberOption('restart.minDelay', restart.minDelay, 100, isNonNegativeFinite, 'a non-negative number'),
      maxDelay: numberOption('restart.maxDelay', restart.maxDelay, 5_000, isNonNegativeFinite, 'a non-negative number'),
      jitter: restartJitter,
      maxRestarts: numberOption('restart.maxRestarts', restart.maxRestarts, 10, isNonNegativeInteger, 'a non-negative integer'),
      window: numberOption('restart.window', restart.window, 60_000, isPositiveInteger, 'a positive integer'),
    },
    maxCrashes: numberOption('maxCrashes', options.maxCrashes, 2, isPositiveInteger, 'a positive integer'),
    ...handlerLimits(options),
    maxQueue: numberOption('maxQueue', options.maxQueue, Infinity, (v) => v === Infinity || isPositiveInteger(v), 'a positive integer or Infinity'),
    resourceLimits: resourceLimits as ResourceLimits | undefined,
    clock,
    inspect,
  };
}

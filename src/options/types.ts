/**
 * options/: what `createProcessor` takes (this file), every default in one
 * object (defaults.ts), and how options are checked and filled
 * (resolve.ts).
 */
import type { ResourceLimits } from 'node:worker_threads';

import type { InspectionEvent, Observer } from 'xstate';

import type { Backoff } from '../machines/backoff.js';
import type { SqliteStore } from '../store/options.js';
import type { Clock } from '../util/clock.js';
import type { RateLimit } from '../util/rate-limiter.js';

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
   * Results kept of tasks that ended `done` or `cancelled`. A cancelled
   * task's payload is kept with its result, and forgotten with it, so it can
   * be retried (from the dashboard); a failed result holds its own.
   * @defaultValue 10_000
   */
  maxResults?: number;
  /**
   * Results kept of tasks that ended `failed` (what `getFailedTasks()` returns).
   * Kept apart so a flood of successes cannot push failure records out.
   * @defaultValue 10_000
   */
  maxFailed?: number;
  /**
   * With a `store`: results older than this many ms (since they finished)
   * are dropped from the file. In memory, the counts above bound them.
   * @defaultValue Infinity
   */
  maxAge?: number;
}

/**
 * How crashed threads are restarted, and when the processor gives up. The
 * same policy, kept per actor, restarts an actor whose thread died (see
 * `processor.spawn`); past it that actor ends with `ActorFailedError`.
 */
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

/**
 * A broker, where processes share one processor's queue, results and status:
 * `natsBroker()` makes one. Options name a broker only through this
 * interface, so they know no transport; how it opens is the broker's own.
 */
export interface Broker {
  /** The kind of broker, e.g. `'nats'`. */
  readonly kind: string;
  /**
   * @internal How the processor opens it, once, as it is created (see
   * `OpenBroker` in src/backend.ts, whose types options do not know).
   */
  open(opening: never): unknown;
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
   * Worker threads that run tasks. With a `broker`, 0 makes a pure client:
   * it submits and reads results, and runs nothing (`handlers` may then be
   * omitted). `{ min, max, idleTimeout }` makes an elastic pool: it starts
   * `min` threads, adds one at a time up to `max` while tasks wait for room,
   * and retires a thread idle for `idleTimeout` ms down to `min` (not with
   * a `broker`). `processor.scale(n)` resizes either kind at run time.
   * @defaultValue `os.availableParallelism()`
   *
   * @example
   * ```ts
   * createProcessor({ handlers, workers: { min: 1, max: 8, idleTimeout: 30_000 } });
   * ```
   */
  workers?: number | ElasticWorkers;
  /**
   * Threads kept for actors (`processor.spawn`), started beside the
   * `workers`: with any, actors run only on these and tasks never do, so a
   * long synchronous task cannot hold up an actor's events, nor a busy actor
   * a task. With 0, actors and tasks share the `workers` threads. Not with
   * a `broker`.
   * @defaultValue 0
   */
  actorThreads?: number;
  /**
   * Share the queue, results and status with other processes through a
   * broker, e.g. `natsBroker({ servers, stream })`: every processor with the
   * same broker settings is a node of one processor (see docs/distributed.md).
   * Without one, everything lives in this process.
   */
  broker?: Broker;
  /**
   * Keep tasks and results on disk, so they survive the process:
   * `sqliteStore({ path })` (see docs/durability.md). At `ready`, the tasks a
   * previous run left unfinished are queued again. Not with a `broker`.
   */
  store?: SqliteStore;
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
   * start at once. 64 by default: a message to a thread that has run dry
   * wakes it, which costs the main thread 13 to 60 µs on a virtual machine
   * (`bench/wake-cost.ts`), so refills go 32 or more at a time. With a `broker`, 16: a
   * node's default `prefetch` is `workers × window`, tasks it holds away
   * from the other nodes.
   * @defaultValue 64 (16 with a `broker`)
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
   * How long a virtual actor (`actorOf`) may go without an event before it
   * is passivated: its snapshot is kept (in the store with one, else in
   * memory) and it leaves its thread; its next event, or a delayed event
   * falling due, activates it again. In ms; `Infinity` never passivates.
   * @defaultValue 60_000
   */
  actorIdleTimeout?: number;
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
  /**
   * OpenTelemetry tracing, through `@opentelemetry/api`: when the app has
   * registered a tracer provider, each task gets a `troupe.task` span (a
   * child of the context active at `submit`) and each attempt a
   * `troupe.attempt` span, and handlers get `ctx.traceContext`; with a
   * broker, the context travels in the messages' headers. With no provider
   * registered it costs one check per task. `false` turns it off even then.
   * See docs/observability.md.
   *
   * @example
   * ```ts
   * createProcessor({ handlers, tracing: false }); // no spans from Troupe, whatever the app registered
   * ```
   * @defaultValue true
   */
  tracing?: boolean;
}

export interface ResolvedRestart {
  readonly minDelay: number;
  readonly maxDelay: number;
  readonly jitter: number;
  readonly maxRestarts: number;
  readonly window: number;
}

/** `processor.shutdown(options)`. */
export interface ShutdownOptions {
  /**
   * How long to let queued, running and retrying tasks finish, in ms. At the
   * deadline, what is left is cancelled and returned as `unfinished`. The
   * actors stop after the tasks, under the same deadline (`abortGrace` more
   * if it has passed): one not stopped by then is returned with the last
   * snapshot its thread reported, and its thread is terminated.
   * @defaultValue 10_000
   */
  timeout?: number;
  /**
   * `true`: queued and retrying tasks still run until the deadline. `false`:
   * only the attempts already running may finish; everything else is
   * cancelled and returned in `unfinished` at once.
   * @defaultValue true
   */
  drain?: boolean;
}

/** An elastic pool: see `ProcessorOptions.workers`. */
export interface ElasticWorkers {
  /** Threads it starts with and never goes below. A positive integer. */
  readonly min: number;
  /** Threads it grows to at most while tasks wait. At least `min`. */
  readonly max: number;
  /** ms a thread may stay idle before it retires, while the pool is above `min`. @defaultValue 30_000 */
  readonly idleTimeout?: number;
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
  readonly broker: Broker | undefined;
  /** Task threads at start: `min` of an elastic pool. */
  readonly workers: number;
  /** For an elastic pool: its bounds, and `idleTimeout` filled in. */
  readonly elastic: Required<ElasticWorkers> | undefined;
  readonly actorThreads: number;
  readonly concurrency: number;
  readonly window: number;
  readonly maxRetries: number;
  readonly backoff: Backoff;
  readonly timeout: number | undefined;
  readonly abortGrace: number;
  readonly retention: { readonly maxResults: number; readonly maxFailed: number; readonly maxAge: number };
  readonly store: SqliteStore | undefined;
  readonly restart: ResolvedRestart;
  readonly maxCrashes: number;
  readonly maxQueue: number;
  readonly actorIdleTimeout: number;
  readonly rateLimit: RateLimit | undefined;
  readonly perHandler: ReadonlyMap<string, { readonly rateLimit?: RateLimit; readonly concurrency?: number }>;
  readonly resourceLimits: ResourceLimits | undefined;
  readonly clock: Clock;
  readonly inspect: ProcessorOptions['inspect'];
  readonly tracing: boolean;
}

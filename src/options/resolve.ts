import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import { InvalidOptionError } from '../errors/errors.js';
import { defaultClock } from '../util/clock.js';
import type { RateLimit } from '../util/rate-limiter.js';
import {
  checkNumber,
  checkObject,
  describe,
  fraction,
  nonNegativeInteger,
  nonNegativeNumber,
  type NumberRule,
  optionalBoolean,
  optionalNumber,
  positiveInteger,
} from '../util/validate.js';
import { DEFAULTS } from './defaults.js';
import type { ElasticWorkers, ProcessorOptions, ResolvedOptions } from './types.js';

const positiveMs: NumberRule = { expected: 'a positive number of ms', test: (v) => Number.isFinite(v) && v > 0 };
const positiveDuration: NumberRule = { expected: 'a positive number of ms, or Infinity', test: (v) => v > 0 };
const growth: NumberRule = { expected: 'a number ≥ 1', test: (v) => Number.isFinite(v) && v >= 1 };
const queueBound: NumberRule = {
  expected: 'a positive integer or Infinity',
  test: (v) => v === Infinity || positiveInteger.test(v),
};

function rateLimitOption(name: string, value: unknown): RateLimit {
  const limit = checkObject(name, value);
  return {
    max: checkNumber(`${name}.max`, limit['max'], positiveInteger),
    interval: checkNumber(`${name}.interval`, limit['interval'], positiveMs),
  };
}

function handlerLimits(options: ProcessorOptions): Pick<ResolvedOptions, 'rateLimit' | 'perHandler'> {
  const perHandler = new Map<string, { rateLimit?: RateLimit; concurrency?: number }>();
  let rateLimit: RateLimit | undefined;
  if (options.rateLimit !== undefined) {
    const { perHandler: handlers, ...global } = checkObject('rateLimit', options.rateLimit);
    if (global['max'] !== undefined || global['interval'] !== undefined) rateLimit = rateLimitOption('rateLimit', global);
    for (const [name, limit] of Object.entries(checkObject('rateLimit.perHandler', handlers))) {
      perHandler.set(name, { rateLimit: rateLimitOption(`rateLimit.perHandler.${name}`, limit) });
    }
  }
  for (const [name, cap] of Object.entries(checkObject('handlerConcurrency', options.handlerConcurrency))) {
    const concurrency = checkNumber(`handlerConcurrency.${name}`, cap, positiveInteger);
    perHandler.set(name, { ...perHandler.get(name), concurrency });
  }
  return { rateLimit, perHandler };
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
  throw new InvalidOptionError('handlers', `Expected \`handlers\` to be a module path or file: URL, got ${describe(value)}`);
}

function checkClock(options: ProcessorOptions): ResolvedOptions['clock'] {
  const clock = options.clock ?? defaultClock;
  if (typeof clock.setTimeout !== 'function' || typeof clock.clearTimeout !== 'function') {
    throw new InvalidOptionError('clock', 'Expected `clock` to have `setTimeout` and `clearTimeout` methods');
  }
  if (clock.now !== undefined && typeof clock.now !== 'function') {
    throw new InvalidOptionError('clock', 'Expected `clock.now` to be a method when given');
  }
  return clock;
}

/** `workers: { min, max, idleTimeout }`, checked; undefined for a number. */
function elasticWorkers(value: ProcessorOptions['workers'], broker: boolean): Required<ElasticWorkers> | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (broker) {
    throw new InvalidOptionError('workers', 'Expected `workers` to be a number with a `broker`: a cluster grows by its nodes');
  }
  const min = checkNumber('workers.min', value.min, positiveInteger);
  const max = checkNumber('workers.max', value.max, positiveInteger);
  if (max < min)
    throw new InvalidOptionError('workers.max', `Expected \`workers.max\` to be at least \`workers.min\` (${min}), got ${max}`);
  const idleTimeout = optionalNumber('workers.idleTimeout', value.idleTimeout, DEFAULTS.idleTimeout, nonNegativeInteger);
  return { min, max, idleTimeout };
}

/** Made by a broker's factory (`natsBroker()`): it has a kind and opens itself. */
function isBroker(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const { kind, open } = value as { kind?: unknown; open?: unknown };
  return typeof kind === 'string' && typeof open === 'function';
}

/** `scale(workers)`: a positive integer, within an elastic pool's bounds, on a processor with threads. */
export function checkScale(workers: number, options: ResolvedOptions): void {
  checkNumber('workers', workers, positiveInteger);
  const { elastic } = options;
  if (elastic && (workers < elastic.min || workers > elastic.max)) {
    throw new InvalidOptionError(
      'workers',
      `Expected \`workers\` within the elastic pool's ${elastic.min}..${elastic.max}, got ${workers}`,
    );
  }
  if (options.workers === 0) {
    throw new InvalidOptionError('workers', 'Expected a processor with threads to scale: a pure client (`workers: 0`) runs none');
  }
}

/**
 * Fills every option the user left out from {@link DEFAULTS} and checks
 * every one given, naming the one that is wrong. Throws
 * `InvalidOptionError`; changes nothing.
 */
export function resolveOptions(options: ProcessorOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', `Expected options to be an object, got ${describe(options)}`);
  }
  const backoff = checkObject('backoff', options.backoff);
  const retention = checkObject('retention', options.retention);
  const restart = checkObject('restart', options.restart);
  const resourceLimits = options.resourceLimits === undefined ? undefined : checkObject('resourceLimits', options.resourceLimits);
  for (const [key, value] of Object.entries(resourceLimits ?? {})) checkNumber(`resourceLimits.${key}`, value, nonNegativeNumber);
  const inspect = options.inspect;
  if (inspect !== undefined && typeof inspect !== 'function' && typeof inspect?.next !== 'function') {
    throw new InvalidOptionError('inspect', `Expected \`inspect\` to be a function or an observer, got ${describe(inspect)}`);
  }
  const broker = options.broker;
  if (broker !== undefined && !isBroker(broker)) {
    throw new InvalidOptionError('broker', `Expected \`broker\` to be made by natsBroker(), got ${describe(broker)}`);
  }
  const store = options.store;
  if (store !== undefined && (typeof store !== 'object' || store === null || (store as { kind?: unknown }).kind !== 'sqlite')) {
    throw new InvalidOptionError('store', `Expected \`store\` to be made by sqliteStore(), got ${describe(store)}`);
  }
  if (store && broker) {
    throw new InvalidOptionError('store', 'Expected at most one of `store` and `broker`: a broker keeps the tasks on its server');
  }
  const elastic = elasticWorkers(options.workers, broker !== undefined);
  // With a broker, 0 threads makes a pure client.
  const workers = elastic
    ? elastic.min
    : optionalNumber('workers', options.workers, DEFAULTS.workers, broker ? nonNegativeInteger : positiveInteger);
  const actorThreads = optionalNumber('actorThreads', options.actorThreads, DEFAULTS.actorThreads, nonNegativeInteger);
  if (actorThreads > 0 && broker) {
    throw new InvalidOptionError('actorThreads', 'Expected no `actorThreads` with a `broker`: actors run on the threads of one process');
  }
  return {
    handlers: workers === 0 && options.handlers === undefined ? new URL('troupe:none') : handlersUrl(options.handlers),
    broker,
    workers,
    elastic,
    actorThreads,
    concurrency: optionalNumber('concurrency', options.concurrency, DEFAULTS.concurrency, positiveInteger),
    window: optionalNumber('window', options.window, broker ? DEFAULTS.brokerWindow : DEFAULTS.window, nonNegativeInteger),
    maxRetries: optionalNumber('maxRetries', options.maxRetries, DEFAULTS.maxRetries, nonNegativeInteger),
    backoff: {
      delay: optionalNumber('backoff.delay', backoff['delay'], DEFAULTS.backoff.delay, nonNegativeNumber),
      factor: optionalNumber('backoff.factor', backoff['factor'], DEFAULTS.backoff.factor, growth),
      maxDelay: optionalNumber('backoff.maxDelay', backoff['maxDelay'], DEFAULTS.backoff.maxDelay, nonNegativeNumber),
      jitter: optionalNumber('backoff.jitter', backoff['jitter'], DEFAULTS.backoff.jitter, fraction),
    },
    timeout: optionalNumber('timeout', options.timeout, DEFAULTS.timeout, nonNegativeInteger) || undefined,
    abortGrace: optionalNumber('abortGrace', options.abortGrace, DEFAULTS.abortGrace, nonNegativeInteger),
    retention: {
      maxResults: optionalNumber('retention.maxResults', retention['maxResults'], DEFAULTS.retention.maxResults, nonNegativeInteger),
      maxFailed: optionalNumber('retention.maxFailed', retention['maxFailed'], DEFAULTS.retention.maxFailed, nonNegativeInteger),
      maxAge: optionalNumber('retention.maxAge', retention['maxAge'], DEFAULTS.retention.maxAge, positiveDuration),
    },
    store,
    restart: {
      minDelay: optionalNumber('restart.minDelay', restart['minDelay'], DEFAULTS.restart.minDelay, nonNegativeNumber),
      maxDelay: optionalNumber('restart.maxDelay', restart['maxDelay'], DEFAULTS.restart.maxDelay, nonNegativeNumber),
      jitter: optionalNumber('restart.jitter', restart['jitter'], DEFAULTS.restart.jitter, fraction),
      maxRestarts: optionalNumber('restart.maxRestarts', restart['maxRestarts'], DEFAULTS.restart.maxRestarts, nonNegativeInteger),
      window: optionalNumber('restart.window', restart['window'], DEFAULTS.restart.window, positiveInteger),
    },
    maxCrashes: optionalNumber('maxCrashes', options.maxCrashes, DEFAULTS.maxCrashes, positiveInteger),
    ...handlerLimits(options),
    maxQueue: optionalNumber('maxQueue', options.maxQueue, DEFAULTS.maxQueue, queueBound),
    actorIdleTimeout: optionalNumber('actorIdleTimeout', options.actorIdleTimeout, DEFAULTS.actorIdleTimeout, queueBound),
    resourceLimits: resourceLimits,
    clock: checkClock(options),
    inspect,
    tracing: optionalBoolean('tracing', options.tracing, DEFAULTS.tracing),
  };
}

/**
 * The code that runs inside each worker thread: it imports the handler module
 * once and exposes a runner over comlink. It holds no state but the handlers,
 * the attempts queued or running, and the outcomes not yet collected.
 */
import { parentPort } from 'node:worker_threads';
import { expose } from 'comlink';
import { UnknownHandlerError } from '../errors.js';
import { Queue } from '../queue.js';
import { deserializeError, serializeError } from '../serialize-error.js';
import type { TaskHandler } from '../task.js';
import { nodeEndpoint } from './endpoint.js';
import type { ThreadApi, WireAttempt, WireOutcome } from './protocol.js';

if (!parentPort) throw new Error('troupe: thread.ts must run inside a worker thread');

const handlers = new Map<string, TaskHandler>();
const waiting = new Queue<WireAttempt>();
const controllers = new Map<number, AbortController>();
let concurrency = 1;
let outcomes: WireOutcome[] = [];
let poller: ((outcomes: readonly WireOutcome[]) => void) | undefined;
/** The batch last answered, until the next poll shows it arrived. */
let answered: readonly WireOutcome[] = [];
let flushScheduled = false;

/**
 * Hands the outcomes to the pending poll once per turn of the event loop, so
 * everything that settled in this turn travels in one message.
 */
function deliver(outcome: WireOutcome): void {
  outcomes.push(outcome);
  if (flushScheduled) return;
  flushScheduled = true;
  setImmediate(flush);
}

function flush(): void {
  flushScheduled = false;
  if (!poller || outcomes.length === 0) return;
  const resolve = poller;
  poller = undefined;
  answered = outcomes;
  outcomes = [];
  resolve(answered);
}

function cloneable(outcome: WireOutcome): WireOutcome {
  if (!outcome.ok) return outcome;
  try {
    structuredClone(outcome.value);
    return outcome;
  } catch (cause) {
    const error = new TypeError("The handler's return value cannot be structured-cloned to the main thread", { cause });
    return { token: outcome.token, ok: false, error: serializeError(error), retryable: false };
  }
}

function pump(): void {
  while (controllers.size < concurrency) {
    const attempt = waiting.shift();
    if (!attempt) return;
    start(attempt);
  }
}

function start({ token, id, handler: name, attempt, payload }: WireAttempt): void {
  const handler = handlers.get(name);
  if (!handler) {
    // Retrying cannot make a missing export appear.
    const error = serializeError(new UnknownHandlerError(name, [...handlers.keys()]));
    return deliver({ token, ok: false, error, retryable: false });
  }
  const controller = new AbortController();
  controllers.set(token, controller);
  const settle = (outcome: WireOutcome) => {
    controllers.delete(token);
    deliver(outcome);
    pump();
  };
  let result: unknown;
  try {
    result = handler(payload, { id, attempt, signal: controller.signal });
  } catch (error) {
    return settle({ token, ok: false, error: serializeError(error), retryable: true });
  }
  Promise.resolve(result).then(
    (value) => settle({ token, ok: true, value }),
    (error: unknown) => settle({ token, ok: false, error: serializeError(error), retryable: true }),
  );
}

const api: ThreadApi = {
  async load(handlersUrl, config) {
    concurrency = config.concurrency;
    try {
      const module = (await import(handlersUrl)) as Record<string, unknown>;
      for (const [name, value] of Object.entries(module)) {
        if (typeof value === 'function') handlers.set(name, value as TaskHandler);
      }
      return { ok: true, handlers: [...handlers.keys()] };
    } catch (error) {
      return { ok: false, error: serializeError(error) };
    }
  },

  run(attempts) {
    for (const attempt of attempts) waiting.push(attempt);
    pump();
  },

  poll(resend) {
    if (resend) return Promise.resolve((answered = answered.map(cloneable)));
    answered = [];
    if (outcomes.length > 0 && !flushScheduled) {
      answered = outcomes;
      outcomes = [];
      return Promise.resolve(answered);
    }
    return new Promise((resolve) => {
      poller = resolve;
    });
  },

  abort(token, reason) {
    controllers.get(token)?.abort(deserializeError(reason));
  },
};

expose(api, nodeEndpoint(parentPort));

/**
 * The code that runs inside each worker thread: it imports the handler module
 * once and exposes a runner over comlink. It holds no state but the handlers,
 * the attempts queued or running, and the outcomes not yet collected.
 */
import { parentPort, type MessagePort, type TransferListItem } from 'node:worker_threads';
import { expose } from 'comlink';
import { isDetached } from '../detached.js';
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
let port: MessagePort | undefined;
let outcomes: WireOutcome[] = [];
/** Buffers the pending outcomes move rather than copy. */
let moving: TransferListItem[] = [];
let flushScheduled = false;

/**
 * Sends the outcomes once per turn of the event loop, so everything that
 * settled in this turn travels in one message.
 */
function deliver(outcome: WireOutcome, transfers?: readonly TransferListItem[]): void {
  outcomes.push(outcome);
  if (transfers) moving.push(...transfers);
  if (flushScheduled) return;
  flushScheduled = true;
  // With other attempts still running, wait for the end of this event-loop
  // turn so their outcomes share the message. With nothing else to wait for,
  // answer at once: the main thread cannot send the next task before it has
  // this answer, and an idle thread waiting on it is pure overhead.
  if (controllers.size > 0 || waiting.size > 0) setImmediate(flush);
  else queueMicrotask(flush);
}

function flush(): void {
  flushScheduled = false;
  const batch = outcomes;
  const transfers = moving;
  outcomes = [];
  moving = [];
  try {
    port?.postMessage(batch, transfers);
  } catch {
    // One value in the batch cannot be cloned (or a buffer moved): send
    // each value that can, replace the others by a failure, and copy rather
    // than move. Checking every value up front would clone each result twice.
    port?.postMessage(batch.map(cloneable));
  }
}

/** A transferred buffer the handler moved elsewhere cannot be moved again. */
function stillOwned(item: TransferListItem): boolean {
  return !(item instanceof ArrayBuffer) || !isDetached(item);
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

function start({ token, id, handler: name, attempt, payload, transfer: moved }: WireAttempt): void {
  const handler = handlers.get(name);
  if (!handler) {
    // Retrying cannot make a missing export appear.
    const error = serializeError(new UnknownHandlerError(name, [...handlers.keys()]));
    return deliver({ token, ok: false, error, retryable: false });
  }
  const controller = new AbortController();
  controllers.set(token, controller);
  let marked: TransferListItem[] | undefined;
  const ctx = {
    id,
    attempt,
    signal: controller.signal,
    transfer<T>(value: T, transferables: readonly TransferListItem[]): T {
      (marked ??= []).push(...transferables);
      return value;
    },
  };
  const settle = (outcome: WireOutcome, transfers?: readonly TransferListItem[]) => {
    controllers.delete(token);
    deliver(outcome, transfers);
    pump();
  };
  const fail = (error: unknown) => {
    const failure = { token, ok: false as const, error: serializeError(error), retryable: true };
    if (!moved) return settle(failure);
    // The payload's buffers came here moved; the next attempt needs them back.
    const back = moved.filter(stillOwned);
    settle({ ...failure, returned: { payload, transfer: back } }, back);
  };
  let result: unknown;
  try {
    result = handler(payload, ctx);
  } catch (error) {
    return fail(error);
  }
  Promise.resolve(result).then((value) => settle({ token, ok: true, value }, marked), fail);
}

function run(attempts: readonly WireAttempt[]): void {
  for (const attempt of attempts) waiting.push(attempt);
  pump();
}

const api: ThreadApi = {
  async load(handlersUrl, config, channel) {
    concurrency = config.concurrency;
    try {
      const module = (await import(handlersUrl)) as Record<string, unknown>;
      for (const [name, value] of Object.entries(module)) {
        if (typeof value === 'function') handlers.set(name, value as TaskHandler);
      }
    } catch (error) {
      return { ok: false, error: serializeError(error) };
    }
    port = channel;
    port.on('message', run);
    return { ok: true, handlers: [...handlers.keys()] };
  },

  abort(token, reason) {
    controllers.get(token)?.abort(deserializeError(reason));
  },
};

expose(api, nodeEndpoint(parentPort));

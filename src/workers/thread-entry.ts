/**
 * The code that runs inside each worker thread: it imports the handler module
 * once and exposes a runner over comlink. It holds no state but the handlers,
 * the attempts waiting or running, and what it has to report and has not
 * sent yet; the actors the thread hosts are the `ActorRunner`'s
 * (actors/thread-runner.ts).
 */
import { type MessagePort, parentPort, type TransferListItem } from 'node:worker_threads';

import { expose } from 'comlink';

import type { ActorReport } from '../actors/protocol.js';
import { ActorRunner } from '../actors/thread-runner.js';
import { UnknownHandlerError } from '../errors/errors.js';
import { deserializeError, serializeError } from '../errors/serialize.js';
import type { TaskHandler } from '../task/types.js';
import { isDetached } from '../util/detached.js';
import { Queue } from '../util/queue.js';
import { AttemptContext } from './attempt-context.js';
import { nodeEndpoint } from './endpoint.js';
import type { ThreadApi, ThreadDying, ThreadOrders, ThreadReport, WireAttempt, WireOutcome } from './protocol.js';

if (!parentPort) throw new Error('troupe: thread.ts must run inside a worker thread');

const handlers = new Map<string, TaskHandler>();
const waiting = new Queue<WireAttempt>();
/** Tokens in `waiting`, and those of them taken back (skipped when their turn comes): O(1) removal. */
const waitingTokens = new Map<number, WireAttempt>();
const controllers = new Map<number, AttemptContext>();
let concurrency = 1;
let port: MessagePort | undefined;
/** What this turn has to report, not sent yet (see `ThreadReport`). */
let unsent: Array<number | WireOutcome | ActorReport> = [];
/** Buffers the pending outcomes move rather than copy. */
let moving: TransferListItem[] = [];
let lastFlush = 0;
/** How long a report may wait for company, in ms: a no-op batch fills in far less, a 1 ms task goes alone. */
const MAX_REPORT_AGE_MS = 0.5;

/**
 * Reports a start (its token) or an outcome, once per turn of the event
 * loop, so everything that started or settled in this turn travels in one
 * message.
 */
function report(item: number | WireOutcome, transfers?: readonly TransferListItem[]): void {
  unsent.push(item);
  if (transfers) moving.push(...transfers);
  // An outcome with nothing else running or waiting is answered at once: the
  // main thread cannot send more work before it has it, and an idle thread
  // waiting on it is pure overhead. A flush already due at the end of the
  // turn then finds nothing left to send. A start alone is never urgent.
  if (typeof item !== 'number') {
    if (controllers.size === 0 && waiting.size === 0) {
      queueMicrotask(flush);
      return;
    }
    // Synchronous handlers run back to back from the window without the
    // event loop turning; a report older than this goes out before the next
    // one starts, so the main thread refills the window while this thread
    // works.
    if (performance.now() - lastFlush >= MAX_REPORT_AGE_MS) {
      flush();
      return;
    }
  }
  scheduleFlush();
}

/** A flush through `defer`, asked for any number of times before it runs: it runs once. */
function flushVia(defer: (run: () => void) => void): () => void {
  let scheduled = false;
  return () => {
    if (scheduled) return;
    scheduled = true;
    defer(() => {
      scheduled = false;
      flush();
    });
  };
}

/** Sends the report at the end of this event-loop turn, so the other attempts' (and actors') reports share the message. */
const scheduleFlush = flushVia((run) => setImmediate(run));
/** A report with an answer someone awaits goes once the batch in hand is done, not a turn later. */
const answerSoon = flushVia(queueMicrotask);

const actors = new ActorRunner(scheduleFlush, answerSoon);

// An action that calls `process.exit` ends the thread in the middle of its
// event: the main thread is told which one, so that it is not delivered again
// (see `ThreadDying`). Exit handlers run for `process.exit`, not for a
// termination or an out-of-memory, which say nothing.
const parent = parentPort;
process.on('exit', () => {
  const dying = actors.processing;
  if (dying) parent.postMessage({ dying } satisfies ThreadDying);
});

function flush(): void {
  lastFlush = performance.now();
  const actorReports = actors.drain();
  if (actorReports.length > 0) unsent.push(...actorReports);
  if (unsent.length === 0) return;
  const batch: ThreadReport = unsent;
  const transfers = moving;
  unsent = [];
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

function cloneable(outcome: number | WireOutcome | ActorReport): number | WireOutcome | ActorReport {
  if (typeof outcome === 'number') return outcome;
  if ('actor' in outcome) return cloneableActorReport(outcome);
  if (!outcome.ok) return outcome;
  try {
    structuredClone(outcome.value);
    return outcome;
  } catch (cause) {
    const error = new TypeError("The handler's return value cannot be structured-cloned to the main thread", { cause });
    return { token: outcome.token, ok: false, error: serializeError(error), retryable: false };
  }
}

/** An actor whose context cannot be cloned is reported with what can be, and an error saying why. */
function cloneableActorReport(item: ActorReport): ActorReport {
  try {
    structuredClone(item);
    return item;
  } catch (cause) {
    const error = new TypeError(`The snapshot of actor \`${item.actor}\` cannot be structured-cloned to the main thread`, { cause });
    const { status } = item.snapshot;
    return { actor: item.actor, processed: item.processed, snapshot: { status, error: serializeError(error) } };
  }
}

function pump(): void {
  while (controllers.size < concurrency) {
    const attempt = waiting.shift();
    if (!attempt) return;
    // Taken back while it waited: its answer has already gone.
    if (waitingTokens.delete(attempt.token)) start(attempt);
  }
}

/** Drops a waiting attempt, and says so; its moved buffers go back with the answer. */
function drop(token: number): void {
  const attempt = waitingTokens.get(token);
  if (!attempt) return;
  waitingTokens.delete(token);
  const { payload, transfer: moved } = attempt;
  if (!moved) return report({ token, ok: false, unstarted: true });
  const back = moved.filter(stillOwned);
  report({ token, ok: false, unstarted: true, returned: { payload, transfer: back } }, back);
}

function start({ token, id, handler: name, attempt, payload, transfer: moved, windowed, traceContext }: WireAttempt): void {
  const handler = handlers.get(name);
  if (windowed) report(token);
  if (!handler) {
    // Retrying cannot make a missing export appear.
    const error = serializeError(new UnknownHandlerError(name, [...handlers.keys()]));
    return report({ token, ok: false, error, retryable: false });
  }
  const ctx = new AttemptContext(id, attempt, traceContext);
  controllers.set(token, ctx);
  const settle = (outcome: WireOutcome, transfers?: readonly TransferListItem[]) => {
    controllers.delete(token);
    report(outcome, transfers);
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
  Promise.resolve(result).then((value) => settle({ token, ok: true, value }, AttemptContext.marked(ctx)), fail);
}

function receive(orders: ThreadOrders): void {
  if ('actors' in orders) return actors.receive(orders.actors);
  if ('revoke' in orders) {
    for (const token of orders.revoke) drop(token);
    return;
  }
  if ('abort' in orders) {
    const running = controllers.get(orders.abort);
    if (running) AttemptContext.abort(running, deserializeError(orders.reason));
    else drop(orders.abort);
    return;
  }
  for (const attempt of orders) {
    waiting.push(attempt);
    waitingTokens.set(attempt.token, attempt);
  }
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
      const logics = await actors.load(module);
      port = channel;
      port.on('message', receive);
      return { ok: true, handlers: [...handlers.keys()], actors: logics };
    } catch (error) {
      return { ok: false, error: serializeError(error) };
    }
  },
};

expose(api, nodeEndpoint(parentPort));

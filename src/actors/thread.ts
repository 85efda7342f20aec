/**
 * The code that runs inside each worker thread: it imports the handler module
 * once and exposes a runner over comlink. It holds no state but the handlers
 * and the abort controllers of the attempts it is running.
 */
import { parentPort } from 'node:worker_threads';
import { expose } from 'comlink';
import { nodeEndpoint } from './endpoint.js';
import { UnknownHandlerError } from '../errors.js';
import { deserializeError, serializeError } from '../serialize-error.js';
import type { TaskHandler } from '../task.js';
import type { ThreadApi } from './protocol.js';

if (!parentPort) throw new Error('troupe: thread.ts must run inside a worker thread');

const handlers = new Map<string, TaskHandler>();
const controllers = new Map<number, AbortController>();

const api: ThreadApi = {
  async load(handlersUrl) {
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

  async run({ token, id, handler: name, attempt, payload }) {
    const handler = handlers.get(name);
    if (!handler) {
      // Retrying cannot make a missing export appear.
      return { ok: false, error: serializeError(new UnknownHandlerError(name, [...handlers.keys()])), retryable: false };
    }
    const controller = new AbortController();
    controllers.set(token, controller);
    try {
      return { ok: true, value: await handler(payload, { id, attempt, signal: controller.signal }) };
    } catch (error) {
      return { ok: false, error: serializeError(error), retryable: true };
    } finally {
      controllers.delete(token);
    }
  },

  abort(token, reason) {
    controllers.get(token)?.abort(deserializeError(reason));
  },
};

expose(api, nodeEndpoint(parentPort));

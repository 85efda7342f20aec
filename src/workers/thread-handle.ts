import { MessageChannel, type MessagePort, type ResourceLimits, type TransferListItem, type Worker } from 'node:worker_threads';

import { type Remote, transfer, wrap } from 'comlink';

import type { ActorOrder } from '../actors/protocol.js';
import type { SerializedError } from '../errors/serialize.js';
import { needsTypescript, startThread, typescriptPreload } from '../util/threads.js';
import { nodeEndpoint } from './endpoint.js';
import type { LoadOutcome, ThreadApi, ThreadConfig, ThreadDying, ThreadOrders, ThreadReport, WireAttempt } from './protocol.js';

/** How a thread ended. */
export interface ThreadExit {
  /** The exit code; `null` if the thread never reported one. */
  readonly code: number | null;
  /** The uncaught error that killed the thread, if one did. */
  readonly error: Error | undefined;
  /** The actor event the thread was processing when it called `process.exit`, as it said (see `ThreadDying`). */
  readonly dying?: ThreadDying['dying'];
}

/** Rejects a call whose thread exited before answering. */
export class ThreadExitedError extends Error {
  override name = 'ThreadExitedError';
  constructor(readonly exit: ThreadExit) {
    super(`The thread exited with code ${exit.code}`, { cause: exit.error });
  }
}

const SELF = import.meta.url;
// Under tsx or vitest this module is TypeScript, and so is the thread entry beside it.
const ENTRY = new URL(SELF.endsWith('.ts') ? './thread-entry.ts' : './thread-entry.js', SELF);

/** Throws now (not in the thread) when the handler module will need tsx and it is missing. */
export function checkLoadable(handlers: URL): void {
  if (needsTypescript(ENTRY) || needsTypescript(handlers)) typescriptPreload();
}

export interface ThreadOptions {
  readonly handlers: URL;
  readonly resourceLimits?: ResourceLimits;
}

type Method<K extends keyof ThreadApi> = (...args: Parameters<ThreadApi[K]>) => Promise<Awaited<ReturnType<ThreadApi[K]>>>;

/**
 * One `worker_threads` thread behind comlink: the only place that touches
 * either. Comlink never settles a pending call when the thread dies, so every
 * pending call is rejected here on the thread's exit; `error` is always
 * listened to, or an uncaught error in the thread would be rethrown on the
 * main thread.
 */
export class ThreadHandle {
  /** Settles once, when the thread has exited for any reason. */
  readonly exited: Promise<ThreadExit>;
  readonly #worker: Worker;
  readonly #remote: Remote<ThreadApi>;
  /**
   * Comlink builds (and registers for finalization) a new proxy on every
   * property read, so each method's proxy is read once and kept.
   */
  readonly #methods = new Map<keyof ThreadApi, Method<keyof ThreadApi>>();
  /**
   * Rejecters of the calls in flight. Racing each call against one exit
   * promise would pile a reaction per call onto that promise for the
   * thread's whole life; this set holds only the calls still pending.
   */
  readonly #pending = new Set<(error: ThreadExitedError) => void>();
  #exit: ThreadExit | undefined;
  #error: Error | undefined;
  #dying: ThreadDying['dying'] | undefined;
  readonly #handlers: URL;
  readonly #threadId: number;
  /** The main side of the batch channel, once loaded. */
  #port: MessagePort | undefined;

  constructor({ handlers, resourceLimits }: ThreadOptions) {
    this.#handlers = handlers;
    const typescript = needsTypescript(ENTRY) || needsTypescript(handlers);
    this.#worker = startThread(ENTRY, { typescript, ...(resourceLimits ? { resourceLimits } : {}) });
    // Read now: a Worker's threadId reads -1 once it has exited.
    this.#threadId = this.#worker.threadId;
    this.#worker.on('error', (error) => {
      this.#error ??= error;
    });
    // Comlink's answers come this way too (it ignores this one): Node delivers them all before `exit`.
    this.#worker.on('message', (message: unknown) => {
      if (typeof message === 'object' && message !== null && 'dying' in message) this.#dying = (message as ThreadDying).dying;
    });
    this.exited = new Promise((resolve) => {
      this.#worker.once('exit', (code) => {
        const exit = { code, error: this.#error, ...(this.#dying ? { dying: this.#dying } : {}) };
        this.#exit = exit;
        this.#port?.close();
        const error = new ThreadExitedError(exit);
        for (const reject of this.#pending) reject(error);
        this.#pending.clear();
        resolve(exit);
      });
    });
    this.#remote = wrap<ThreadApi>(nodeEndpoint(this.#worker));
  }

  /** Calls into the thread; rejects with {@link ThreadExitedError} if the thread exits first. */
  call<K extends keyof ThreadApi>(method: K, ...args: Parameters<ThreadApi[K]>): Promise<Awaited<ReturnType<ThreadApi[K]>>> {
    if (this.#exit) return Promise.reject(new ThreadExitedError(this.#exit));
    let invoke = this.#methods.get(method) as Method<K> | undefined;
    if (!invoke) {
      // Comlink's Remote<T> distributes over union return types; ThreadApi is
      // the contract, so the method is typed from it directly.
      invoke = (this.#remote as unknown as Record<K, Method<K>>)[method];
      this.#methods.set(method, invoke);
    }
    const call = invoke;
    return new Promise((resolve, reject) => {
      this.#pending.add(reject);
      call(...args).then(
        (value) => {
          this.#pending.delete(reject);
          resolve(value);
        },
        (error: unknown) => {
          this.#pending.delete(reject);
          reject(error);
        },
      );
    });
  }

  /**
   * Loads the handler module in the thread and opens the batch channel:
   * `onReport` receives every report the thread sends: starts, outcomes and
   * its actors' reports, many per message.
   */
  load(config: ThreadConfig, onReport: (report: ThreadReport) => void): Promise<LoadOutcome> {
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    port1.on('message', onReport);
    // The worker's ref decides whether this thread keeps the process alive.
    port1.unref();
    // comlink types transfer lists with the DOM's Transferable; Node's ports are the same objects.
    return this.call('load', this.#handlers.href, config, transfer(port2, [port2 as never]));
  }

  /** Sends a batch of attempts, moving `transfers` instead of copying them. Throws if they cannot be sent. */
  run(attempts: readonly WireAttempt[], transfers: readonly TransferListItem[] | undefined): void {
    if (!this.#port || this.#exit) return; // #onExit of the worker reports the attempts lost
    this.#port.postMessage(attempts satisfies ThreadOrders, transfers);
  }

  /** Aborts an attempt (see `ThreadAbort`). */
  /** Orders for the thread's actors, on the batch port (in order with everything else sent there). */
  actors(orders: readonly ActorOrder[]): void {
    if (!this.#port || this.#exit) return;
    this.#port.postMessage({ actors: orders } satisfies ThreadOrders);
  }

  abort(token: number, reason: SerializedError): void {
    if (!this.#port || this.#exit) return;
    this.#port.postMessage({ abort: token, reason } satisfies ThreadOrders);
  }

  /** Takes back attempts still waiting in the thread; it answers for each one it still had. */
  revoke(tokens: readonly number[]): void {
    if (!this.#port || this.#exit) return;
    this.#port.postMessage({ revoke: tokens } satisfies ThreadOrders);
  }

  get threadId(): number {
    return this.#threadId;
  }

  /** Lets the process exit while this thread is idle. */
  unref(): void {
    this.#worker.unref();
  }

  ref(): void {
    this.#worker.ref();
  }

  /**
   * Stops the thread at once, whatever it is running. The thread is ref'd
   * first: an idle thread is unref'd, and a pending `terminate()` does not
   * keep the process alive by itself, so a shutdown awaited at the top level
   * could see the process exit (code 13) before the thread did.
   */
  async terminate(): Promise<ThreadExit> {
    this.#worker.ref();
    await this.#worker.terminate();
    return this.exited;
  }
}

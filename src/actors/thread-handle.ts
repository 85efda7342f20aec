import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { wrap, type Remote } from 'comlink';
import { WorkerStartError } from '../errors.js';
import { nodeEndpoint } from './endpoint.js';
import type { ThreadApi } from './protocol.js';

/** How a thread ended. */
export interface ThreadExit {
  /** The exit code; `null` if the thread never reported one. */
  readonly code: number | null;
  /** The uncaught error that killed the thread, if one did. */
  readonly error: Error | undefined;
}

/** Rejects a call whose thread exited before answering. */
export class ThreadExitedError extends Error {
  override name = 'ThreadExitedError';
  constructor(readonly exit: ThreadExit) {
    super(`The thread exited with code ${exit.code}`, { cause: exit.error });
  }
}

const TYPESCRIPT = /\.[cm]?tsx?$/;
const SELF = import.meta.url;
// Under tsx or vitest this module is TypeScript, and so is the thread entry beside it.
const ENTRY = new URL(SELF.endsWith('.ts') ? './thread.ts' : './thread.js', SELF);

let tsxPreload: string | undefined;

/**
 * tsx registers its loader in the main thread only, so a thread whose entry or
 * handler module is TypeScript needs its own registration. A `data:` URL
 * preload that calls tsx's ESM `register()` works under the tsx CLI, under
 * vitest and from compiled JavaScript alike.
 */
function typescriptPreload(): string {
  if (tsxPreload) return tsxPreload;
  const require = createRequire(SELF);
  let api: string;
  try {
    const manifest = require.resolve('tsx/package.json');
    const exports = JSON.parse(readFileSync(manifest, 'utf8')).exports as Record<string, { import?: { default?: string } }>;
    const file = exports['./esm/api']?.import?.default ?? './dist/esm/api/index.mjs';
    api = pathToFileURL(join(dirname(manifest), file)).href;
  } catch (cause) {
    throw new WorkerStartError('Loading a TypeScript handler module in a worker thread needs `tsx`: run `npm install tsx`', { cause });
  }
  tsxPreload = `data:text/javascript,import{register}from${JSON.stringify(api)};register();`;
  return tsxPreload;
}

/** Throws now (not in the thread) when the handler module will need tsx and it is missing. */
export function checkLoadable(handlers: URL): void {
  if (TYPESCRIPT.test(ENTRY.pathname) || TYPESCRIPT.test(handlers.pathname)) typescriptPreload();
}

/** Flags of the main process that name its own entry; a thread given them fails to start. */
const ENTRY_FLAGS = new Set(['--input-type', '-e', '--eval', '-p', '--print']);

/**
 * The main process's flags, as a thread inherits them by default, less those
 * that only make sense for the main entry (`node --input-type=module -e …`
 * would otherwise stop every thread from starting).
 */
function threadExecArgv(typescript: boolean): string[] {
  const argv: string[] = [];
  const inherited = process.execArgv;
  for (let i = 0; i < inherited.length; i++) {
    const arg = inherited[i] as string;
    const [flag] = arg.split('=', 1) as [string];
    if (ENTRY_FLAGS.has(flag)) {
      if (!arg.includes('=')) i++; // the flag's value is the next argument
      continue;
    }
    argv.push(arg);
  }
  if (typescript) argv.push('--import', typescriptPreload());
  return argv;
}

export interface ThreadOptions {
  readonly handlers: URL;
  readonly resourceLimits?: ResourceLimits;
}

/**
 * One `worker_threads` thread behind comlink: the only place that touches
 * either. Comlink never settles a pending call when the thread dies, so every
 * call is raced against the thread's exit; `error` is always listened to, or an
 * uncaught error in the thread would be rethrown on the main thread.
 */
export class ThreadHandle {
  /** Settles once, when the thread has exited for any reason. */
  readonly exited: Promise<ThreadExit>;
  readonly #worker: Worker;
  readonly #remote: Remote<ThreadApi>;
  readonly #exitedAsError: Promise<never>;
  #error: Error | undefined;

  constructor({ handlers, resourceLimits }: ThreadOptions) {
    const typescript = TYPESCRIPT.test(ENTRY.pathname) || TYPESCRIPT.test(handlers.pathname);
    this.#worker = new Worker(ENTRY, {
      execArgv: threadExecArgv(typescript),
      ...(resourceLimits ? { resourceLimits } : {}),
    });
    this.#worker.on('error', (error) => {
      this.#error ??= error;
    });
    this.exited = new Promise((resolve) => {
      this.#worker.once('exit', (code) => resolve({ code, error: this.#error }));
    });
    this.#exitedAsError = this.exited.then((exit) => {
      throw new ThreadExitedError(exit);
    });
    this.#exitedAsError.catch(() => {});
    this.#remote = wrap<ThreadApi>(nodeEndpoint(this.#worker));
  }

  /** Calls into the thread; rejects with {@link ThreadExitedError} if the thread exits first. */
  call<K extends keyof ThreadApi>(
    method: K,
    ...args: Parameters<ThreadApi[K]>
  ): Promise<Awaited<ReturnType<ThreadApi[K]>>> {
    // Comlink's Remote<T> distributes over union return types; the thread's
    // ThreadApi is the contract, so the call is typed from it directly.
    const remote = this.#remote as unknown as Record<K, (...a: Parameters<ThreadApi[K]>) => Promise<Awaited<ReturnType<ThreadApi[K]>>>>;
    return Promise.race([remote[method](...args), this.#exitedAsError]);
  }

  /** Lets the process exit while this thread is idle. */
  unref(): void {
    this.#worker.unref();
  }

  ref(): void {
    this.#worker.ref();
  }

  /** Stops the thread at once, whatever it is running. */
  async terminate(): Promise<ThreadExit> {
    await this.#worker.terminate();
    return this.exited;
  }
}

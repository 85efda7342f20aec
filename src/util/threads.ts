/**
 * Starting a `worker_threads` thread whose entry (or whose handler module)
 * may be TypeScript, with the main process's flags where a thread accepts
 * them. Used for the worker threads and for the task store's thread.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type ResourceLimits, Worker } from 'node:worker_threads';

import { WorkerStartError } from '../errors/errors.js';

const TYPESCRIPT = /\.[cm]?tsx?$/;

/** Whether loading `module` in a thread needs tsx registered there. */
export function needsTypescript(module: URL): boolean {
  return TYPESCRIPT.test(module.pathname);
}

let tsxPreload: string | undefined;

/**
 * tsx registers its loader in the main thread only, so a thread whose entry or
 * handler module is TypeScript needs its own registration. A `data:` URL
 * preload that calls tsx's ESM `register()` works under the tsx CLI, under
 * vitest and from compiled JavaScript alike.
 */
export function typescriptPreload(): string {
  if (tsxPreload) return tsxPreload;
  const require = createRequire(import.meta.url);
  let api: string;
  try {
    const manifest = require.resolve('tsx/package.json');
    const { exports } = JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Record<string, { import?: { default?: string } }> };
    const file = exports['./esm/api']?.import?.default ?? './dist/esm/api/index.mjs';
    api = pathToFileURL(join(dirname(manifest), file)).href;
  } catch (cause) {
    throw new WorkerStartError('Loading a TypeScript handler module in a worker thread needs `tsx`: run `npm install tsx`', { cause });
  }
  tsxPreload = `data:text/javascript,import{register}from${JSON.stringify(api)};register();`;
  return tsxPreload;
}

/** Flags of the main process that name its own entry; a thread given them fails to start. */
const ENTRY_FLAGS = new Set(['--input-type', '-e', '--eval', '-p', '--print']);

/** Process-wide flags (V8's, `--expose-gc`) that Node refuses in a thread's explicit `execArgv`; learnt once. */
const processWideFlags = new Set<string>();

/**
 * The main process's flags, as a thread inherits them by default, less those
 * that only make sense for the main entry (`node --input-type=module -e …`
 * would otherwise stop every thread from starting) and those Node refuses
 * per thread. `undefined` means "inherit as is", which Node handles itself.
 */
function threadExecArgv(typescript: boolean): string[] | undefined {
  const argv: string[] = [];
  const inherited = process.execArgv;
  for (let i = 0; i < inherited.length; i++) {
    const arg = inherited[i] as string;
    const [flag] = arg.split('=', 1) as [string];
    if (ENTRY_FLAGS.has(flag)) {
      if (!arg.includes('=')) i++; // the flag's value is the next argument
      continue;
    }
    if (!processWideFlags.has(arg)) argv.push(arg);
  }
  if (!typescript && argv.length === inherited.length) return undefined;
  if (typescript) argv.push('--import', typescriptPreload());
  return argv;
}

const INVALID_FLAGS = /invalid execArgv flags: (.*)$/;

export interface StartOptions {
  /** The entry or a module it loads is TypeScript: tsx is registered in the thread. */
  readonly typescript: boolean;
  readonly resourceLimits?: ResourceLimits;
  readonly workerData?: unknown;
}

/** Starts a thread running `entry`. */
export function startThread(entry: URL, { typescript, resourceLimits, workerData }: StartOptions): Worker {
  for (;;) {
    const execArgv = threadExecArgv(typescript);
    try {
      return new Worker(entry, {
        ...(execArgv ? { execArgv } : {}),
        ...(resourceLimits ? { resourceLimits } : {}),
        ...(workerData === undefined ? {} : { workerData }),
      });
    } catch (error) {
      // Node names the flags it refuses; drop them and try again (they still
      // apply: they are process-wide). The loop ends: each pass drops some.
      const refused = (error as { code?: string }).code === 'ERR_WORKER_INVALID_EXEC_ARGV' && INVALID_FLAGS.exec((error as Error).message);
      const flags = refused ? (refused[1] as string).split(', ').filter((flag) => !processWideFlags.has(flag)) : [];
      if (flags.length === 0) throw error;
      for (const flag of flags) processWideFlags.add(flag);
    }
  }
}

/**
 * Every contender by name. Each loads its library lazily, so a child process
 * that benchmarks piscina never loads Troupe (or the reverse): start-up time
 * and memory are each library's own.
 *
 * A loader imports the library (untimed) and returns a factory; calling the
 * factory constructs the pool, which is where the start-up scenario's clock
 * starts.
 */
import type { Pool, PoolOptions } from './pool.js';

type Factory = (options: PoolOptions) => Pool;

export const CONTENDERS = {
  troupe: async (): Promise<Factory> => {
    const { createTroupe } = await import('./troupe.js');
    return (options) => createTroupe({}, options);
  },
  'troupe-tuned': async (): Promise<Factory> => {
    const { createTroupe } = await import('./troupe.js');
    return (options) => createTroupe({ concurrency: 64 }, options);
  },
  'troupe-inspect': async (): Promise<Factory> => {
    const { createTroupe } = await import('./troupe.js');
    return (options) => createTroupe({ inspect: true }, options);
  },
  'troupe-traced': async (): Promise<Factory> => {
    const { createTroupe } = await import('./troupe.js');
    (await import('./tracing.js')).registerTracerProvider();
    return (options) => createTroupe({}, options);
  },
  'troupe-tracing-off': async (): Promise<Factory> => {
    const { createTroupe } = await import('./troupe.js');
    (await import('./tracing.js')).registerTracerProvider();
    return (options) => createTroupe({ tracing: false }, options);
  },
  'troupe-dashboard': async (): Promise<Factory> => {
    const { createTroupe } = await import('./troupe.js');
    return (options) => createTroupe({ dashboard: true }, options);
  },
  'troupe-store': async (): Promise<Factory> => {
    const { createTroupe } = await import('./troupe.js');
    return (options) => createTroupe({ store: true }, options);
  },
  piscina: async (): Promise<Factory> => {
    const { createPiscina } = await import('./piscina.js');
    return () => createPiscina({});
  },
  'piscina-tuned': async (): Promise<Factory> => {
    const { createPiscina } = await import('./piscina.js');
    return () => createPiscina({ concurrentTasksPerWorker: 512 });
  },
  tinypool: async (): Promise<Factory> => (await import('./tinypool.js')).createTinypool,
  workerpool: async (): Promise<Factory> => (await import('./workerpool.js')).createWorkerpool,
  raw: async (): Promise<Factory> => {
    const { createRaw } = await import('./raw.js');
    return () => createRaw(1);
  },
  'raw-batched': async (): Promise<Factory> => {
    const { createRaw } = await import('./raw.js');
    return () => createRaw(64);
  },
  'main-thread': async (): Promise<Factory> => (await import('./main-thread.js')).createMainThread,
} satisfies Record<string, () => Promise<Factory>>;

export type ContenderName = keyof typeof CONTENDERS;

export function isContender(name: string): name is ContenderName {
  return Object.hasOwn(CONTENDERS, name);
}

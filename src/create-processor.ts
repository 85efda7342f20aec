/**
 * `createProcessor`: options checked and filled, the handler module checked
 * for existence, then a {@link Processor} made on them.
 */
import { resolveOptions } from './options/resolve.js';
import type { ProcessorOptions } from './options/types.js';
import { Processor } from './processor.js';
import { checkLoadable } from './workers/thread-handle.js';

/**
 * Creates a processor: a pool of worker threads running the handlers exported
 * by one module. Throws `InvalidOptionError` for bad options.
 *
 * @example
 * ```ts
 * import { createProcessor } from 'troupe';
 *
 * const processor = createProcessor({ handlers: new URL('./handlers.js', import.meta.url), workers: 4 });
 * await processor.ready;
 * const id = processor.submit({ payload: { n: 41 } });
 * console.log(await processor.result(id)); // { status: 'done', value: 42, ... }
 * await processor.shutdown();
 * ```
 */
export function createProcessor(options: ProcessorOptions): Processor {
  const resolved = resolveOptions(options);
  if (resolved.workers > 0) checkLoadable(resolved.handlers);
  return new Processor(resolved);
}

// examples/distributed-handlers.ts
/**
 * The handler module of examples/distributed.ts; every node loads it.
 * Failures depend on `ctx.attempt`, which counts a task's deliveries across
 * all nodes, so the example prints the same lines whichever node runs what.
 */
import type { HandlerContext } from '../src/index.js';

export interface Image {
  readonly width: number;
  readonly height: number;
}

/** An error of the application's own: its name and code reach the client. */
class ImageTooLargeError extends Error {
  override name = 'ImageTooLargeError';
  readonly code = 'ERR_IMAGE_TOO_LARGE';
}

/** The size of a thumbnail that fits a 160-pixel box. */
export async function resize(image: Image): Promise<string> {
  if (image.width * image.height > 50_000_000) throw new ImageTooLargeError(`${image.width}×${image.height} is over 50 megapixels`);
  const scale = 160 / Math.max(image.width, image.height);
  return `${Math.round(image.width * scale)}×${Math.round(image.height * scale)}`;
}

/** A flaky upstream: the first attempt fails, the retry (on any node) succeeds. */
export async function fetchOriginal(payload: { url: string }, ctx: HandlerContext): Promise<string> {
  if (ctx.attempt === 1) throw new Error(`${payload.url}: 503 Service Unavailable`);
  return `fetched ${payload.url} on attempt ${ctx.attempt}`;
}

/** Waits until it is cancelled. */
export function wait(_payload: unknown, ctx: HandlerContext): Promise<never> {
  return new Promise((_resolve, reject) => {
    ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
  });
}

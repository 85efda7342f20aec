// examples/order-handlers.ts
import { createHash } from 'node:crypto';

/** Stands for rendering a thumbnail: a deterministic "image" of the requested size. */
export function thumbnail(payload: { image: string; size: number }): { size: number; bytes: number } {
  const pixels = new Uint8Array(payload.size * payload.size);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 31 + payload.image.length) & 0xff;
  return { size: payload.size, bytes: pixels.length };
}

/** A checksum of the order's document. */
export function checksum(payload: { document: string }): string {
  return createHash('sha256').update(payload.document).digest('hex').slice(0, 12);
}

/**
 * Whether a buffer was moved away (transferred): it cannot be moved again.
 * Node 20 has no `ArrayBuffer.prototype.detached`, and its structuredClone
 * accepts a detached buffer in a transfer list silently, so this asks the one
 * thing that fails on one: viewing it.
 */
export function isDetached(buffer: ArrayBuffer): boolean {
  try {
    new Uint8Array(buffer);
    return false;
  } catch {
    return true;
  }
}

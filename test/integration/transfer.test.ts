/** Buffers move between the main thread and the threads instead of being copied. */
import { describe, expect, it } from 'vitest';

import { InvalidTaskError } from '../../src/index.js';
import { useProcessor } from '../helpers/index.js';

const make = useProcessor({ workers: 1, backoff: { delay: 0 } });

describe('transferables', () => {
  it('submit({ transfer }) moves the payload buffer: detached from the caller, whole in the thread', async () => {
    const p = make();
    const bytes = new ArrayBuffer(1 << 20);
    const id = p.submit({ handler: 'byteLength', payload: { bytes }, transfer: [bytes] });
    expect(bytes.byteLength).toBe(0); // moved at submit
    expect(await p.result(id)).toMatchObject({ status: 'done', value: 1 << 20 });
  });

  it('a failed attempt hands the moved buffer back, so the retry gets it', async () => {
    const p = make();
    const bytes = new ArrayBuffer(4096);
    const id = p.submit({ handler: 'byteLengthOnRetry', payload: { bytes }, transfer: [bytes] });
    expect(await p.result(id)).toMatchObject({ status: 'done', attempts: 2, value: 4096 });
  });

  it('ctx.transfer moves a returned buffer to the main thread', async () => {
    const p = make({ concurrency: 4 });
    const ids = [16, 32, 64].map((n) => p.submit({ handler: 'makeBytes', payload: n }));
    const results = await Promise.all(ids.map((id) => p.result(id)));
    const sizes = results.map((r) => (r.status === 'done' ? (r.value as { bytes: ArrayBuffer }).bytes.byteLength : -1));
    expect(sizes).toEqual([16, 32, 64]);
    const first = results[0]!;
    if (first.status === 'done') expect(new Uint8Array((first.value as { bytes: ArrayBuffer }).bytes)[0]).toBe(7);
  });

  it('refuses a transfer list that is not an array, or holds a detached buffer, and changes nothing', () => {
    const p = make();
    const before = p.getStatus();
    expect(() => p.submit({ payload: 1, transfer: 'x' as never })).toThrow(InvalidTaskError);
    const detached = new ArrayBuffer(8);
    structuredClone(detached, { transfer: [detached] });
    expect(() => p.submit({ payload: { detached }, transfer: [detached] })).toThrow(
      /`transfer\[0\]` to be an ArrayBuffer that is not detached/,
    );
    expect(p.getStatus()).toEqual(before);
  });
});

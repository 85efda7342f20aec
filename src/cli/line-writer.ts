import { once } from 'node:events';
import type { Writable } from 'node:stream';

/**
 * Lines written to a stream by many writers, with one wait for room shared by
 * all of them. A `once(stream, 'drain')` per write added a `drain` and an
 * `error` listener for each write made while the buffer was full: replaying
 * thousands of results from a store tripped Node's
 * MaxListenersExceededWarning. Here the writes go straight to the stream, and
 * whoever must not run ahead (the loop that reads the input) awaits
 * {@link LineWriter.room}, so the buffer stays near the stream's
 * `highWaterMark` instead of growing to the whole output.
 */
export class LineWriter {
  readonly #stream: Writable;
  #drained: Promise<void> | undefined;

  constructor(stream: Writable) {
    this.#stream = stream;
  }

  /** Writes `text` and a newline, without waiting: await {@link room} before writing much more. */
  write(text: string): void {
    this.#stream.write(`${text}\n`);
  }

  /** Resolves once the stream's buffer is below its `highWaterMark`: at once when it already is. */
  room(): Promise<void> {
    if (!this.#stream.writableNeedDrain) return Promise.resolve();
    this.#drained ??= once(this.#stream, 'drain').then(() => {
      this.#drained = undefined;
    });
    return this.#drained;
  }
}

import type { Changes, StoreWriter } from '../../src/store/store.js';

/** A write a held store has not acknowledged yet (or has: `ack` then does nothing). */
export interface HeldWrite {
  readonly changes: Changes;
  ack(): void;
}

/**
 * A store writer whose writes are held until the test acknowledges them, in
 * order, as the store's thread does. `next` finds the first write (since the
 * last `hold`) that holds a change, as soon as it is made. `ackAll`
 * acknowledges what is held, and every later write as it is made; `hold`
 * holds them again from then on.
 */
export function heldStore(path = '/tmp/held.db') {
  const held: HeldWrite[] = [];
  let holding = true;
  /** Where `next` starts looking: the first write since the last `hold`. */
  let since = 0;
  let onWrite = () => {};
  const writer: StoreWriter = {
    path,
    write: (changes) =>
      new Promise((resolve) => {
        held.push({ changes, ack: () => resolve(0.1) });
        if (!holding) resolve(0.1);
        onWrite();
      }),
    size: () => 0,
    // Nothing is kept: these tests look at what is written, not at what is read back.
    readActor: async () => undefined,
    close: async () => {},
  };
  const next = (holds: (changes: Changes) => boolean) =>
    new Promise<HeldWrite>((resolve) => {
      const look = () => {
        const write = held.slice(since).find((candidate) => holds(candidate.changes));
        if (write) resolve(write);
        else onWrite = look;
      };
      look();
    });
  const ackThrough = (write: HeldWrite) => {
    for (const candidate of held.slice(0, held.indexOf(write) + 1)) candidate.ack();
  };
  const ackAll = () => {
    holding = false;
    for (const write of held) write.ack();
  };
  const hold = () => {
    holding = true;
    since = held.length;
  };
  return { writer, held, next, ackThrough, ackAll, hold };
}

import type { ActorHost } from './host.js';

/**
 * Where actors run: how many live actors each thread has, kept as they
 * are placed and leave, and the thread the next one goes to. Owned by the
 * actor directory; reads the ready threads it is given, changes nothing
 * when it chooses.
 */
export class Placement {
  readonly #ready: () => readonly ActorHost[];
  readonly #actors = new Map<ActorHost, number>();

  constructor(ready: () => readonly ActorHost[]) {
    this.#ready = ready;
  }

  /** The ready thread with the fewest actors; of those, the least busy. In O(threads). */
  choose(): ActorHost | undefined {
    let best: ActorHost | undefined;
    let bestActors = Infinity;
    for (const host of this.#ready()) {
      const actors = this.#actors.get(host) ?? 0;
      if (actors < bestActors || (actors === bestActors && best && host.held < best.held)) {
        best = host;
        bestActors = actors;
      }
    }
    return best;
  }

  /** An actor left `from` for `to` (either may be none: it was not on a thread, or is not any more). */
  moved(from: ActorHost | undefined, to: ActorHost | undefined): void {
    if (from === to) return;
    if (from) {
      const left = (this.#actors.get(from) ?? 1) - 1;
      if (left === 0) this.#actors.delete(from);
      else this.#actors.set(from, left);
    }
    if (to) this.#actors.set(to, (this.#actors.get(to) ?? 0) + 1);
  }

  /** Whether any actor runs on the thread. */
  hosts(host: ActorHost): boolean {
    return this.#actors.has(host);
  }
}

import type { ActorHost } from './host.js';

/**
 * Where actors run: how many live actors each thread has, kept as they
 * are placed and leave, the thread the next one goes to, and which threads
 * their actors need alive. Owned by the actor directory; reads the ready
 * threads it is given, changes nothing when it chooses.
 */
export class Placement {
  readonly #ready: () => readonly ActorHost[];
  readonly #actors = new Map<ActorHost, number>();
  /** Actors per thread that need it alive (see `needsThread`): told to the thread as it goes from none to some, and back. */
  readonly #keeping = new Map<ActorHost, number>();

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

  /** An actor that needed `from` alive now needs `to` (either may be none). */
  kept(from: ActorHost | undefined, to: ActorHost | undefined): void {
    if (from === to) return;
    if (from) {
      const left = (this.#keeping.get(from) ?? 1) - 1;
      if (left > 0) this.#keeping.set(from, left);
      else {
        this.#keeping.delete(from);
        from.keepAlive(false);
      }
    }
    if (!to) return;
    const now = (this.#keeping.get(to) ?? 0) + 1;
    this.#keeping.set(to, now);
    if (now === 1) to.keepAlive(true);
  }

  /** Whether any actor runs on the thread. */
  hosts(host: ActorHost): boolean {
    return this.#actors.has(host);
  }
}

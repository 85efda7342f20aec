import type { KvWatchEntry } from '@nats-io/kv';
import type { QueuedIterator } from '@nats-io/transport-node';

/**
 * The bucket watches a process follows, by name. A watch is replaced, never
 * stacked: after a reconnect the new one is followed before the old one
 * stops (a watch whose bucket was lost with a server that kept nothing on
 * disk goes quiet without ending), and once closed, a watch set late is
 * stopped at once.
 */
export class Watches {
  readonly #watches = new Map<string, QueuedIterator<KvWatchEntry>>();
  #closed = false;

  /** Hands every entry of `watch` to `each`, in order, until it is replaced or closed. */
  follow(name: string, watch: QueuedIterator<KvWatchEntry>, each: (entry: KvWatchEntry) => void): void {
    const previous = this.#watches.get(name);
    this.#watches.set(name, watch);
    previous?.stop();
    if (this.#closed) watch.stop();
    void (async () => {
      try {
        for await (const entry of watch) {
          try {
            each(entry);
          } catch {
            // An entry that cannot be read (not written by Troupe) is skipped; the watch goes on.
          }
        }
      } catch {
        // Stopped, or ended with the connection.
      }
    })();
  }

  close(): void {
    this.#closed = true;
    for (const watch of this.#watches.values()) watch.stop();
  }
}

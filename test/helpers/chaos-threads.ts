/**
 * Which attempts run on which thread, as the threads themselves report them
 * on the fixture's BroadcastChannel (see chaos-handlers.ts), against which
 * threads the processors say are alive: no id may run on two threads at
 * once. One channel serves every processor of a run, so an attempt left
 * running by a processor that was shut down would be caught beside its
 * retry in the next one. Also counts the attempts and the faults seen.
 */
import { BroadcastChannel } from 'node:worker_threads';

import type { Processor } from '../../src/index.js';
import type { ChaosReport } from '../fixtures/chaos-handlers.js';

export class ThreadWatch {
  attempts = 0;
  readonly faults = { crashes: 0, timeouts: 0 };
  /** Threads the watched processors have started and not seen exit. */
  readonly alive = new Set<number>();
  /** Attempts running per id, by thread, as the threads report them. */
  readonly #open = new Map<string, Set<number>>();
  readonly #channel = new BroadcastChannel('troupe-chaos');
  readonly #violation: (text: string) => void;

  constructor(violation: (text: string) => void) {
    this.#violation = violation;
    this.#channel.onmessage = (message: unknown) => this.#report((message as { data: ChaosReport }).data);
  }

  /** Follows a processor's threads: started, and exited (ending whatever they ran). */
  watch(p: Processor): void {
    p.events.subscribe((event) => {
      if (event.type === 'worker.started') this.alive.add(event.threadId);
      if (event.type === 'worker.exited') {
        this.alive.delete(event.threadId);
        // A dead thread ends whatever it was running.
        for (const [id, threads] of this.#open) if (threads.delete(event.threadId) && threads.size === 0) this.#open.delete(id);
        if (!event.expected) this.faults.crashes++;
      }
      if (event.type === 'task.retrying' && event.error.name === 'TaskTimeoutError') this.faults.timeouts++;
    });
  }

  close(): void {
    this.#channel.close();
  }

  #report({ id, threadId, phase }: ChaosReport): void {
    const running = this.#open.get(id) ?? new Set<number>();
    if (phase === 'begin') {
      this.attempts++;
      // A report can arrive after the exit of the thread that sent it (the
      // channel and the exit travel separately): a dead thread runs nothing,
      // and what it began, it began before its task was given to another.
      if (!this.alive.has(threadId)) return;
      for (const thread of running) if (!this.alive.has(thread)) running.delete(thread);
      if (running.size > 0) this.#violation(`${id} began on thread ${threadId} while running on ${[...running].join(', ')}`);
      running.add(threadId);
      this.#open.set(id, running);
    } else {
      running.delete(threadId);
      if (running.size === 0) this.#open.delete(id);
    }
  }
}

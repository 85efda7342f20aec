/**
 * What an actor has under way between events, which under XState in one
 * thread keeps the process alive: delayed events (`after`, a delayed
 * `sendTo` or `raise`) waiting for their timer, and invoked or spawned work
 * (a promise, a callback, an observable) still running, its own or its
 * child machines'. The thread reports it with the actor's snapshot
 * (`ActorReport.pendingWork`), and the main thread keeps the thread
 * referenced while it holds. Runs inside the thread only.
 */
import type { AnyActorRef, Snapshot } from 'xstate';

/**
 * The clock an actor's system sets its delayed events with (XState's
 * `clock` option): the real timers, counted from set to fired or cleared.
 * XState's own record of them (`system.getSnapshot()._scheduledEvents`) is
 * internal, and copied at each read.
 */
export class CountingClock {
  readonly #pending = new Set<ReturnType<typeof setTimeout>>();

  setTimeout(fn: (...args: unknown[]) => void, ms: number): ReturnType<typeof setTimeout> {
    const timer = setTimeout(() => {
      this.#pending.delete(timer);
      fn();
    }, ms);
    this.#pending.add(timer);
    return timer;
  }

  clearTimeout(timer: ReturnType<typeof setTimeout>): void {
    this.#pending.delete(timer);
    clearTimeout(timer);
  }

  /** Whether a delayed event waits for its timer. */
  get waiting(): boolean {
    return this.#pending.size > 0;
  }
}

/**
 * Whether the actor, or an actor it invoked or spawned, runs work of its
 * own: an active actor whose logic starts something (a promise, a
 * callback, an observable: logic with a `start`). A machine runs nothing of
 * its own between events, nor does transition logic (`fromTransition`): a
 * machine is searched through its children.
 */
export function runsWork(actor: AnyActorRef): boolean {
  const snapshot = actor.getSnapshot() as Snapshot<unknown> & { machine?: unknown; children?: Record<string, AnyActorRef | undefined> };
  if (snapshot.status !== 'active') return false;
  if (snapshot.machine === undefined) return typeof (actor as { logic?: { start?: unknown } }).logic?.start === 'function';
  for (const id in snapshot.children) {
    const child = snapshot.children[id];
    if (child && runsWork(child)) return true;
  }
  return false;
}

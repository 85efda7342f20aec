/**
 * Delayed events that outlive their actor: an `after` delay, or a delayed
 * `raise` or `sendTo`, pending when an actor's snapshot is persisted. XState
 * keeps them only in its running system (`system.getSnapshot()`), and a
 * machine restored from a persisted snapshot does not arm them again: it
 * would wait forever in a state whose `after` was pending. Troupe persists
 * each with its due time (not its remaining delay) beside XState's fields,
 * as `delayedEvents`, and arms it again when the actor is restored: for the
 * time left, or at once when it is overdue. Runs inside the thread only.
 */
import type { AnyActorRef, EventObject, Snapshot } from 'xstate';

/** A delayed event as persisted. */
export interface PersistedDelay {
  /** The scheduler's id: what a `cancel` names (an `after` delay's is its event's type). */
  readonly id: string;
  readonly event: EventObject;
  /** When it is due, epoch ms. */
  readonly dueAt: number;
  /** Its target: the actor itself when absent, else the id of one of its children. */
  readonly to?: string;
}

/** What Troupe adds to XState's persisted snapshot. */
export interface WithDelays {
  readonly delayedEvents?: readonly PersistedDelay[];
}

type Children = Record<string, AnyActorRef | undefined>;

/**
 * The delayed events the actor itself set and that are pending now, to
 * itself or to one of its children. Those a child machine set for itself
 * are not among them: they are restored with that child only if it sets
 * them again.
 */
export function pendingDelays(actor: AnyActorRef): PersistedDelay[] {
  const scheduled = actor.system.getSnapshot()._scheduledEvents;
  const children = (actor.getSnapshot() as { children?: Children }).children ?? {};
  const delays: PersistedDelay[] = [];
  for (const key in scheduled) {
    const { source, target, event, delay, id, startedAt } = scheduled[key] as (typeof scheduled)[string];
    if (source !== actor) continue;
    const dueAt = startedAt + delay;
    if (target === actor) {
      delays.push({ id, event, dueAt });
      continue;
    }
    for (const child in children) if (children[child] === target) delays.push({ id, event, dueAt, to: child });
  }
  return delays;
}

/** The actor's persisted snapshot, with its pending delayed events when it has any. */
export function persistWithDelays(actor: AnyActorRef): Snapshot<unknown> & WithDelays {
  const persisted = actor.getPersistedSnapshot();
  const delays = pendingDelays(actor);
  return delays.length === 0 ? persisted : { ...persisted, delayedEvents: delays };
}

/** A persisted snapshot split into what XState restores and the delayed events to arm again. */
export function splitDelays(snapshot: unknown): { readonly xstate: Snapshot<unknown>; readonly delays: readonly PersistedDelay[] } {
  const { delayedEvents, ...xstate } = snapshot as Snapshot<unknown> & WithDelays;
  return { xstate: xstate, delays: delayedEvents ?? [] };
}

/** Arms the delayed events of a restored actor again, each for the time left until it is due (at once if overdue). */
export function rearmDelays(actor: AnyActorRef, delays: readonly PersistedDelay[], now: number): void {
  const children = (actor.getSnapshot() as { children?: Children }).children ?? {};
  for (const { id, event, dueAt, to } of delays) {
    const target = to === undefined ? actor : children[to];
    if (target) actor.system.scheduler.schedule(actor, target, event, Math.max(0, dueAt - now), id);
  }
}

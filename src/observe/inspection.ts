import type { ActorRefLike, AnyEventObject, InspectionEvent, Observer, Snapshot } from 'xstate';

/** What `inspect` takes: an XState inspection observer, or a function. */
export type InspectionObserver = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

/** The root every Troupe actor reports under: the supervisor's session id. */
export const ROOT_ID = 'troupe.supervisor';

/**
 * One of Troupe's actors as an inspector sees it: an `ActorRefLike` with a
 * stable id (`troupe.supervisor`, `troupe.worker.2`, `troupe.task.<id>`) that
 * is also its session id, and its current snapshot.
 */
export class InspectedActor implements ActorRefLike {
  readonly id: string;
  readonly sessionId: string;
  readonly _parent: InspectedActor | undefined;
  readonly #snapshot: () => Snapshot<unknown>;

  constructor(id: string, snapshot: () => Snapshot<unknown>, parent?: InspectedActor) {
    this.id = id;
    this.sessionId = id;
    this._parent = parent;
    this.#snapshot = snapshot;
  }

  getSnapshot(): Snapshot<unknown> {
    return this.#snapshot();
  }

  /** Inspection is read-only: Troupe's actors take messages from their owners only. */
  send(): void {}
}

/**
 * Reports Troupe's actors to XState inspection observers in XState's own
 * format (`@xstate.actor`, `@xstate.event`, `@xstate.snapshot`), without
 * running an XState actor per task: the task lifecycles stay on their
 * compiled tables, and the supervisor and the worker actors are plain
 * classes. With no observer attached, every call site checks `active` and
 * builds nothing.
 */
export class Inspection {
  readonly #observers = new Set<(event: InspectionEvent) => void>();
  /** Actors that exist now, announced to an observer that attaches late. */
  readonly #known = new Set<InspectedActor>();
  /** Told when the first observer attaches and when the last leaves: what costs something only while watched starts or stops. */
  readonly #toggled: Array<(active: boolean) => void> = [];

  get active(): boolean {
    return this.#observers.size > 0;
  }

  /** Attaches an observer; it is told of every actor that exists at once, then of everything. */
  attach(observer: InspectionObserver): { unsubscribe(): void } {
    const next = typeof observer === 'function' ? observer : (event: InspectionEvent) => observer.next?.(event);
    this.#observers.add(next);
    if (this.#observers.size === 1) for (const toggled of this.#toggled) toggled(true);
    for (const actor of this.#known) {
      next({ type: '@xstate.actor', actorRef: actor, rootId: ROOT_ID });
      next({ type: '@xstate.snapshot', actorRef: actor, rootId: ROOT_ID, event: { type: 'xstate.init' }, snapshot: actor.getSnapshot() });
    }
    return {
      unsubscribe: () => {
        if (this.#observers.delete(next) && this.#observers.size === 0) for (const toggled of this.#toggled) toggled(false);
      },
    };
  }

  /** Calls `toggled(true)` when the first observer attaches, `toggled(false)` when the last leaves. */
  onToggle(toggled: (active: boolean) => void): void {
    this.#toggled.push(toggled);
  }

  /** An actor came into being (`@xstate.actor`, then its first snapshot). */
  started(actor: InspectedActor, event: AnyEventObject = { type: 'xstate.init' }): void {
    this.#known.add(actor);
    if (!this.active) return;
    this.#send({ type: '@xstate.actor', actorRef: actor, rootId: ROOT_ID });
    this.#send({ type: '@xstate.snapshot', actorRef: actor, rootId: ROOT_ID, event, snapshot: actor.getSnapshot() });
  }

  /** An actor is gone: a late observer is no longer told of it. */
  stopped(actor: InspectedActor): void {
    this.#known.delete(actor);
  }

  /** An actor received an event (`@xstate.event`). */
  received(actor: InspectedActor, event: AnyEventObject, source: InspectedActor | undefined): void {
    this.#send({ type: '@xstate.event', actorRef: actor, rootId: ROOT_ID, sourceRef: source, event });
  }

  /** An actor's snapshot after an event (`@xstate.snapshot`): its current one, unless it is given (a thread's actor, traced event by event). */
  changed(actor: InspectedActor, event: AnyEventObject, snapshot: Snapshot<unknown> = actor.getSnapshot()): void {
    this.#send({ type: '@xstate.snapshot', actorRef: actor, rootId: ROOT_ID, event, snapshot });
  }

  #send(event: InspectionEvent): void {
    for (const observer of this.#observers) {
      try {
        observer(event);
      } catch {
        // An observer's bug must not break the processor it watches.
      }
    }
  }
}

/** A snapshot in XState's shape for a machine-like actor. */
export function machineSnapshot(value: string | Record<string, string>, context: unknown, done: boolean): Snapshot<unknown> {
  return { status: done ? 'done' : 'active', value, context, output: undefined, error: undefined } as Snapshot<unknown>;
}

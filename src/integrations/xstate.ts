/**
 * integrations/: Troupe inside other frameworks. This file: a processor as
 * XState actor logic (`processorLogic`), to embed in a statechart.
 */
import type { Subscription } from 'rxjs';
import type { ActorLogic, ActorRefLike, ActorSystem, AnyActorRef, EventObject, Snapshot } from 'xstate';

import { type ActorRef, checkEvent } from '../actors/actor-ref.js';
import type { ActorEvent, ActorSnapshot } from '../actors/types.js';
import type { VirtualActorRef } from '../actors/virtual-ref.js';
import { createProcessor } from '../create-processor.js';
import { ActorStoppedError, InvalidEventError } from '../errors/errors.js';
import type { ProcessorEvent } from '../observe/events.js';
import type { ProcessorStatus } from '../observe/status.js';
import type { ProcessorOptions } from '../options/types.js';
import type { Processor } from '../processor.js';
import type { CancelledResult, DoneResult, FailedResult, TaskInput } from '../task/types.js';
import { describe } from '../util/validate.js';

/** What a processor actor accepts. */
export type ProcessorLogicEvent =
  | { readonly type: 'task.submit'; readonly task: TaskInput }
  | { readonly type: 'task.cancel'; readonly id: string; readonly reason?: string }
  /**
   * `processor.spawn(logic, { id, input, snapshot, restart })`: starts an actor
   * on a worker thread. Once it runs, its snapshots reach the parent as
   * `actor.snapshot`; a refusal or a failure to start, as `actor.rejected`.
   */
  | {
      readonly type: 'actor.spawn';
      /** The handler module's export that is XState actor logic. */
      readonly logic: string;
      /** Its address, unique among live actors; generated when omitted (the `actor.snapshot` events carry it). */
      readonly id?: string;
      readonly input?: unknown;
      /** A persisted snapshot to resume from, as `shutdown()` returns them. */
      readonly snapshot?: unknown;
      readonly restart?: 'on-crash' | 'on-error';
    }
  /**
   * `processor.actor(id).send(event)`. Sent to an id an `actor.spawn` from this
   * actor is still starting, it waits for it, and goes in order once it runs.
   * A send that throws (no live actor of that id, a stopped actor, an event
   * that is not a plain cloneable `{ type }`) reaches the parent as `actor.rejected`.
   */
  | { readonly type: 'actor.send'; readonly id: string; readonly event: ActorEvent }
  /**
   * `processor.actorOf(logic, key, { input }).ask(event, { timeout })`: sends
   * a virtual actor an event, activating it if needed. From the first one to
   * a key, that key's snapshots reach the parent as `actor.snapshot` (with
   * the id `<logic>/<key>`), across activations; a refusal (no such actor
   * logic, a failed start, an ended actor, no answer within `timeout`,
   * default 5,000 ms) as `actor.rejected`.
   */
  | {
      readonly type: 'virtual.send';
      readonly logic: string;
      readonly key: string;
      readonly event: ActorEvent;
      readonly input?: unknown;
      readonly timeout?: number;
    };

/** What a processor actor sends its parent. */
export type ProcessorParentEvent =
  | { readonly type: 'task.done'; readonly id: string; readonly result: DoneResult }
  | { readonly type: 'task.failed'; readonly id: string; readonly result: FailedResult }
  | { readonly type: 'task.cancelled'; readonly id: string; readonly result: CancelledResult }
  /** A `task.submit` was refused (invalid, duplicate, queue full, shut down): nothing was accepted. */
  | { readonly type: 'task.rejected'; readonly id: string | undefined; readonly error: Error }
  /**
   * A spawned actor's snapshot, as plain data: the first once it runs, then
   * each one its ref emits, the last included (`done` with its `output`,
   * `stopped`, or `error` with its `error`); nothing follows the last.
   */
  | { readonly type: 'actor.snapshot'; readonly id: string; readonly snapshot: ActorSnapshot }
  /**
   * An `actor.spawn` was refused or failed as it started (`InvalidActorError`,
   * `DuplicateActorError`, `ProcessorShutdownError`, `ActorStartError`), or an
   * `actor.send` threw (`ActorStoppedError`, `InvalidEventError`): nothing else changed.
   * `id` is the one the event named, if any.
   */
  | { readonly type: 'actor.rejected'; readonly id: string | undefined; readonly error: Error };

/** A processor actor's snapshot: the processor's status, updated at most once per tick. */
export type ProcessorSnapshot = Snapshot<undefined> & {
  readonly status: 'active' | 'done' | 'error' | 'stopped';
  readonly context: ProcessorStatus | undefined;
};

/** The status travels to the actor as an event of its own, so its snapshot changes only in `transition`. */
interface StatusEvent {
  readonly type: 'troupe.status';
  readonly status: ProcessorStatus;
}

type Scope = Parameters<ActorLogic<ProcessorSnapshot, ProcessorLogicEvent, ProcessorOptions>['transition']>[2];

/** Each running actor's processor, by actor: a processor is not data, so it stays out of the snapshot. */
const processors = new WeakMap<ActorRefLike, Processor>();
/**
 * What each actor listens to (its processor, the thread actors it spawned),
 * dropped when it stops: a stopped actor takes no more events, and sends its
 * parent nothing more.
 */
const listening = new WeakMap<ActorRefLike, Set<{ unsubscribe(): void }>>();
/** Each actor's spawns in flight that named an id, with the `actor.send`s to that id held until they settle. */
const spawning = new WeakMap<ActorRefLike, Map<string, ActorEvent[]>>();

/**
 * A Troupe processor as XState actor logic, like `fromPromise`: a machine
 * can `invoke` it or `spawnChild` it with the processor's options as `input`.
 * It takes `{ type: 'task.submit', task }` and `{ type: 'task.cancel', id }`,
 * sends `task.done` / `task.failed` / `task.cancelled` (with the result) back
 * to its parent, and `task.rejected` for a submit it refused; its snapshot's
 * `context` is the processor's status.
 *
 * It drives the processor's thread actors too: `{ type: 'actor.spawn', logic,
 * id?, input?, snapshot?, restart? }` spawns one, `{ type: 'actor.send', id,
 * event }` sends it an event (sends to an id still being spawned wait for it),
 * and each spawned actor's snapshots come back as `{ type: 'actor.snapshot',
 * id, snapshot }`, the first once it runs, the last when it ends. A spawn or
 * send that is refused or fails comes back as `actor.rejected` with the error.
 * `{ type: 'virtual.send', logic, key, event, input?, timeout? }` sends a
 * virtual actor (`actorOf`) an event, activating it if needed; its
 * snapshots come back as `actor.snapshot` with the id `<logic>/<key>`.
 *
 * Stopping the actor shuts the processor down at once (unfinished tasks end
 * `cancelled`, thread actors stop) and sends nothing more to its parent. It
 * is `createProcessor` underneath: same options, same behaviour.
 *
 * @example
 * ```ts
 * const order = setup({ actors: { tasks: processorLogic } }).createMachine({
 *   invoke: { id: 'tasks', src: 'tasks', input: { handlers: new URL('./handlers.js', import.meta.url) } },
 *   entry: sendTo('tasks', { type: 'task.submit', task: { id: 'thumb-1', handler: 'thumbnail', payload: { url } } }),
 *   on: { 'task.done': { actions: ({ event }) => console.log(event.id, event.result.value) } },
 * });
 * ```
 *
 * @example
 * A thread actor (the handler module's `counter` machine), driven from the statechart:
 * ```ts
 * const tally = setup({ types: { events: {} as ProcessorParentEvent }, actors: { tasks: processorLogic } }).createMachine({
 *   invoke: { id: 'tasks', src: 'tasks', input: { handlers: new URL('./handlers.js', import.meta.url) } },
 *   entry: [
 *     sendTo('tasks', { type: 'actor.spawn', logic: 'counter', id: 'c1', input: { start: 2 } }),
 *     sendTo('tasks', { type: 'actor.send', id: 'c1', event: { type: 'inc' } }),
 *   ],
 *   on: {
 *     'actor.snapshot': { actions: ({ event }) => console.log(event.id, event.snapshot.status, event.snapshot.context) },
 *     'actor.rejected': { actions: ({ event }) => console.error(event.id, event.error) },
 *   },
 * });
 * ```
 */
// `ActorSystem<any>`: as XState's own `AnyActorLogic`, so it fits any machine's system.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const processorLogic: ActorLogic<ProcessorSnapshot, ProcessorLogicEvent, ProcessorOptions, ActorSystem<any>> = {
  config: 'troupe.processor',

  getInitialSnapshot(_scope, input) {
    return { status: 'active', output: undefined, error: undefined, context: undefined, input } as unknown as ProcessorSnapshot;
  },

  start(snapshot, scope) {
    const { self } = scope;
    const options = (snapshot as unknown as { input: ProcessorOptions }).input;
    let processor: Processor;
    try {
      processor = createProcessor(options);
    } catch (error) {
      // Bad options: the actor ends in error, as a failed promise actor does.
      self.send({ type: 'troupe.error', error } as unknown as ProcessorLogicEvent);
      return;
    }
    processors.set(self, processor);
    spawning.set(self, new Map());
    const parent = (self as AnyActorRef)._parent;
    listening.set(
      self,
      new Set([
        processor.events.subscribe((event: ProcessorEvent) => {
          if (event.type === 'task.done' || event.type === 'task.failed' || event.type === 'task.cancelled') {
            // The event already has the parent event's shape: type, id, result.
            parent?.send({ type: event.type, id: event.id, result: event.result });
          }
        }),
        processor.status$.subscribe((status) => self.send({ type: 'troupe.status', status } as unknown as ProcessorLogicEvent)),
      ]),
    );
    processor.ready.catch((error: unknown) => self.send({ type: 'troupe.error', error } as unknown as ProcessorLogicEvent));
  },

  transition(snapshot, event, scope) {
    const current = snapshot as ProcessorSnapshot & { input: ProcessorOptions };
    const message = event as ProcessorLogicEvent | StatusEvent | { type: 'troupe.error'; error: unknown } | EventObject;
    const processor = processors.get(scope.self);
    switch (message.type) {
      case 'task.submit':
        if (processor && current.status === 'active') submit(processor, (message as { task: TaskInput }).task, scope);
        return snapshot;
      case 'task.cancel': {
        const { id, reason } = message as { id: string; reason?: string };
        processor?.cancel(id, reason);
        return snapshot;
      }
      case 'actor.spawn':
        if (processor && current.status === 'active') spawnActor(processor, message as SpawnEvent, scope);
        return snapshot;
      case 'actor.send':
        if (processor && current.status === 'active') sendToActor(processor, message as SendEvent, scope);
        return snapshot;
      case 'virtual.send':
        if (processor && current.status === 'active') sendToVirtual(processor, message as VirtualSendEvent, scope);
        return snapshot;
      case 'troupe.status':
        return { ...current, context: (message as StatusEvent).status };
      case 'troupe.error':
        return { ...current, status: 'error', error: (message as { error: unknown }).error };
      case 'xstate.stop':
        // The parent stopped it (or left the state that invoked it): nothing is left to wait for.
        for (const subscription of listening.get(scope.self) ?? []) subscription.unsubscribe();
        listening.delete(scope.self);
        spawning.delete(scope.self);
        void processor?.shutdown({ timeout: 0 });
        processors.delete(scope.self);
        return { ...current, status: 'stopped' } as ProcessorSnapshot;
      default:
        return snapshot;
    }
  },

  getPersistedSnapshot(snapshot) {
    return snapshot;
  },
};

function submit(processor: Processor, task: TaskInput, scope: Scope): void {
  try {
    processor.submit(task);
  } catch (error) {
    const parent = (scope.self as AnyActorRef)._parent;
    const id = typeof task === 'object' && task !== null && typeof task.id === 'string' ? task.id : undefined;
    parent?.send({ type: 'task.rejected', id, error: error as Error } satisfies ProcessorParentEvent);
  }
}

type SpawnEvent = Extract<ProcessorLogicEvent, { type: 'actor.spawn' }>;
type SendEvent = Extract<ProcessorLogicEvent, { type: 'actor.send' }>;
type VirtualSendEvent = Extract<ProcessorLogicEvent, { type: 'virtual.send' }>;

function spawnActor(processor: Processor, message: SpawnEvent, scope: Scope): void {
  const { self } = scope;
  const parent = (self as AnyActorRef)._parent;
  const { logic, id, input, snapshot, restart } = message;
  const named = typeof id === 'string' ? id : undefined;
  const pending = spawning.get(self);
  // Sends to its id wait for it, unless an earlier spawn of that id holds them (this one is then refused as a duplicate).
  const hold = named !== undefined && pending !== undefined && !pending.has(named);
  const held: ActorEvent[] = [];
  if (hold) pending.set(named, held);
  const settled = () => {
    if (hold) pending.delete(named);
    // Stopped meanwhile: it tells its parent nothing more.
    return listening.has(self);
  };
  processor.spawn(logic, { id, input, snapshot, restart }).then(
    (ref) => {
      if (!settled()) return;
      forward(ref, scope);
      for (const event of held) sendToActor(processor, { type: 'actor.send', id: ref.id, event }, scope);
    },
    (error: unknown) => {
      if (!settled()) return;
      parent?.send({ type: 'actor.rejected', id: named, error: error as Error } satisfies ProcessorParentEvent);
      // What was held goes as if sent now: to a live actor of that id if there is one (a duplicate's), refused otherwise.
      if (hold) for (const event of held) sendToActor(processor, { type: 'actor.send', id: named, event }, scope);
    },
  );
}

/** The parent hears the actor's snapshot now, then each one its ref emits, until it ends or this actor stops. */
function forward(ref: ActorRef, scope: Scope): void {
  const { self } = scope;
  const parent = (self as AnyActorRef)._parent;
  const subscriptions = listening.get(self);
  let last = ref.getSnapshot();
  const toParent = (snapshot: ActorSnapshot) => {
    last = snapshot;
    parent?.send({ type: 'actor.snapshot', id: ref.id, snapshot } satisfies ProcessorParentEvent);
  };
  toParent(last);
  if (last.status !== 'active' || !subscriptions) return;
  let subscription: Subscription | undefined;
  const drop = () => {
    if (subscription) subscriptions.delete(subscription);
  };
  subscription = ref.subscribe({
    next: toParent,
    error: () => {
      // Its final snapshot, status `error` with the error, unless the ref emitted it already.
      const final = ref.getSnapshot();
      if (final !== last) toParent(final);
      drop();
    },
    complete: drop,
  });
  if (!subscription.closed) subscriptions.add(subscription);
}

function sendToActor(processor: Processor, message: SendEvent, scope: Scope): void {
  const { id, event } = message;
  try {
    if (typeof id !== 'string') throw new InvalidEventError(`Expected \`actor.send\`'s \`id\` to be an actor's id, got ${describe(id)}`);
    checkEvent(event);
    const held = spawning.get(scope.self)?.get(id);
    if (held) return void held.push(event);
    const ref = processor.actor(id);
    // No live actor of that id (it ended, was stopped, or never was): as the processor refuses an ask to it.
    if (!ref) throw new ActorStoppedError(id, 'stopped');
    ref.send(event);
  } catch (error) {
    const parent = (scope.self as AnyActorRef)._parent;
    parent?.send({
      type: 'actor.rejected',
      id: typeof id === 'string' ? id : undefined,
      error: error as Error,
    } satisfies ProcessorParentEvent);
  }
}

/** Virtual actors whose snapshots each processor actor forwards to its parent, by id. */
const watching = new WeakMap<ActorRefLike, Set<string>>();

function sendToVirtual(processor: Processor, message: VirtualSendEvent, scope: Scope): void {
  const { self } = scope;
  const parent = (self as AnyActorRef)._parent;
  const { logic, key, event, input, timeout } = message;
  let ref: VirtualActorRef;
  try {
    ref = processor.actorOf(logic, key, { input });
  } catch (error) {
    return parent?.send({ type: 'actor.rejected', id: undefined, error: error as Error } satisfies ProcessorParentEvent);
  }
  const reject = (error: unknown) => {
    if (listening.has(self)) parent?.send({ type: 'actor.rejected', id: ref.id, error: error as Error } satisfies ProcessorParentEvent);
  };
  let watched = watching.get(self);
  if (!watched) watching.set(self, (watched = new Set()));
  const subscriptions = listening.get(self);
  if (!watched.has(ref.id) && subscriptions) {
    watched.add(ref.id);
    const id = ref.id;
    subscriptions.add(
      ref.subscribe({ next: (snapshot) => parent?.send({ type: 'actor.snapshot', id, snapshot } satisfies ProcessorParentEvent) }),
    );
  }
  try {
    // Asked, not sent: a refusal comes back (the snapshot after it comes through the subscription).
    ref.ask(event, timeout === undefined ? {} : { timeout }).catch(reject);
  } catch (error) {
    reject(error);
  }
}

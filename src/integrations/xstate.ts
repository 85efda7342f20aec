/**
 * integrations/: Troupe inside other frameworks. This file: a processor as
 * XState actor logic (`processorLogic`), to embed in a statechart.
 */
import type { ActorLogic, ActorRefLike, ActorSystem, AnyActorRef, EventObject, Snapshot } from 'xstate';

import type { ProcessorEvent } from '../observe/events.js';
import type { ProcessorStatus } from '../observe/status.js';
import type { ProcessorOptions } from '../options/types.js';
import { createProcessor, type Processor } from '../processor.js';
import type { CancelledResult, DoneResult, FailedResult, TaskInput } from '../task/types.js';

/** What a processor actor accepts. */
export type ProcessorLogicEvent =
  | { readonly type: 'task.submit'; readonly task: TaskInput }
  | { readonly type: 'task.cancel'; readonly id: string; readonly reason?: string };

/** What a processor actor sends its parent. */
export type ProcessorParentEvent =
  | { readonly type: 'task.done'; readonly id: string; readonly result: DoneResult }
  | { readonly type: 'task.failed'; readonly id: string; readonly result: FailedResult }
  | { readonly type: 'task.cancelled'; readonly id: string; readonly result: CancelledResult }
  /** A `task.submit` was refused (invalid, duplicate, queue full, shut down): nothing was accepted. */
  | { readonly type: 'task.rejected'; readonly id: string | undefined; readonly error: Error };

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
/** What each actor listens to, dropped when it stops: a stopped actor takes no more events. */
const listening = new WeakMap<ActorRefLike, Array<{ unsubscribe(): void }>>();

/**
 * A Troupe processor as XState actor logic, like `fromPromise`: a machine
 * can `invoke` it or `spawnChild` it with the processor's options as `input`.
 * It takes `{ type: 'task.submit', task }` and `{ type: 'task.cancel', id }`,
 * sends `task.done` / `task.failed` / `task.cancelled` (with the result) back
 * to its parent, and `task.rejected` for a submit it refused; its snapshot's
 * `context` is the processor's status. Stopping the actor shuts the processor
 * down at once (unfinished tasks end `cancelled`). It is `createProcessor`
 * underneath: same options, same behaviour.
 *
 * @example
 * ```ts
 * const order = setup({ actors: { tasks: processorLogic } }).createMachine({
 *   invoke: { id: 'tasks', src: 'tasks', input: { handlers: new URL('./handlers.js', import.meta.url) } },
 *   entry: sendTo('tasks', { type: 'task.submit', task: { id: 'thumb-1', handler: 'thumbnail', payload: { url } } }),
 *   on: { 'task.done': { actions: ({ event }) => console.log(event.id, event.result.value) } },
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
    const parent = (self as AnyActorRef)._parent;
    listening.set(self, [
      processor.events.subscribe((event: ProcessorEvent) => {
        if (event.type === 'task.done' || event.type === 'task.failed' || event.type === 'task.cancelled') {
          // The event already has the parent event's shape: type, id, result.
          parent?.send({ type: event.type, id: event.id, result: event.result });
        }
      }),
      processor.status$.subscribe((status) => self.send({ type: 'troupe.status', status } as unknown as ProcessorLogicEvent)),
    ]);
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
      case 'troupe.status':
        return { ...current, context: (message as StatusEvent).status };
      case 'troupe.error':
        return { ...current, status: 'error', error: (message as { error: unknown }).error };
      case 'xstate.stop':
        // The parent stopped it (or left the state that invoked it): nothing is left to wait for.
        for (const subscription of listening.get(scope.self) ?? []) subscription.unsubscribe();
        listening.delete(scope.self);
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

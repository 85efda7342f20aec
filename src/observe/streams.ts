import type { Observable, OperatorFunction } from 'rxjs';

import { resultInfo } from '../task/results.js';
import type { FinalTaskState, TaskInfo } from '../task/types.js';
import { type ProcessorEvent, type ProcessorEventType, TASK_EVENT_STATE } from './events.js';
import { rx } from './rx.js';

/** The events of one type, typed as such. */
export type EventOf<T extends ProcessorEventType> = Extract<ProcessorEvent, { type: T }>;

/**
 * Keeps the events of the given types, narrowed to them.
 *
 * @example
 * ```ts
 * processor.events.pipe(ofType('task.failed')).subscribe((event) => console.error(event.id, event.result.error));
 * ```
 */
export function ofType<T extends ProcessorEventType>(...types: T[]): OperatorFunction<ProcessorEvent, EventOf<T>> {
  const wanted = new Set<ProcessorEventType>(types);
  return rx().filter((event): event is EventOf<T> => wanted.has(event.type));
}

const FINAL = new Set<string>(['done', 'failed', 'cancelled'] satisfies FinalTaskState[]);

/** Task events name the task they concern. */
function taskId(event: ProcessorEvent): string | undefined {
  return event.type.startsWith('task.') ? (event as { id?: string }).id : undefined;
}

/**
 * Routes the processor's events to per-task subscribers through one
 * subscription, so a thousand `task$` streams do not each filter every event.
 */
export class TaskStreams {
  readonly #events: Observable<ProcessorEvent>;
  readonly #read: (id: string) => TaskInfo | undefined;
  readonly #subscribers = new Map<string, Set<(info: TaskInfo) => void>>();
  #source: { unsubscribe(): void } | undefined;

  constructor(events: Observable<ProcessorEvent>, read: (id: string) => TaskInfo | undefined) {
    this.#events = events;
    this.#read = read;
  }

  /** The task's snapshots: the current one at once, then one per state it enters; completes at its final state. */
  task$(id: string, unknown: () => Error): Observable<TaskInfo> {
    return new (rx().Observable)<TaskInfo>((subscriber) => {
      const current = this.#read(id);
      if (!current) {
        subscriber.error(unknown());
        return undefined;
      }
      subscriber.next(current);
      if (FINAL.has(current.state)) {
        subscriber.complete();
        return undefined;
      }
      let last = current.state;
      const deliver = (info: TaskInfo) => {
        // One snapshot per state entered: with a broker, a task waiting in the
        // stream and then held by a node is `queued` twice.
        if (info.state === last) return;
        last = info.state;
        subscriber.next(info);
        if (FINAL.has(info.state)) subscriber.complete();
      };
      let set = this.#subscribers.get(id);
      if (!set) this.#subscribers.set(id, (set = new Set()));
      set.add(deliver);
      this.#source ??= this.#events.subscribe({
        next: (event) => this.#route(event),
        complete: () => this.#end(),
      });
      return () => {
        set.delete(deliver);
        if (set.size === 0) this.#subscribers.delete(id);
        if (this.#subscribers.size === 0) {
          this.#source?.unsubscribe();
          this.#source = undefined;
        }
      };
    });
  }

  #route(event: ProcessorEvent): void {
    const id = taskId(event);
    const set = id === undefined ? undefined : this.#subscribers.get(id);
    if (!set || id === undefined) return;
    // A final event carries its result. The others are read back, with the
    // state the event announced: by the time events are delivered (after the
    // supervisor's message), the task may already be a state further on.
    const state = TASK_EVENT_STATE[event.type];
    const current = 'result' in event ? resultInfo(event.result) : this.#read(id);
    if (!current) return;
    const info = state === undefined || current.state === state ? current : { ...current, state };
    for (const deliver of [...set]) deliver(info);
  }

  #end(): void {
    // Shutdown: every unfinished task has ended (cancelled) before the events complete.
    this.#subscribers.clear();
    this.#source = undefined;
  }
}

/**
 * The processor's status: the current one at once, then at most one per tick
 * after anything changes (a burst of a thousand events is one emission).
 */
export function status$<S>(events: Observable<ProcessorEvent>, read: () => S): Observable<S> {
  const { asapScheduler, auditTime, defer, map, startWith } = rx();
  return defer(() => events.pipe(auditTime(0, asapScheduler), map(read), startWith(read())));
}

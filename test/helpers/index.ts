import { filter, firstValueFrom, type Observable, take, toArray } from 'rxjs';
import { afterEach } from 'vitest';

import { createProcessor, type Processor, type ProcessorEvent, type ProcessorEventType, type ProcessorOptions } from '../../src/index.js';

export type { EventOf } from '../../src/index.js';
import type { EventOf } from '../../src/index.js';

/** The test's handler module. */
export const handlers = new URL('../fixtures/handlers.ts', import.meta.url);

/**
 * A factory of processors on the test handlers that shuts each one down after
 * its test, so a failing test cannot leave threads behind.
 */
export function useProcessor(defaults: Partial<ProcessorOptions> = {}): (options?: Partial<ProcessorOptions>) => Processor {
  let current: Processor | undefined;
  afterEach(async () => {
    await current?.shutdown({ timeout: 0 });
    current = undefined;
  });
  return (options = {}) => (current = createProcessor({ handlers, ...defaults, ...options }));
}

export function fixture(name: string): URL {
  return new URL(`../fixtures/${name}`, import.meta.url);
}

/**
 * The next event of `type` (optionally matching `where`). Subscribe before
 * causing the event: the promise is created eagerly.
 */
export function nextEvent<T extends ProcessorEventType>(
  events$: Observable<ProcessorEvent>,
  type: T,
  where: (event: EventOf<T>) => boolean = () => true,
): Promise<EventOf<T>> {
  return firstValueFrom(events$.pipe(filter((event): event is EventOf<T> => event.type === type && where(event as EventOf<T>))));
}

/** The next `count` events of `type`, in order. */
export function nextEvents<T extends ProcessorEventType>(
  events$: Observable<ProcessorEvent>,
  type: T,
  count: number,
): Promise<EventOf<T>[]> {
  return firstValueFrom(
    events$.pipe(
      filter((event): event is EventOf<T> => event.type === type),
      take(count),
      toArray(),
    ),
  );
}

/** Lets pending promise callbacks and message-port deliveries run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

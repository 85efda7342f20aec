/**
 * A fault while the processor shuts down (its threads cannot start, or
 * crash past the restart intensity) does not undo the shutdown: it still
 * ends, with every task ended or handed back. It used to put the processor
 * back in its `error` state, and `shutdown()` never resolved.
 */
import { describe, expect, it } from 'vitest';

import { RestartIntensityError, WorkerStartError } from '../../src/index.js';
import { fixture, nextEvent, useProcessor } from '../helpers/index.js';

const make = useProcessor({ workers: 1 });

/** Long enough that only the shutdown ending on its own resolves it within the test's bound. */
const NO_DEADLINE = 600_000;

describe('a fault during shutdown', () => {
  it('of threads that cannot start: the shutdown still ends, with every accepted task ended', async () => {
    const p = make({ handlers: fixture('broken-handlers.ts') });
    const failed = nextEvent(p.events, 'processor.error');
    const id = p.submit({ payload: 1 });
    const shutdown = p.shutdown({ timeout: NO_DEADLINE });
    await expect(p.ready).rejects.toBeInstanceOf(WorkerStartError);
    expect((await failed).error).toBeInstanceOf(WorkerStartError);
    expect(await shutdown).toEqual({ unfinished: [], actors: [] });
    expect((await p.result(id)).status).not.toBe('done');
    expect(p.getStatus()).toMatchObject({ state: 'stopped', shutdown: true });
  });

  it('past the restart intensity: the shutdown still ends, handing back what waits', async () => {
    const p = make({ restart: { maxRestarts: 0, minDelay: 0, jitter: 0 }, maxCrashes: 10, backoff: { delay: 0 } });
    await p.ready;
    const started = nextEvent(p.events, 'task.started', (event) => event.id === 'crash');
    const failed = nextEvent(p.events, 'processor.error');
    p.submit({ id: 'crash', handler: 'exitOnFirst', payload: null, maxRetries: 3 });
    p.submit({ id: 'next', payload: 2 });
    await started;
    // The running attempt crashes its thread while the shutdown waits for it; no thread may replace it.
    const { unfinished } = await p.shutdown({ drain: false, timeout: NO_DEADLINE });
    expect((await failed).error).toBeInstanceOf(RestartIntensityError);
    expect(unfinished.map((task) => task.id).sort()).toEqual(['crash', 'next']);
    expect(p.getStatus()).toMatchObject({ state: 'stopped', shutdown: true });
  });
});

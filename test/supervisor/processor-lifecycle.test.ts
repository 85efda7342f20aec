/**
 * The processor's lifecycle: one stage that only moves forward, and a fault
 * kept beside it. What `getStatus().state` reports in each situation, and
 * what each predicate allows.
 */
import { describe, expect, it } from 'vitest';

import { ProcessorShutdownError, RestartIntensityError, StoreError, WorkerStartError } from '../../src/errors/errors.js';
import { ProcessorLifecycle } from '../../src/supervisor/processor-lifecycle.js';

/** A lifecycle taken through `steps`, in order. */
function after(...steps: Array<(lifecycle: ProcessorLifecycle) => void>): ProcessorLifecycle {
  const lifecycle = new ProcessorLifecycle();
  for (const step of steps) step(lifecycle);
  return lifecycle;
}

const run = (lifecycle: ProcessorLifecycle) => lifecycle.run();
const drain = (lifecycle: ProcessorLifecycle) => lifecycle.drain();
const stop = (lifecycle: ProcessorLifecycle) => lifecycle.stop();
const restarts = new RestartIntensityError(2, 60_000);
const fail = (lifecycle: ProcessorLifecycle) => lifecycle.fail(restarts);

describe('the processor lifecycle', () => {
  it.each([
    ['new', [], 'starting', { running: false, shuttingDown: false, keepsThreads: true }],
    ['every thread up', [run], 'running', { running: true, shuttingDown: false, keepsThreads: true }],
    ['a fault while starting', [fail], 'error', { running: false, shuttingDown: false, keepsThreads: false }],
    ['a fault while running', [run, fail], 'error', { running: false, shuttingDown: false, keepsThreads: false }],
    ['shut down', [run, drain], 'draining', { running: false, shuttingDown: true, keepsThreads: true }],
    ['shut down after a fault', [run, fail, drain], 'draining', { running: false, shuttingDown: true, keepsThreads: false }],
    ['a fault while draining', [run, drain, fail], 'draining', { running: false, shuttingDown: true, keepsThreads: false }],
    ['shut down before the threads were up, then up', [drain, run], 'draining', { running: false, shuttingDown: true, keepsThreads: true }],
    ['stopped', [run, drain, stop], 'stopped', { running: false, shuttingDown: true, keepsThreads: false }],
    ['stopped after a fault', [fail, drain, stop], 'stopped', { running: false, shuttingDown: true, keepsThreads: false }],
  ] as const)('%s: reports %s', (_situation, steps, phase, predicates) => {
    const lifecycle = after(...steps);
    expect(lifecycle.phase).toBe(phase);
    expect({ running: lifecycle.running, shuttingDown: lifecycle.shuttingDown, keepsThreads: lifecycle.keepsThreads }).toEqual(predicates);
  });

  it('keeps a fault beside the stage: shutting down neither drops it nor is undone by it', () => {
    const lifecycle = after(run, fail);
    expect(lifecycle.stage).toBe('running');
    lifecycle.drain();
    expect(lifecycle).toMatchObject({ stage: 'draining', fault: restarts });
    const store = new StoreError('/tmp/q.db', 'A write failed', { cause: new Error('disk full') });
    lifecycle.fail(store);
    expect(lifecycle).toMatchObject({ stage: 'draining', fault: store, draining: true });
    lifecycle.stop();
    expect(lifecycle).toMatchObject({ stage: 'stopped', fault: store, stopped: true, draining: false });
  });

  it('refuses new work with the fault, and once shutting down with ProcessorShutdownError', () => {
    expect(after(run).refusal()).toBeUndefined();
    const start = new WorkerStartError('broken on purpose');
    const failed = after((lifecycle) => lifecycle.fail(start));
    expect(failed.refusal()).toBe(start);
    failed.drain();
    expect(failed.refusal()).toBeInstanceOf(ProcessorShutdownError);
    expect(after(drain).refusal()).toBeInstanceOf(ProcessorShutdownError);
  });

  it('only moves forward: a second drain, or a run once draining, changes nothing', () => {
    const lifecycle = after(run, drain, stop);
    lifecycle.drain();
    lifecycle.run();
    expect(lifecycle.stage).toBe('stopped');
  });
});

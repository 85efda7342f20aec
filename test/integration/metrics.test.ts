/** metrics() and the Prometheus registry, checked against a workload whose numbers are known. */
import { describe, expect, it } from 'vitest';

import { nextEvent, useProcessor } from '../helpers/index.js';

const make = useProcessor({ workers: 2, window: 0 });

describe('metrics', () => {
  it('counts, retries, throughput, queue wait and run time of a known workload', async () => {
    const p = make({ backoff: { delay: 0 }, restart: { minDelay: 0 } });
    await p.ready;
    // 20 tasks of 30 ms on 2 threads: 10 rounds, so the last ones wait about 270 ms.
    const sleeps = Array.from({ length: 20 }, () => p.submit({ handler: 'sleep', payload: { ms: 30 } }));
    await Promise.all(sleeps.map((id) => p.result(id)));
    const failing = p.submit({ handler: 'alwaysFail', payload: null, maxRetries: 1 });
    await p.result(failing);
    const replaced = nextEvent(p.events, 'worker.started');
    const crashing = p.submit({ handler: 'exitOnFirst', payload: null });
    await p.result(crashing);
    await replaced; // the retry may finish on the other thread before the replacement starts

    const m = p.metrics();
    expect(m.submitted).toBe(22);
    expect(m.finished).toEqual({ done: 21, failed: 1, cancelled: 0 });
    expect(m.retries).toBe(2); // alwaysFail once, the crash once
    expect(m.throughput.lastMinute).toBe(22);
    expect(m.tasks).toEqual({ scheduled: 0, queued: 0, processing: 0, retrying: 0 });
    // Percentiles are read to within 5%; the sleeps set a floor, the queue a spread.
    expect(m.runTime.count).toBe(23);
    expect(m.runTime.p50).toBeGreaterThanOrEqual(28);
    expect(m.runTime.max).toBeGreaterThanOrEqual(30);
    expect(m.queueWait.count).toBe(24);
    expect(m.queueWait.max).toBeGreaterThanOrEqual(250);
    expect(m.queueWait.p50).toBeGreaterThanOrEqual(60);
    expect(m.queueWait.p50).toBeLessThan(m.queueWait.max!);
    expect(m.crashes).toBe(1);
    expect(m.restarts).toBe(1);
    // The replacement took the crashed thread's slot, and carries its history.
    expect(m.workers.map((worker) => worker.slot).sort()).toEqual([1, 2]);
    expect(m.workers.reduce((sum, worker) => sum + worker.crashes, 0)).toBe(1);
    expect(m.workers.reduce((sum, worker) => sum + worker.restarts, 0)).toBe(1);
    const text = await p.prometheus();
    expect(text).toMatch(/troupe_worker_crashes_total\{slot="[12]"\} 1/);
  });

  it('exports the same numbers as Prometheus text', async () => {
    const p = make({ backoff: { delay: 0 } });
    await p.ready;
    const ids = Array.from({ length: 5 }, (_, i) => p.submit({ payload: i }));
    p.submit({ id: 'bad', handler: 'alwaysFail', payload: null, maxRetries: 0 });
    await Promise.all([...ids, 'bad'].map((id) => p.result(id)));
    const text = await p.prometheus();
    expect(text).toContain('troupe_tasks_submitted_total 6');
    expect(text).toMatch(/troupe_tasks_finished_total\{status="done"\} 5/);
    expect(text).toMatch(/troupe_tasks_finished_total\{status="failed"\} 1/);
    expect(text).toMatch(/troupe_task_run_seconds_count 6/);
    expect(text).toMatch(/troupe_tasks\{state="queued"\} 0/);
    expect(text).toMatch(/troupe_workers 2/);
    expect(text).toContain('# TYPE troupe_task_queue_wait_seconds histogram');
  });
});

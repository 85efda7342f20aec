/**
 * The chaos run on a store, restarted with work in flight: each new
 * processor on the file recovers what the last one left unfinished and
 * finishes it, and the promises hold across the restarts. `npm run soak --
 * --store` runs the same, longer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { type ChaosRestart, runChaos } from '../helpers/chaos.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('chaos on a store, with restarts', () => {
  it('every task ends exactly once across the restarts, and no id ever runs twice at once', { timeout: 60_000 }, async () => {
    dir = mkdtempSync(join(tmpdir(), 'troupe-chaos-'));
    const reported: ChaosRestart[] = [];
    const report = await runChaos({
      tasks: 3_000,
      faults: 'light',
      inFlight: 500,
      store: { path: join(dir, 'tasks.db'), restartEvery: 1_000, report: (restart) => reported.push(restart) },
    });
    // One result and one terminal event per task, from whichever processor ended it; callbacks once, and none
    // for recovered tasks; every task unfinished at a restart recovered, and nothing else; no id on two threads
    // at once; submitAsync settled; nothing left in the file at the end; the pool at full strength.
    expect(report.violations).toEqual([]);
    const { done, failed, cancelled, handedBack } = report.outcomes;
    expect(done + failed + cancelled).toBe(3_000);
    expect(handedBack).toBe(0);
    // The restarts did happen, with work in flight; the first did not drain, so it left tasks waiting to the next
    // processor (the second drained until its deadline, and may have finished all of them).
    expect(report.restarts.map((restart) => restart.drain)).toEqual([false, true]);
    expect(reported).toEqual(report.restarts);
    for (const restart of report.restarts) {
      expect(restart.inFlight).toBeGreaterThan(0);
      expect(restart.bytesAfter).toBeGreaterThan(0);
    }
    expect(report.restarts[0]?.recovered).toBeGreaterThan(0);
    expect(cancelled).toBeGreaterThan(0);
    expect(report.storeBytes?.atEnd).toBeGreaterThan(0);
  });
});

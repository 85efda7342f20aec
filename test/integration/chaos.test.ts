/**
 * Tasks that throw, exit their thread, hang past their timeout or spin past
 * their abort, random cancels, and a shutdown in the middle; then the
 * promises Troupe makes are checked. `npm run soak` runs the same, longer.
 */
import { describe, expect, it } from 'vitest';

import { runChaos } from '../helpers/chaos.js';

describe('chaos', () => {
  it('every task ends exactly once or is handed back, and no id ever runs twice at once', { timeout: 60_000 }, async () => {
    const report = await runChaos({ tasks: 1_200 });
    // One result and one callback per task; handed-back tasks ended cancelled
    // by shutdown; attempts within maxRetries + 1; no id on two threads at
    // once; the pool back to full strength.
    expect(report.violations).toEqual([]);
    const { done, failed, cancelled, handedBack } = report.outcomes;
    expect(done + failed + cancelled + handedBack).toBe(1_200);
    // The chaos did happen.
    expect(report.attempts).toBeGreaterThan(600);
    expect(report.faults.crashes).toBeGreaterThan(0);
    expect(report.faults.timeouts).toBeGreaterThan(0);
    expect(handedBack).toBeGreaterThan(0);
    expect(cancelled).toBeGreaterThan(0);
  });
});

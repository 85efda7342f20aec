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
    const handedBack = new Set(report.unfinished.map((task) => task.id));
    expect(report.results).toHaveLength(report.tasks);
    expect(new Set(report.results.map((r) => r.id)).size).toBe(report.tasks);
    for (const result of report.results) {
      expect(report.callbacks.get(result.id)).toBe(1);
      if (handedBack.has(result.id)) expect(result).toMatchObject({ status: 'cancelled', reason: 'shutdown' });
      expect(result.attempts).toBeLessThanOrEqual(4); // maxRetries + 1
    }
    expect(report.overlaps).toEqual([]);
    expect(report.threadsAliveBeforeShutdown).toBe(2);
    // The chaos did happen.
    expect(report.attempts).toBeGreaterThan(report.tasks / 2);
    expect(report.faults.crashes).toBeGreaterThan(0);
    expect(report.faults.timeouts).toBeGreaterThan(0);
    expect(handedBack.size).toBeGreaterThan(0);
  });
});

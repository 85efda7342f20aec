import { describe, expect, it } from 'vitest';

import type { RunSummary } from '../../src/cli/run.js';
import { summaryTable } from '../../src/cli/summary.js';

const run: RunSummary = {
  lines: 1_200,
  done: 1_190,
  failed: 10,
  invalid: 0,
  earlier: 0,
  retries: 3,
  elsewhere: 0,
  unfinished: 0,
  unfinishedPath: undefined,
  interrupted: false,
  ms: 2_000,
};

describe('summaryTable', () => {
  it('counts invalid lines in the number each count takes', () => {
    expect(summaryTable({ ...run, invalid: 1 }, 100)).toContain('  failed      10 (1 invalid line)\n');
    expect(summaryTable({ ...run, invalid: 2 }, 100)).toContain('  failed      10 (2 invalid lines)\n');
    expect(summaryTable({ ...run, invalid: 1_000 }, 100)).toContain('(1,000 invalid lines)');
    expect(summaryTable(run, 100)).toContain('  failed      10\n');
  });

  it('lines up the values, and adds the store and cluster rows only when they count something', () => {
    expect(summaryTable(run, 100)).toBe(
      [
        '  lines       1,200',
        '  done        1,190',
        '  failed      10',
        '  retries     3',
        '  unfinished  0',
        '  wall time   2.00 s',
        '  rate        600 tasks/s',
        '  peak RSS    100 MB',
      ].join('\n'),
    );
    const table = summaryTable({ ...run, earlier: 5, elsewhere: 2 }, 100);
    expect(table).toContain('  from the store  5 (finished by an earlier run, not run again)\n');
    expect(table).toContain('  left running    2 (in the cluster; results in its bucket)\n');
  });
});

import { availableParallelism } from 'node:os';

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Every test is bounded: a hang fails the test instead of the CI run.
    testTimeout: 20_000,
    hookTimeout: 20_000,
    restoreMocks: true,
    // At least two test files at once, even on two cores (vitest's default leaves one core free, so one file at a
    // time there): the suite spends much of its time waiting on child processes and servers, and ran in 240 s
    // instead of 300 s, which keeps CI (install, lint, package check, tests) under its 10 minutes.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});

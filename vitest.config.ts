import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Every test is bounded: a hang fails the test instead of the CI run.
    testTimeout: 20_000,
    hookTimeout: 20_000,
    restoreMocks: true,
  },
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    reporters: ['default', './test/reporters/plain-summary.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    reporters: ['default', './test/reporters/plain-summary.ts'],
    // Generous: CLI and Dovecot tests spawn processes, and a 2-vCPU CI machine may be busy.
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});

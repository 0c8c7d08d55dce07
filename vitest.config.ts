import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    // A server of PICTOR_TEST_PROCESSES processes loads its code that many times over before it serves.
    hookTimeout: process.env.PICTOR_TEST_PROCESSES ? 120_000 : 30_000,
    pool: 'forks',
  },
});

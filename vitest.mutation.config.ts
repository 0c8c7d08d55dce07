/**
 * The tests StrykerJS runs for `npm run mutation` (stryker.config.json): the unit tests beside
 * src/pipeline and src/transform, plus the three option suites that drive the real server, which are
 * the only tests that see apply-plan.ts's sharp calls.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/pipeline/**/*.test.ts', 'src/transform/**/*.test.ts', 'test/e2e/options-*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});

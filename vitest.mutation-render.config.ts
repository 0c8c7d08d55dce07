/**
 * The tests StrykerJS runs for `npm run mutation:render` (stryker.render.config.json): the three
 * option suites, which drive the real server and are the only tests that see apply-plan.ts's sharp
 * calls. Each mutant restarts a suite's server, so this run is kept to that one file.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/e2e/options-*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});

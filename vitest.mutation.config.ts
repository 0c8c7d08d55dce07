/**
 * The tests StrykerJS runs for `npm run mutation` (stryker.config.json): the unit tests beside
 * src/pipeline and src/transform. Left out of that run: svg-sanitize.ts (its suite asserts a time
 * limit that instrumented code cannot meet) and apply-plan.ts (the sharp calls, seen only by the
 * option suites that drive the real server: `npm run mutation:render`, stryker.render.config.json).
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/pipeline/**/*.test.ts', 'src/transform/**/*.test.ts'],
    exclude: ['src/pipeline/svg-sanitize.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HEAP_FLAGS, withHeapFlags } from './node-flags.js';

const ROOT = join(import.meta.dirname, '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

describe('withHeapFlags', () => {
  it('adds every heap flag the arguments do not set', () => {
    expect(withHeapFlags(['--import', 'tsx'])).toEqual(['--import', 'tsx', ...HEAP_FLAGS]);
    expect(withHeapFlags([])).toEqual([...HEAP_FLAGS]);
  });

  it("keeps the operator's own value, in either spelling", () => {
    expect(withHeapFlags(['--max-semi-space-size=64'])).toEqual([
      '--max-semi-space-size=64',
      '--min-semi-space-size=16',
    ]);
    expect(withHeapFlags(['--min_semi_space_size=4', '--max-semi-space-size=8'])).toEqual([
      '--min_semi_space_size=4',
      '--max-semi-space-size=8',
    ]);
  });
});

describe('every command line that starts a server carries the heap flags', () => {
  const flags = HEAP_FLAGS.join(' ');
  it("the pictor bin's shebang", () => {
    expect(read('src/cli/main.ts').split('\n')[0]).toBe(`#!/usr/bin/env -S node ${flags}`);
  });
  it("package.json's start script", () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.start).toContain(`node ${flags} dist/cli/main.js serve`);
  });
  it("the Dockerfile's entrypoint", () => {
    expect(read('Dockerfile')).toContain(
      `ENTRYPOINT ${JSON.stringify(['node', ...HEAP_FLAGS, 'dist/cli/main.js']).replaceAll(',', ', ')}`,
    );
  });
});

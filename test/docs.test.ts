import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configMarkdown, errorsMarkdown } from '../scripts/gen-docs.js';
import { errorCatalogue } from '../src/core/errors.js';

const read = (p: string) => readFileSync(new URL(`../${p}`, import.meta.url), 'utf8');

describe('generated docs', () => {
  it('docs/config.md matches the config descriptors (run `npm run docs`)', () => {
    expect(read('docs/config.md')).toBe(configMarkdown());
  });
  it('docs/errors.md matches the error catalogue (run `npm run docs`)', () => {
    expect(read('docs/errors.md')).toBe(errorsMarkdown());
  });
  it('every catalogue code appears in docs/errors.md and the doc lists no other code', () => {
    const doc = read('docs/errors.md');
    const documented = new Set([...doc.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1])));
    const codes = new Set(Object.values(errorCatalogue).map((e) => e.code));
    expect([...documented].sort()).toEqual([...codes].sort());
  });
});

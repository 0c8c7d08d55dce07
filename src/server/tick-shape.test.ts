import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { keepTickShape, keptTickRecord } from './tick-shape.js';

describe('keepTickShape', () => {
  it("keeps one of Node's own nextTick records, once", () => {
    keepTickShape();
    const kept = keptTickRecord();
    expect(kept).toBeDefined();
    // The record's shape is Node's: the two async-id symbols, then callback and args.
    const symbols = Object.getOwnPropertySymbols(kept!).map((s) => s.description);
    expect(symbols).toEqual(['async_id_symbol', 'trigger_async_id_symbol']);
    expect(Object.keys(kept!)).toEqual(['callback', 'args']);
    keepTickShape();
    expect(keptTickRecord()).toBe(kept);
  });

  it('leaves no async hook enabled', () => {
    // In a clean process (vitest's own may have hooks on): with any init hook enabled, Node tracks
    // promises, and a reaction runs under the promise's own async id instead of 0.
    const script = [
      "import { executionAsyncId } from 'node:async_hooks';",
      `import { keepTickShape, keptTickRecord } from ${JSON.stringify(new URL('./tick-shape.ts', import.meta.url).href)};`,
      'keepTickShape();',
      'const id = await Promise.resolve().then(() => executionAsyncId());',
      'process.stdout.write(JSON.stringify({ kept: keptTickRecord() !== undefined, id }));',
    ].join('\n');
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toEqual({ kept: true, id: 0 });
  });
});

import { describe, expect, it } from 'vitest';
import { Generation } from './generation.js';

describe('Generation', () => {
  it('moves on bump and stays put otherwise', () => {
    const g = new Generation();
    const v = g.value;
    expect(g.value).toBe(v);
    g.bump();
    expect(g.value).not.toBe(v);
  });

  it('moves when the watched source reports a change made elsewhere', () => {
    const g = new Generation();
    let changed = false;
    g.watch(() => changed);
    const v = g.value;
    expect(g.value).toBe(v);
    changed = true;
    const w = g.value;
    expect(w).not.toBe(v);
    changed = false;
    expect(g.value).toBe(w);
  });

  it('while suspended, no two reads agree; resume starts a value no earlier read returned', () => {
    const g = new Generation();
    g.suspend();
    expect(g.trusted).toBe(false);
    const seen = new Set([g.value, g.value, g.value]);
    expect(seen.size).toBe(3);
    g.resume();
    expect(g.trusted).toBe(true);
    const v = g.value;
    expect(seen.has(v)).toBe(false);
    expect(g.value).toBe(v);
  });
});

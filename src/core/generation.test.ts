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

  it('with a window, one check of the probe serves every read until it is windowMs old', () => {
    const g = new Generation();
    let t = 0;
    let calls = 0;
    let changed = false;
    g.watch(
      () => {
        calls++;
        return changed;
      },
      { windowMs: 1, now: () => t },
    );
    const v = g.value;
    expect(calls).toBe(1);
    changed = true;
    t = 0.999;
    expect(g.value, 'the check made at 0 still stands').toBe(v);
    expect(calls).toBe(1);
    t = 1;
    expect(g.value).not.toBe(v);
    expect(calls).toBe(2);
  });

  it('visibleElsewhere: nothing to wait for without a change, or when no other process memoises', () => {
    const alone = new Generation();
    alone.watch(() => false, { windowMs: 1 });
    alone.bump();
    expect(alone.visibleElsewhere()).toBeUndefined();
    const shared = new Generation();
    shared.watch(() => false, { windowMs: 1, othersMemoise: true });
    expect(shared.visibleElsewhere(), 'no change yet').toBeUndefined();
  });

  it('a change is answered only when a reader that checked just before it can no longer reuse that check', async () => {
    // Two processes on one database: the writer's change is what the reader's probe reports.
    let commits = 0;
    let seen = 0;
    const reader = new Generation();
    reader.watch(
      () => {
        const moved = commits !== seen;
        seen = commits;
        return moved;
      },
      { windowMs: 1 },
    );
    const writer = new Generation();
    writer.watch(() => false, { windowMs: 1, othersMemoise: true });
    for (let round = 0; round < 20; round++) {
      const before = reader.value; // a check made just before the change
      commits++;
      writer.bump();
      const started = performance.now();
      await writer.visibleElsewhere();
      expect(performance.now() - started, 'waited out the window').toBeGreaterThan(0.9);
      // The request that follows the answer: the reader must not reuse its check from before.
      expect(reader.value, `round ${round}`).not.toBe(before);
      expect(writer.visibleElsewhere(), 'once is enough').toBeUndefined();
    }
  });
});

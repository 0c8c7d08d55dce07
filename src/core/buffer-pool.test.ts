import { describe, expect, it } from 'vitest';
import { BufferPool } from './buffer-pool.js';

const MiB = 1024 * 1024;

describe('BufferPool', () => {
  it('hands out the smallest kept buffer that fits, else a new one rounded up to a MiB', () => {
    const pool = new BufferPool(64 * MiB);
    const a = pool.take(3 * MiB + 1);
    expect(a.length).toBe(4 * MiB);
    const b = pool.take(10);
    expect(b.length).toBe(MiB);
    pool.give(a);
    pool.give(b);
    expect(pool.bytes).toBe(5 * MiB);
    expect(pool.count).toBe(2);
    expect(pool.take(100)).toBe(b);
    expect(pool.take(2 * MiB)).toBe(a);
    expect(pool.bytes).toBe(0);
    expect(pool.take(100)).not.toBe(b);
  });

  it('keeps no more than maxBytes', () => {
    const pool = new BufferPool(5 * MiB);
    const a = pool.take(4 * MiB);
    const b = pool.take(2 * MiB);
    pool.give(a);
    pool.give(b);
    expect(pool.bytes, 'the second would make 6 MiB').toBe(4 * MiB);
  });
});

import { describe, expect, it } from 'vitest';
import { requestIds } from './observe.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('requestIds', () => {
  it('gives ids in UUID v4 form, all different, one process prefix each', () => {
    const a = requestIds();
    const b = requestIds();
    const ids = Array.from({ length: 1000 }, a);
    for (const id of ids) expect(id).toMatch(UUID_V4);
    expect(new Set(ids).size).toBe(1000);
    const other = b();
    expect(other).toMatch(UUID_V4);
    // Another process (another generator) draws another random prefix.
    expect(other.slice(0, 24)).not.toBe(ids[0]!.slice(0, 24));
    expect(ids).not.toContain(other);
  });

  it('stays unique and in order across the counter low digits rolling over (every 4,096 ids)', () => {
    const next = requestIds();
    const ids = Array.from({ length: 3 * 4096 + 5 }, next);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(UUID_V4);
    // Fixed-width hex: string order is the order they were given in.
    expect([...ids].sort()).toEqual(ids);
    expect(ids[4095]!.slice(24)).toBe('000000000fff');
    expect(ids[4096]!.slice(24)).toBe('000000001000');
  });
});

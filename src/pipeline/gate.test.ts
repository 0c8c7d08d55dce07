import { describe, expect, it } from 'vitest';
import { Gate, GateFullError } from './gate.js';

/** A job that finishes when its `release` is called. */
function held<T>(value: T): { job: () => Promise<T>; release: () => void; started: () => boolean } {
  let release!: () => void;
  let started = false;
  const done = new Promise<void>((r) => (release = r));
  return {
    job: async () => {
      started = true;
      await done;
      return value;
    },
    release: () => release(),
    started: () => started,
  };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('Gate', () => {
  it('refuses bad sizes', () => {
    expect(() => new Gate(0, 1)).toThrow('Gate: slots must be a positive integer, got 0');
    expect(() => new Gate(1.5, 1)).toThrow('slots must be a positive integer');
    expect(() => new Gate(1, -1)).toThrow('Gate: queueLimit must be ≥ 0, got -1');
    expect(() => new Gate(1, 0.5)).toThrow('queueLimit');
    expect(new Gate(1, 0).stats()).toStrictEqual({ running: 0, queued: 0, slots: 1, queueLimit: 0 });
  });

  it('runs up to `slots` jobs at once, queues the rest in order, and returns their values', async () => {
    const gate = new Gate(2, 2);
    const a = held('a');
    const b = held('b');
    const c = held('c');
    const pa = gate.run(a.job);
    const pb = gate.run(b.job);
    const pc = gate.run(c.job);
    await tick();
    expect([a.started(), b.started(), c.started()]).toEqual([true, true, false]);
    expect(gate.stats()).toStrictEqual({ running: 2, queued: 1, slots: 2, queueLimit: 2 });
    a.release();
    expect(await pa).toBe('a');
    await tick();
    expect(c.started()).toBe(true);
    expect(gate.stats()).toMatchObject({ running: 2, queued: 0 });
    b.release();
    c.release();
    expect(await Promise.all([pb, pc])).toEqual(['b', 'c']);
    expect(gate.stats()).toMatchObject({ running: 0, queued: 0 });
  });

  it('rejects at once with GateFullError when the queue is full', async () => {
    const gate = new Gate(1, 1);
    const a = held(1);
    const b = held(2);
    const pa = gate.run(a.job);
    const pb = gate.run(b.job);
    await expect(gate.run(async () => 3)).rejects.toBeInstanceOf(GateFullError);
    await expect(gate.run(async () => 3)).rejects.toThrow('image work queue is full');
    a.release();
    b.release();
    expect(await Promise.all([pa, pb])).toEqual([1, 2]);
  });

  it('a queue limit of 0 refuses any wait', async () => {
    const gate = new Gate(1, 0);
    const a = held(1);
    const pa = gate.run(a.job);
    await expect(gate.run(async () => 2)).rejects.toBeInstanceOf(GateFullError);
    a.release();
    await pa;
  });

  it('a failing job frees its slot for the next one', async () => {
    const gate = new Gate(1, 1);
    const failing = gate.run(async () => {
      await tick();
      throw new Error('boom');
    });
    const next = gate.run(async () => 'next');
    await expect(failing).rejects.toThrow('boom');
    expect(await next).toBe('next');
    expect(gate.stats()).toMatchObject({ running: 0, queued: 0 });
  });
});

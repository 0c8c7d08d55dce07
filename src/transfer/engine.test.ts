/**
 * runTransfer with an in-memory paged source and a real state file: an interrupted run resumes
 * without doing any finished item again, concurrency is bounded, a dry run writes nothing, failures
 * are reported with their reason and tried again by the next run.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTransfer, type Outcome, type TransferSource } from './engine.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pictor-engine-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshState = () => join(dir, `state-${++n}.jsonl`);

const KEYS = Array.from({ length: 53 }, (_, i) => `img/${i}/ü`);

/** Pages of `size` keys; the cursor is the index of the page's first key. Fails fetching page `failAt`. */
function source(keys: string[], size: number, failAt?: number): TransferSource<string> {
  return {
    key: (k) => k,
    total: async () => keys.length,
    async *pages(cursor) {
      for (let start = cursor === null ? 0 : Number(cursor); start < keys.length; start += size) {
        if (failAt !== undefined && start / size === failAt) throw new Error('source went away');
        // A tick between pages, as a real list call has.
        await new Promise((r) => setImmediate(r));
        yield { cursor: start === 0 ? null : String(start), items: keys.slice(start, start + size) };
      }
    },
  };
}

/** A process that counts its calls per key and takes a little while. */
function counter() {
  const calls = new Map<string, number>();
  let inFlight = 0;
  let maxInFlight = 0;
  return {
    calls,
    get maxInFlight() {
      return maxInFlight;
    },
    async process(key: string, dry: boolean): Promise<Outcome> {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 1 + (key.length % 3)));
      inFlight -= 1;
      if (!dry) calls.set(key, (calls.get(key) ?? 0) + 1);
      return { result: 'copied', bytes: 10 };
    },
  };
}

describe('runTransfer', () => {
  it('does every item once, at most `concurrency` at a time, and reports counts and bytes', async () => {
    const c = counter();
    const report = await runTransfer({ source: source(KEYS, 10), process: c.process, concurrency: 3 });
    expect([...c.calls.keys()].sort()).toEqual([...KEYS].sort());
    expect([...c.calls.values()].every((v) => v === 1)).toBe(true);
    expect(c.maxInFlight).toBeLessThanOrEqual(3);
    expect(c.maxInFlight).toBeGreaterThan(1);
    expect(report).toMatchObject({ copied: 53, skipped: 0, failed: [], bytes: 530, resumed: null });
  });

  it('an interrupted run resumes without doing any finished item again', async () => {
    const state = freshState();
    const c = counter();
    // The source fails fetching the fourth page: pages 1-3 are done, page 3 after the last checkpoint.
    await expect(
      runTransfer({
        source: source(KEYS, 10, 3),
        process: c.process,
        concurrency: 4,
        state: { path: state, run: 'r' },
      }),
    ).rejects.toThrow('source went away');
    expect(c.calls.size).toBe(30);
    const journal = readFileSync(state, 'utf8');
    // Items of the third page are journaled after the checkpoint that names it, so the resume must
    // skip them by the journal, not by the cursor.
    expect(journal).toContain('{"cp":"20"}');
    expect(journal.slice(journal.lastIndexOf('{"cp":"20"}'))).toContain('"k":"img/29/ü"');

    const resumed = await runTransfer({
      source: source(KEYS, 10),
      process: c.process,
      concurrency: 4,
      state: { path: state, run: 'r' },
    });
    expect([...c.calls.keys()].sort()).toEqual([...KEYS].sort());
    for (const [k, v] of c.calls) expect(v, k).toBe(1);
    expect(resumed.copied).toBe(23);
    expect(resumed.resumed).toEqual({ copied: 30, skipped: 0, ignored: 0, bytes: 300 });
    // The pass is finished: a next run starts a new one (the sink then finds everything present).
    expect(readFileSync(state, 'utf8').trimEnd().endsWith('{"done":true}')).toBe(true);
  });

  it('items of a later page that finish before an older page are not done again after a resume', async () => {
    // The last item of page 1 is slow: page 2's items all finish (and are journaled) before it, so
    // the checkpoint that page 1's end writes comes after their lines. The source then fails.
    const state = freshState();
    const keys = KEYS.slice(0, 30);
    const calls = new Map<string, number>();
    const process = async (key: string): Promise<Outcome> => {
      await new Promise((r) => setTimeout(r, key === keys[9] ? 200 : 1));
      calls.set(key, (calls.get(key) ?? 0) + 1);
      return { result: 'copied', bytes: 1 };
    };
    await expect(
      runTransfer({ source: source(keys, 10, 2), process, concurrency: 4, state: { path: state, run: 'r' } }),
    ).rejects.toThrow('source went away');
    const records = readFileSync(state, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { k?: string; cp?: string });
    const cp = records.findIndex((r) => r.cp === '10');
    expect(cp).toBeGreaterThan(0);
    expect(records.findIndex((r) => r.k === keys[15])).toBeLessThan(cp);
    expect(calls.size).toBe(20);
    await runTransfer({
      source: source(keys, 10),
      process,
      concurrency: 4,
      state: { path: state, run: 'r' },
    });
    expect(calls.size).toBe(30);
    for (const [k, v] of calls) expect(v, k).toBe(1);
  });

  it('after a torn last line only the torn item is done again', async () => {
    const state = freshState();
    const c = counter();
    await expect(
      runTransfer({
        source: source(KEYS, 10, 2),
        process: c.process,
        concurrency: 1,
        state: { path: state, run: 'r' },
      }),
    ).rejects.toThrow('source went away');
    // Cut the last record in half, as a kill in the middle of its write would.
    const text = readFileSync(state, 'utf8');
    const last = text.slice(text.lastIndexOf('\n', text.length - 2) + 1);
    const lastKey = (JSON.parse(last) as { k: string }).k;
    truncateSync(state, text.length - Math.ceil(last.length / 2));
    await runTransfer({
      source: source(KEYS, 10),
      process: c.process,
      concurrency: 1,
      state: { path: state, run: 'r' },
    });
    for (const [k, v] of c.calls) expect(v, k).toBe(k === lastKey ? 2 : 1);
    expect(c.calls.size).toBe(KEYS.length);
  });

  it('a dry run reads the state, says what it would do and writes nothing', async () => {
    const state = freshState();
    const c = counter();
    const seen: string[] = [];
    const report = await runTransfer({
      source: source(KEYS, 10),
      process: c.process,
      dryRun: true,
      state: { path: state, run: 'r' },
      onItem: (k) => seen.push(k),
    });
    expect(report.dryRun).toBe(true);
    expect(seen.sort()).toEqual([...KEYS].sort());
    expect(c.calls.size).toBe(0);
    expect(existsSync(state)).toBe(false);
  });

  it('reports each failure with its reason and tries it again on the next run', async () => {
    const state = freshState();
    let broken = true;
    const done: string[] = [];
    const process = async (key: string): Promise<Outcome> => {
      if (broken && key.startsWith('img/1')) throw new Error(`upload of ${key} refused`);
      done.push(key);
      return { result: key === 'img/0/ü' ? 'skipped' : 'copied', bytes: 1 };
    };
    const first = await runTransfer({ source: source(KEYS, 10), process, state: { path: state, run: 'r' } });
    const failing = KEYS.filter((k) => k.startsWith('img/1'));
    expect(first.failed.map((f) => f.key).sort()).toEqual(failing.sort());
    expect(first.failed[0]!.reason).toMatch(/^upload of img\/1\S* refused$/);
    expect(first.skipped).toBe(1);
    expect(first.copied).toBe(KEYS.length - failing.length - 1);
    broken = false;
    done.length = 0;
    // The first pass finished, so the next one goes through everything again: only the failed ones
    // are new work for the sink (present images are found and skipped there).
    const second = await runTransfer({ source: source(KEYS, 10), process, state: { path: state, run: 'r' } });
    expect(second.failed).toEqual([]);
    expect(done).toEqual(expect.arrayContaining(failing));
  });
});

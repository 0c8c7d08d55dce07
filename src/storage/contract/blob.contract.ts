/**
 * The BlobStore contract: every implementation calls `blobStoreContract` from its own test file.
 * Each test gets a fresh, empty store from `create()` and closes it afterwards.
 */
import { randomBytes } from 'node:crypto';
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import type { BlobObject, BlobStore } from '../types.js';

export interface BlobStoreContractOptions {
  name: string;
  /** A fresh, empty store. */
  create: () => Promise<BlobStore>;
  /** Names of tests to skip (exact `it` titles). */
  skip?: string[];
  capabilities?: {
    /** Whether the store refuses keys that escape it (`../x`, absolute paths). Default true. */
    pathConfinement?: boolean;
  };
}

const MB = 1024 * 1024;

/** Keys that try to escape the store; each must be refused. */
export const ESCAPING_KEYS: readonly string[] = [
  '../x',
  '/etc/passwd',
  'a/../../x',
  '',
  '..',
  '../../../../../../tmp/x',
];

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of iterable) out.push(v);
  return out;
}

/** Every byte value 0..255, twice, in a shuffled-looking but deterministic order after the first pass. */
function allBytes(): Buffer {
  const b = Buffer.alloc(512);
  for (let i = 0; i < 256; i++) b[i] = i;
  for (let i = 0; i < 256; i++) b[256 + i] = (i * 167 + 13) % 256;
  return b;
}

/** Whether `p` (a promise or a synchronous throw) rejects. */
async function rejects(fn: () => Promise<unknown>): Promise<boolean> {
  try {
    await fn();
    return false;
  } catch {
    return true;
  }
}

function expectBuffer(obj: BlobObject | null, expected: Buffer): asserts obj is BlobObject {
  expect(obj).not.toBeNull();
  if (obj === null) return;
  expect(Buffer.isBuffer(obj.body)).toBe(true);
  expect(obj.body.length).toBe(expected.length);
  // Buffer.equals is fast on large buffers; toEqual on 5 MB would crawl.
  expect(obj.body.equals(expected)).toBe(true);
}

export function blobStoreContract(opts: BlobStoreContractOptions): void {
  const skip = new Set(opts.skip ?? []);
  const confinement = opts.capabilities?.pathConfinement ?? true;
  const test = (title: string, fn: () => Promise<void>): void => {
    if (skip.has(title)) it.skip(title, fn);
    else it(title, fn);
  };

  describe(`BlobStore contract: ${opts.name}`, () => {
    let store: BlobStore;
    let open = false;

    beforeEach(async () => {
      store = await opts.create();
      open = true;
    });

    afterEach(async () => {
      if (open) {
        open = false;
        await store.close();
      }
    });

    test('get of a missing key resolves to null', async () => {
      expect(await store.get('missing')).toBeNull();
      expect(await store.get('missing/nested/key')).toBeNull();
      expect(await store.get('missing', { range: { start: 0, end: 10 } })).toBeNull();
    });

    test('a fresh store lists nothing', async () => {
      expect(await collect(store.list())).toEqual([]);
    });

    test('put/get round-trips every byte value', async () => {
      const data = allBytes();
      await store.put('bytes', data);
      const got = await store.get('bytes');
      expectBuffer(got, data);
      expect(got.size).toBe(data.length);
    });

    test('put/get round-trips a 5 MB buffer', async () => {
      const data = randomBytes(5 * MB);
      await store.put('five-mb', data);
      const got = await store.get('five-mb');
      expectBuffer(got, data);
      expect(got.size).toBe(5 * MB);
    });

    test('put/get round-trips a zero-length object', async () => {
      await store.put('empty', Buffer.alloc(0));
      const got = await store.get('empty');
      expectBuffer(got, Buffer.alloc(0));
      expect(got.size).toBe(0);
    });

    test('put does not keep a reference to the caller buffer', async () => {
      const data = Buffer.from('original content');
      const copy = Buffer.from(data);
      await store.put('copy', data);
      data.fill(0);
      expectBuffer(await store.get('copy'), copy);
    });

    test('get reports size, etag and lastModified', async () => {
      const before = Date.now();
      const data = randomBytes(4096);
      await store.put('meta', data);
      const after = Date.now();
      const got = await store.get('meta');
      expectBuffer(got, data);
      expect(got.size).toBe(4096);
      expect(typeof got.etag).toBe('string');
      expect(got.etag.length).toBeGreaterThan(0);
      expect(got.lastModified).toBeInstanceOf(Date);
      expect(Number.isNaN(got.lastModified.getTime())).toBe(false);
      // Filesystems may round mtimes to the second; allow slack either side.
      expect(got.lastModified.getTime()).toBeGreaterThanOrEqual(before - 2000);
      expect(got.lastModified.getTime()).toBeLessThanOrEqual(after + 2000);
      // A second read of the unchanged object reports the same etag.
      expect((await store.get('meta'))?.etag).toBe(got.etag);
    });

    test('etag changes when the content changes', async () => {
      await store.put('etag', Buffer.from('first version of the content'));
      const first = await store.get('etag');
      await store.put('etag', Buffer.from('second, longer version of the content'));
      const second = await store.get('etag');
      expect(first?.etag).toBeTruthy();
      expect(second?.etag).toBeTruthy();
      expect(second?.etag).not.toBe(first?.etag);
    });

    test('etag changes when content of the same size changes', async () => {
      await store.put('etag-same-size', Buffer.from('AAAAAAAAAAAAAAAA'));
      const first = await store.get('etag-same-size');
      await store.put('etag-same-size', Buffer.from('BBBBBBBBBBBBBBBB'));
      const second = await store.get('etag-same-size');
      expect(second?.body.toString()).toBe('BBBBBBBBBBBBBBBB');
      expect(second?.etag).not.toBe(first?.etag);
    });

    test('different content under different keys has different etags', async () => {
      await store.put('e1', Buffer.from('one'));
      await store.put('e2', Buffer.from('two'));
      expect((await store.get('e1'))?.etag).not.toBe((await store.get('e2'))?.etag);
    });

    test('range reads return exactly the bytes asked for and the whole size', async () => {
      const data = Buffer.concat([allBytes(), randomBytes(1000)]);
      const n = data.length;
      await store.put('range', data);
      const full = await store.get('range');
      expectBuffer(full, data);

      const ranges: Array<[number, number]> = [
        [0, 0], // first byte
        [n - 1, n - 1], // last byte
        [100, 199], // middle
        [255, 256], // across the all-bytes boundary
        [1, n - 2], // all but the ends
        [0, n - 1], // everything
        [0, 9], // prefix
        [n - 10, n - 1], // suffix
      ];
      for (const [start, end] of ranges) {
        const got = await store.get('range', { range: { start, end } });
        expect(got, `range ${start}-${end}`).not.toBeNull();
        if (got === null) continue;
        expect(got.body.length, `length of range ${start}-${end}`).toBe(end - start + 1);
        expect(got.body.equals(data.subarray(start, end + 1)), `bytes of range ${start}-${end}`).toBe(true);
        expect(got.size, `size for range ${start}-${end}`).toBe(n);
        expect(got.etag, `etag for range ${start}-${end}`).toBe(full.etag);
      }
    });

    test('range reads near the end of a 5 MB object', async () => {
      const data = randomBytes(5 * MB);
      await store.put('range-big', data);
      const start = 5 * MB - 17;
      const end = 5 * MB - 1;
      const got = await store.get('range-big', { range: { start, end } });
      expect(got).not.toBeNull();
      expect(got?.body.equals(data.subarray(start, end + 1))).toBe(true);
      expect(got?.size).toBe(5 * MB);
      const mid = await store.get('range-big', { range: { start: 2 * MB, end: 3 * MB - 1 } });
      expect(mid?.body.length).toBe(MB);
      expect(mid?.body.equals(data.subarray(2 * MB, 3 * MB))).toBe(true);
    });

    test('delete removes the object and is idempotent', async () => {
      await store.put('del', Buffer.from('bye'));
      await store.put('stay', Buffer.from('hi'));
      await store.delete('del');
      expect(await store.get('del')).toBeNull();
      await expect(store.delete('del')).resolves.toBeUndefined();
      await expect(store.delete('never-existed')).resolves.toBeUndefined();
      await expect(store.delete('never/existed/nested')).resolves.toBeUndefined();
      expect(await store.get('del')).toBeNull();
      expectBuffer(await store.get('stay'), Buffer.from('hi'));
      // The key can be written again after a delete.
      await store.put('del', Buffer.from('back'));
      expectBuffer(await store.get('del'), Buffer.from('back'));
    });

    test('list yields put keys and not deleted ones', async () => {
      const keys = ['k1', 'a/b/c', 'a/b/d', 'x/y', 'Mixed-Case_key-09'];
      for (const k of keys) await store.put(k, Buffer.from(k));
      expect((await collect(store.list())).sort()).toEqual([...keys].sort());
      await store.delete('a/b/c');
      await store.delete('k1');
      expect((await collect(store.list())).sort()).toEqual(['a/b/d', 'x/y', 'Mixed-Case_key-09'].sort());
      // Overwriting does not duplicate a key.
      await store.put('x/y', Buffer.from('again'));
      expect((await collect(store.list())).sort()).toEqual(['a/b/d', 'x/y', 'Mixed-Case_key-09'].sort());
      await store.delete('a/b/d');
      await store.delete('x/y');
      await store.delete('Mixed-Case_key-09');
      expect(await collect(store.list())).toEqual([]);
    });

    test('put overwrites the whole object', async () => {
      const big = randomBytes(2 * MB);
      await store.put('ow', big);
      const small = Buffer.from('tiny');
      await store.put('ow', small);
      const got = await store.get('ow');
      expectBuffer(got, small);
      expect(got.size).toBe(4);
      const bigger = randomBytes(3 * MB);
      await store.put('ow', bigger);
      const got2 = await store.get('ow');
      expectBuffer(got2, bigger);
      expect(got2.size).toBe(3 * MB);
    });

    test('concurrent puts to the same key never leave a mixed or partial object', async () => {
      // Different sizes, so a reader that pairs one version's size with another's bytes is caught.
      const versions = Array.from({ length: 8 }, (_, i) => Buffer.alloc(256 * 1024 + i * 4099, i + 1));
      const isWhole = (o: BlobObject): boolean =>
        o.size === o.body.length && versions.some((v) => v.equals(o.body));
      const describeObj = (o: BlobObject): string => {
        const match = versions.findIndex((v) => v.equals(o.body));
        return `size=${o.size} body.length=${o.body.length} body matches version ${match}`;
      };
      const bad: string[] = [];
      for (let round = 0; round < 4; round++) {
        let done = false;
        const readers = Array.from({ length: 3 }, async () => {
          while (!done) {
            const o = await store.get('race');
            if (o !== null && !isWhole(o)) bad.push(`round ${round}: ${describeObj(o)}`);
            await new Promise((r) => setImmediate(r));
          }
        });
        await Promise.all(versions.map((v) => store.put('race', v)));
        done = true;
        await Promise.all(readers);
        const final = await store.get('race');
        expect(final).not.toBeNull();
        if (final !== null && !isWhole(final)) bad.push(`round ${round} final read: ${describeObj(final)}`);
      }
      expect(bad.slice(0, 3), `${bad.length} torn reads`).toEqual([]);
      expect(await collect(store.list())).toEqual(['race']);
    });

    test('a reader never sees a prefix of an object being written', async () => {
      const data = randomBytes(8 * MB);
      const seen: Array<BlobObject | null> = [];
      let done = false;
      const reader = (async () => {
        while (!done) {
          seen.push(await store.get('atomic'));
          await new Promise((r) => setImmediate(r));
        }
      })();
      await store.put('atomic', data);
      done = true;
      await reader;
      for (const o of seen) {
        if (o !== null) {
          expect(o.body.length).toBe(data.length);
          expect(o.body.equals(data)).toBe(true);
        }
      }
      expectBuffer(await store.get('atomic'), data);
    });

    test('a get racing a delete resolves to the whole object or null, never throws', async () => {
      const data = randomBytes(64 * 1024);
      const failures: string[] = [];
      for (let i = 0; i < 400; i++) {
        const key = `gd-${i % 4}`;
        await store.put(key, data);
        const [a, , b] = await Promise.allSettled([store.get(key), store.delete(key), store.get(key)]);
        for (const r of [a, b]) {
          if (r?.status === 'rejected') failures.push(`iteration ${i}: get rejected: ${String(r.reason)}`);
          else if (r?.status === 'fulfilled' && r.value !== null && !r.value.body.equals(data)) {
            failures.push(
              `iteration ${i}: get returned ${r.value.body.length} bytes that differ from the object`,
            );
          }
        }
      }
      expect(failures.slice(0, 3), `${failures.length} failing reads`).toEqual([]);
    });

    test('keys containing / are allowed', async () => {
      await store.put('a/b/c', Buffer.from('deep'));
      await store.put('a/b2', Buffer.from('shallow'));
      await store.put('a/b/c2/d/e/f', Buffer.from('deeper'));
      expectBuffer(await store.get('a/b/c'), Buffer.from('deep'));
      expectBuffer(await store.get('a/b2'), Buffer.from('shallow'));
      expectBuffer(await store.get('a/b/c2/d/e/f'), Buffer.from('deeper'));
      expect(await store.get('a/b')).toBeNull();
      expect(await store.get('a')).toBeNull();
      await store.delete('a/b/c');
      expect(await store.get('a/b/c')).toBeNull();
      expectBuffer(await store.get('a/b/c2/d/e/f'), Buffer.from('deeper'));
    });

    test('blob-key-shaped keys round-trip', async () => {
      const keys = [
        randomBytes(18).toString('base64url'),
        '-leading-dash',
        '_under_score',
        'dots.in.name',
        'x',
      ];
      for (const k of keys) await store.put(k, Buffer.from(`v:${k}`));
      for (const k of keys) expectBuffer(await store.get(k), Buffer.from(`v:${k}`));
      expect((await collect(store.list())).sort()).toEqual([...keys].sort());
    });

    if (confinement) {
      test('keys that escape the store are refused', async () => {
        for (const key of ESCAPING_KEYS) {
          expect(
            await rejects(() => store.put(key, Buffer.from('escaped'))),
            `put(${JSON.stringify(key)})`,
          ).toBe(true);
        }
        // Reads and deletes of escaping keys either refuse or find nothing; they never reach outside.
        for (const key of ESCAPING_KEYS) {
          let got: BlobObject | null = null;
          try {
            got = await store.get(key);
          } catch {
            got = null;
          }
          expect(got, `get(${JSON.stringify(key)})`).toBeNull();
          try {
            await store.delete(key);
          } catch {
            // refused: fine
          }
        }
        // /etc/passwd exists on POSIX systems; confined reads never return it.
        expect(await collect(store.list())).toEqual([]);
      });
    }
  });
}

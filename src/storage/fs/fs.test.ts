import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, it, expect, beforeEach, afterEach, afterAll } from 'vitest';
import { blobStoreContract } from '../contract/blob.contract.js';
import type { BlobStore } from '../types.js';
import { createFsBlobStore } from './index.js';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'pictor-fs-'));
let n = 0;
/** A fresh, existing, empty root directory under `base`. */
function nextRoot(): string {
  const root = path.join(base, `root-${++n}`);
  fs.mkdirSync(root, { recursive: true });
  return root;
}

afterAll(() => {
  fs.rmSync(base, { recursive: true, force: true });
});

blobStoreContract({
  name: 'fs',
  create: async () => createFsBlobStore({ root: nextRoot() }),
  capabilities: { pathConfinement: true },
});

/** Every regular file under `dir`, as `/`-joined paths relative to it. */
function walk(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...walk(path.join(dir, entry.name), rel));
    else out.push(rel);
  }
  return out;
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of iterable) out.push(v);
  return out;
}

describe('fs blob store', () => {
  let root: string;
  let store: BlobStore;

  beforeEach(() => {
    root = nextRoot();
    store = createFsBlobStore({ root });
  });

  afterEach(async () => {
    await store.close();
  });

  it('get into a larger given buffer answers a view of exactly the blob, ranges included', async () => {
    const data = randomBytes(5000);
    await store.put('k', data);
    const given = Buffer.alloc(9000, 0xee);
    const sizes: number[] = [];
    const into = (size: number) => {
      sizes.push(size);
      return given;
    };
    const whole = await store.get('k', { into });
    expect(whole!.body.equals(data)).toBe(true);
    expect(whole!.body.buffer).toBe(given.buffer);
    const part = await store.get('k', { range: { start: 10, end: 19 }, into });
    expect(part!.body.equals(data.subarray(10, 20))).toBe(true);
    expect(sizes).toEqual([5000, 10]);
  });

  it('leaves no temporary files in the root after puts and overwrites', async () => {
    await store.put('one', randomBytes(1024));
    await store.put('a/b/c', randomBytes(3 * 1024 * 1024));
    await store.put('one', randomBytes(10));
    await Promise.all([1, 2, 3, 4].map((i) => store.put('race', Buffer.alloc(256 * 1024, i))));
    expect(walk(root).sort()).toEqual(['a/b/c', 'one', 'race']);
    expect((await collect(store.list())).sort()).toEqual(['a/b/c', 'one', 'race']);
  });

  it('never exposes a partially written file at the final path', async () => {
    const data = randomBytes(16 * 1024 * 1024);
    const key = 'big/object';
    const target = path.join(root, 'big', 'object');
    const sizes: number[] = [];
    const listed: string[][] = [];
    let done = false;
    const watcher = (async () => {
      while (!done) {
        try {
          sizes.push(fs.statSync(target).size);
        } catch {
          // not there yet
        }
        listed.push(await collect(store.list()));
        await new Promise((r) => setImmediate(r));
      }
    })();
    await store.put(key, data);
    done = true;
    await watcher;
    for (const s of sizes) expect(s).toBe(data.length);
    // Temporary files never show up in list().
    for (const keys of listed) for (const k of keys) expect(k).toBe(key);
    expect(fs.readFileSync(target).equals(data)).toBe(true);
    expect(walk(root)).toEqual([key]);
  });

  it('removes its temporary file when a put fails half-way', async () => {
    await store.put('kept', Buffer.from('old'));
    // A write that throws after the temporary file was opened (as ENOSPC does mid-write): the data's
    // length is read only once the file is open.
    const failing = {
      get length(): number {
        throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      },
    } as unknown as Buffer;
    await expect(store.put('kept', failing)).rejects.toThrow('no space left');
    await expect(store.put('a/new', failing)).rejects.toThrow('no space left');
    expect(
      walk(root)
        .filter((f) => f !== 'a' && !f.startsWith('a/'))
        .sort(),
    ).toEqual(['kept']);
    expect(walk(root).filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(fs.readFileSync(path.join(root, 'kept'), 'utf8')).toBe('old');
  });

  it('stores a key at the matching path under the root', async () => {
    await store.put('x/y/z', Buffer.from('hello'));
    expect(fs.readFileSync(path.join(root, 'x', 'y', 'z'), 'utf8')).toBe('hello');
  });

  it('cannot read, overwrite or delete files outside the root', async () => {
    // The root's parent holds a file that escaping keys would hit.
    const outside = path.join(path.dirname(root), `outside-${n}`);
    fs.writeFileSync(outside, 'do not touch');
    const name = path.basename(outside);
    const escaping = [`../${name}`, `a/../../${name}`, outside];

    for (const key of escaping) {
      await expect((async () => store.put(key, Buffer.from('pwned')))(), `put ${key}`).rejects.toThrow();
      let got: unknown = null;
      try {
        got = await store.get(key);
      } catch {
        got = null;
      }
      expect(got, `get ${key}`).toBeNull();
      try {
        await store.delete(key);
      } catch {
        // refused: fine
      }
    }
    expect(fs.readFileSync(outside, 'utf8')).toBe('do not touch');
    expect(walk(root)).toEqual([]);
  });
});

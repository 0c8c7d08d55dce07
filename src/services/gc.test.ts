import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createFsBlobStore } from '../storage/fs/index.js';
import { createSqliteMetadataStore } from '../storage/sqlite/index.js';
import type { BlobStore } from '../storage/types.js';
import { collectGarbage, GC_CONCURRENCY } from './gc.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The files store, each read held back `delayMs`, counting how many reads run at once. */
function slowReads(inner: BlobStore, delayMs: number): { blobs: BlobStore; peak: () => number } {
  let now = 0;
  let peak = 0;
  const blobs: BlobStore = Object.create(inner);
  blobs.get = async (key, opts) => {
    now++;
    peak = Math.max(peak, now);
    try {
      await new Promise((r) => setTimeout(r, delayMs));
      return await inner.get(key, opts);
    } finally {
      now--;
    }
  };
  return { blobs, peak: () => peak };
}

describe('collectGarbage', () => {
  it('checks unreferenced blobs GC_CONCURRENCY at a time and deletes every old one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pictor-gc-'));
    dirs.push(dir);
    const store = createSqliteMetadataStore({ filename: join(dir, 'db.sqlite') });
    await store.migrate();
    const files = createFsBlobStore({ root: join(dir, 'blobs') });
    for (let i = 0; i < 30; i++) await files.put(`originals/orphan-${i}`, Buffer.from(`orphan ${i}`));
    await files.put('renditions/aa/not-an-original', Buffer.from('kept'));
    const { blobs, peak } = slowReads(files, 20);
    // Every blob is older than the grace period from an hour ahead.
    const result = await collectGarbage({ store, blobs, clock: { now: () => Date.now() + 3600_000 } }, 0);
    expect(result).toMatchObject({ scanned: 30, deleted: 30, young: 0, failed: 0 });
    expect(peak(), 'reads at once').toBe(GC_CONCURRENCY);
    const left: string[] = [];
    for await (const k of files.list()) left.push(k);
    expect(left).toEqual(['renditions/aa/not-an-original']);
    await store.close();
  });
});

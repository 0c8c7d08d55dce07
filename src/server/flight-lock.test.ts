import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RenditionCache, type Rendition } from '../delivery/cache.js';
import { createFsBlobStore } from '../storage/fs/index.js';
import { restartDelay } from './cluster.js';
import { createFileFlightLock } from './flight-lock.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'pictor-lock-'));
  dirs.push(d);
  return d;
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  return r.pid!;
}

describe('createFileFlightLock', () => {
  it('one holder at a time; released() resolves once the holder releases', async () => {
    const lock = createFileFlightLock({ dir: join(tmp(), 'locks'), staleMs: 60_000, pollMs: 5 });
    const release = await lock.tryAcquire('abc');
    expect(release).not.toBeNull();
    expect(await lock.tryAcquire('abc')).toBeNull();
    expect(await lock.tryAcquire('other')).not.toBeNull();
    let freed = false;
    const waiting = lock.released('abc').then(() => (freed = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(freed).toBe(false);
    await release!();
    await waiting;
    expect(freed).toBe(true);
    expect(await lock.tryAcquire('abc')).not.toBeNull();
  });

  it('takes over the lock of a holder that died, and one older than staleMs', async () => {
    const dir = join(tmp(), 'locks');
    const lock = createFileFlightLock({ dir, staleMs: 60_000, pollMs: 5 });
    writeFileSync(join(dir, 'dead.lock'), String(deadPid()));
    await lock.released('dead'); // resolves: nobody holds it
    expect(await lock.tryAcquire('dead')).not.toBeNull();
    // A live holder (this process) that has held it far too long.
    writeFileSync(join(dir, 'stuck.lock'), String(process.pid));
    expect(await lock.tryAcquire('stuck')).toBeNull();
    const old = new Date(Date.now() - 120_000);
    utimesSync(join(dir, 'stuck.lock'), old, old);
    expect(await lock.tryAcquire('stuck')).not.toBeNull();
  });

  it('two rendition caches (two processes) on one disk tier and lock dir: concurrent misses run one produce', async () => {
    const root = tmp();
    const disk = createFsBlobStore({ root: join(root, 'cache') });
    const make = () =>
      new RenditionCache({
        memoryBytes: 1024 * 1024,
        disk,
        lock: createFileFlightLock({ dir: join(root, 'cache', 'locks'), staleMs: 60_000, pollMs: 5 }),
      });
    const [a, b] = [make(), make()];
    let produced = 0;
    const produce = async (): Promise<Rendition> => {
      produced++;
      await new Promise((r) => setTimeout(r, 100));
      return { body: Buffer.from('rendition bytes'), contentType: 'image/webp' };
    };
    const results = await Promise.all([
      ...Array.from({ length: 8 }, () => a.getOrProduce('d1', produce)),
      ...Array.from({ length: 8 }, () => b.getOrProduce('d1', produce)),
    ]);
    expect(produced).toBe(1);
    expect(results.filter((r) => !r.hit)).toHaveLength(1);
    for (const r of results) expect(r.rendition.body.toString()).toBe('rendition bytes');
    // A failed produce releases the lock: the other cache then produces it itself.
    let failures = 0;
    const failing = async (): Promise<Rendition> => {
      failures++;
      throw new Error('transform failed');
    };
    await expect(a.getOrProduce('d2', failing)).rejects.toThrow('transform failed');
    const after = await b.getOrProduce('d2', produce);
    expect(after.hit).toBe(false);
    expect(failures).toBe(1);
    await disk.close();
  });
});

describe('restartDelay', () => {
  it('100 ms, doubling per crash in the last minute, at most 30 s', () => {
    expect([1, 2, 3, 4, 9, 10, 50].map(restartDelay)).toEqual([100, 200, 400, 800, 25_600, 30_000, 30_000]);
  });
});

/**
 * Rendition cache: a bounded in-memory LRU for hot renditions in front of a BlobStore (disk by
 * default) for the rest, plus single-flight so concurrent misses for one key run one transform.
 * Keys carry the image's blob key and version and the variant's version, so a purge is exact by
 * construction: a changed or deleted image or variant can never map to an old key.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { BlobStore } from '../storage/types.js';

export interface Rendition {
  body: Buffer;
  contentType: string;
}

/** Told of every lookup in a tier: hit or miss, and the bytes of a hit (metrics). */
export type CacheObserver = (tier: 'memory' | 'disk', hit: boolean, bytes: number) => void;

/**
 * Single-flight across the processes of a node (PICTOR_PROCESSES > 1): one lock per rendition digest.
 * The holder produces the rendition and releases the lock once it is in the disk tier, where the others
 * then find it.
 */
export interface FlightLock {
  /** The lock for `digest`, or null when a live holder has it (a dead or stale holder's lock is taken over). */
  tryAcquire(digest: string): Promise<(() => Promise<void>) | null>;
  /** Resolves once the lock for `digest` is free (released, or its holder died or went stale). */
  released(digest: string): Promise<void>;
}

export interface RenditionCacheOptions {
  memoryBytes: number;
  disk?: BlobStore | undefined;
  observe?: CacheObserver | undefined;
  /** Cross-process single-flight; needs `disk` (where the holder leaves the rendition for the others). */
  lock?: FlightLock | undefined;
}

/** sha256 of the logical key: the disk name and (a prefix of) the ETag. */
export function digestKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export class RenditionCache {
  private readonly memory: LRUCache<string, Rendition> | undefined;
  private readonly inflight = new Map<string, Promise<Rendition>>();

  constructor(private readonly opts: RenditionCacheOptions) {
    if (opts.memoryBytes > 0) {
      this.memory = new LRUCache<string, Rendition>({
        maxSize: opts.memoryBytes,
        sizeCalculation: (r) => Math.max(1, r.body.length),
        // A single rendition larger than an eighth of the cache would evict too much.
        maxEntrySize: Math.max(1, Math.floor(opts.memoryBytes / 8)),
      });
    }
  }

  /** The rendition for `digest` if it is in memory (synchronous: the fast path uses it). */
  peek(digest: string): Rendition | undefined {
    // Only a hit is counted here: a miss goes on to getOrProduce, which counts it.
    const r = this.memory?.get(digest);
    if (r) this.opts.observe?.('memory', true, r.body.length);
    return r;
  }

  private memoryGet(digest: string): Rendition | undefined {
    if (!this.memory) return undefined;
    const r = this.memory.get(digest);
    this.opts.observe?.('memory', r !== undefined, r?.body.length ?? 0);
    return r;
  }

  /** The rendition for `digest`, from memory or disk. */
  async get(digest: string): Promise<{ rendition: Rendition; tier: 'memory' | 'disk' } | undefined> {
    const hot = this.memoryGet(digest);
    if (hot) return { rendition: hot, tier: 'memory' };
    return this.diskGet(digest);
  }

  private async diskGet(digest: string): Promise<{ rendition: Rendition; tier: 'disk' } | undefined> {
    if (!this.opts.disk) return undefined;
    // A failing second tier fails the request (503): when it is the blob store, the original could
    // not be read either, and waiting for both to time out would double the wait.
    const obj = await this.opts.disk.get(diskKey(digest));
    const rendition = obj ? decode(obj.body) : undefined;
    this.opts.observe?.('disk', rendition !== undefined, rendition?.body.length ?? 0);
    if (!rendition) return undefined;
    this.memory?.set(digest, rendition);
    return { rendition, tier: 'disk' };
  }

  /**
   * Returns the cached rendition or produces it once, however many callers ask at the same time.
   * `produced` tells the caller whether this call ran `produce`.
   */
  async getOrProduce(
    digest: string,
    produce: () => Promise<Rendition>,
  ): Promise<{ rendition: Rendition; hit: boolean }> {
    // Memory check, flight lookup and flight registration happen with no await in between, and the
    // disk lookup runs inside the flight: every concurrent miss joins the same one.
    const hot = this.memoryGet(digest);
    if (hot) return { rendition: hot, hit: true };
    let flight = this.inflight.get(digest);
    if (flight) return { rendition: await flight, hit: true };
    let produced = false;
    flight = (async () => {
      try {
        const onDisk = await this.diskGet(digest);
        if (onDisk) return onDisk.rendition;
        const lock = this.opts.disk ? this.opts.lock : undefined;
        if (!lock) {
          produced = true;
          const r = await produce();
          this.memory?.set(digest, r);
          // The disk write is not awaited by the response: a failed write only costs a later transform.
          void this.opts.disk?.put(diskKey(digest), encode(r)).catch(() => undefined);
          return r;
        }
        // Another process of this node may be producing it: the lock's holder produces, the others wait
        // for the lock to be released and read the disk tier.
        for (;;) {
          const release = await lock.tryAcquire(digest);
          if (!release) {
            await lock.released(digest);
            const made = await this.diskGet(digest);
            if (made) return made.rendition;
            continue; // The holder failed (or its disk write did): try to produce it here.
          }
          let r: Rendition;
          try {
            // The previous holder may have finished between the first disk read and the lock.
            const made = await this.diskGet(digest);
            if (made) {
              await release();
              return made.rendition;
            }
            produced = true;
            r = await produce();
          } catch (e) {
            await release();
            throw e;
          }
          this.memory?.set(digest, r);
          // The response does not wait for the disk write; the lock is held until it is done, so a
          // waiting process finds the rendition there.
          void this.opts
            .disk!.put(diskKey(digest), encode(r))
            .catch(() => undefined)
            .then(release)
            .catch(() => undefined);
          return r;
        }
      } finally {
        this.inflight.delete(digest);
      }
    })();
    this.inflight.set(digest, flight);
    const rendition = await flight;
    return { rendition, hit: !produced };
  }

  stats(): { memoryEntries: number; memoryBytes: number; inflight: number } {
    return {
      memoryEntries: this.memory?.size ?? 0,
      memoryBytes: this.memory?.calculatedSize ?? 0,
      inflight: this.inflight.size,
    };
  }
}

function diskKey(digest: string): string {
  return `renditions/${digest.slice(0, 2)}/${digest}`;
}

/** Disk format: the content type, a newline, the bytes. */
function encode(r: Rendition): Buffer {
  return Buffer.concat([Buffer.from(`${r.contentType}\n`, 'utf8'), r.body]);
}

function decode(buf: Buffer): Rendition | undefined {
  const nl = buf.indexOf(0x0a);
  if (nl <= 0 || nl > 100) return undefined;
  return { contentType: buf.subarray(0, nl).toString('utf8'), body: buf.subarray(nl + 1) };
}

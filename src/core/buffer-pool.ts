/**
 * Large buffers kept for reuse: the file parts of uploads (api/multipart.ts) and the originals that
 * renditions are made from (delivery/render.ts). Reading an 8 MB original into a fresh buffer cost 4–5 ms here, most
 * of it the page faults of never-touched memory; into a reused one, under 1 ms (the first hit of a
 * 24 MP image, bench/README.md benchmark 2). Hand-written: Node pools only allocations under 4 KiB.
 *
 * `take` hands out the smallest kept buffer that is large enough (or a new one, rounded up to a MiB so
 * that later, slightly larger requests fit it too); `give` keeps it while the pool holds under
 * `maxBytes`. A buffer given back must no longer be read or written by anyone.
 */
const MiB = 1024 * 1024;

export class BufferPool {
  private readonly kept: Buffer[] = [];
  private keptBytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** A buffer of at least `size` bytes (its contents are whatever it held). */
  take(size: number): Buffer {
    let best = -1;
    for (let i = 0; i < this.kept.length; i++) {
      const b = this.kept[i]!;
      if (b.length >= size && (best < 0 || b.length < this.kept[best]!.length)) best = i;
    }
    if (best >= 0) {
      const [b] = this.kept.splice(best, 1);
      this.keptBytes -= b!.length;
      return b!;
    }
    return Buffer.allocUnsafeSlow(Math.max(MiB, Math.ceil(size / MiB) * MiB));
  }

  give(buf: Buffer): void {
    if (this.keptBytes + buf.length > this.maxBytes) return;
    this.kept.push(buf);
    this.keptBytes += buf.length;
  }

  /** Bytes kept now (for tests). */
  get bytes(): number {
    return this.keptBytes;
  }

  /** Buffers kept now (for tests). */
  get count(): number {
    return this.kept.length;
  }
}

/**
 * Originals fetched for transformation URLs, cached on disk (the rendition cache's second tier,
 * under `sources/`) and revalidated with the origin's `ETag` / `Last-Modified` once their
 * `Cache-Control` lifetime has passed: a 304 keeps the cached bytes and renews their lifetime, a 200
 * replaces them. Concurrent requests for one source share one fetch (single-flight). A small memory
 * index holds each source's record (validators, lifetime, version) so a request whose rendition is
 * cached never reads the original.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { LRUCache } from 'lru-cache';
import type { Clock } from '../core/clock.js';
import type { ImageFacts, ImageFormat } from '../core/types.js';
import { probe } from '../pipeline/probe.js';
import { fetchOrigin, FetchUrlError, type FetchUrlOptions } from '../security/fetch-url.js';
import type { BlobStore } from '../storage/types.js';
import type { FlightLock } from './cache.js';

/** What is known about one cached source. */
export interface SourceRecord {
  url: string;
  /** Changes whenever the bytes change (sha256 of them): part of every rendition's cache key. */
  version: string;
  size: number;
  etag: string | null;
  lastModified: string | null;
  /** The origin's Cache-Control, or null. */
  cacheControl: string | null;
  /** When the record must be revalidated (ms). */
  expiresAt: number;
  /** Whether the origin forbade storing the bytes (`no-store`). */
  noStore: boolean;
  /** The format from the bytes (never the origin's Content-Type); null: not an image Pictor reads. */
  format: ImageFormat | null;
  /** Read once from the header when the bytes arrive; null when unreadable. */
  facts: ImageFacts | null;
}

/** Lifetime when the origin sends neither `max-age` nor `Expires` (a heuristic, as caches use). */
export const DEFAULT_SOURCE_TTL_S = 3600;

/**
 * The lifetime in seconds an origin's headers give: `s-maxage`, else `max-age`, else `Expires`,
 * else the default; `no-cache` and `no-store` mean 0 (revalidate on every use).
 * @example lifetimeOf({ 'cache-control': 'public, max-age=60' }, Date.now()) // 60
 */
export function lifetimeOf(headers: IncomingHttpHeaders, now: number): number {
  const cc = (headers['cache-control'] ?? '').toLowerCase();
  if (/(^|[,\s])(no-cache|no-store)([,\s=]|$)/.test(cc)) return 0;
  const m = /(?:^|[,\s])s-maxage=(\d+)/.exec(cc) ?? /(?:^|[,\s])max-age=(\d+)/.exec(cc);
  if (m) return Number(m[1]);
  const expires = headers.expires ? Date.parse(headers.expires) : NaN;
  if (!Number.isNaN(expires)) return Math.max(0, Math.floor((expires - now) / 1000));
  return DEFAULT_SOURCE_TTL_S;
}

const one = (v: string | string[] | undefined): string | null =>
  Array.isArray(v) ? (v[0] ?? null) : (v ?? null);

export interface OriginCacheOptions {
  disk: BlobStore | undefined;
  fetch: FetchUrlOptions;
  clock: Clock;
  /** Records kept in memory. */
  maxRecords?: number;
  /** Single-flight across the processes of a node (PICTOR_PROCESSES > 1): one origin fetch per URL. */
  lock?: FlightLock | undefined;
}

export class OriginCache {
  private readonly records: LRUCache<string, SourceRecord>;
  private readonly inflight = new Map<string, Promise<{ record: SourceRecord; data?: Buffer }>>();
  /** Bytes of `no-store` sources or when there is no disk: kept only for the request that fetched them. */
  private readonly transient = new Map<string, Buffer>();
  /** How many requests reached the origin (for tests and metrics). */
  fetches = 0;

  constructor(private readonly opts: OriginCacheOptions) {
    this.records = new LRUCache({ max: opts.maxRecords ?? 10_000 });
  }

  /**
   * A fresh record for `url`: the cached one while its lifetime lasts, else revalidated (or fetched)
   * once for everyone asking. `data` is set when this call fetched the bytes.
   */
  async fresh(url: string): Promise<{ record: SourceRecord; data?: Buffer }> {
    const known = this.records.get(url) ?? (await this.readRecord(url));
    if (known && known.expiresAt > this.opts.clock.now()) return { record: known };
    let flight = this.inflight.get(url);
    if (!flight) {
      flight = (
        this.opts.lock && this.opts.disk
          ? this.acrossProcesses(url, known, this.opts.lock)
          : this.revalidate(url, known)
      ).finally(() => this.inflight.delete(url));
      this.inflight.set(url, flight);
    }
    return flight;
  }

  /**
   * revalidate() once across the node's processes: the lock's holder fetches and stores the record;
   * the others wait for the lock to go and read the fresh record from disk (or fetch themselves when
   * the holder could not store one: a failed fetch, a no-store source).
   */
  private async acrossProcesses(
    url: string,
    known: SourceRecord | undefined,
    lock: FlightLock,
  ): Promise<{ record: SourceRecord; data?: Buffer }> {
    const key = `origin-${createHash('sha256').update(url).digest('hex')}`;
    for (;;) {
      const release = await lock.tryAcquire(key);
      if (!release) {
        await lock.released(key);
        const stored = await this.readRecord(url);
        if (stored && stored.expiresAt > this.opts.clock.now()) {
          this.records.set(url, stored);
          return { record: stored };
        }
        continue;
      }
      try {
        const stored = await this.readRecord(url);
        if (stored && stored.expiresAt > this.opts.clock.now()) {
          this.records.set(url, stored);
          return { record: stored };
        }
        return await this.revalidate(url, stored ?? known);
      } finally {
        await release();
      }
    }
  }

  /** The bytes of a record (from disk; refetched when the disk lost them). */
  async bytes(record: SourceRecord): Promise<Buffer> {
    const held = this.transient.get(record.version);
    if (held) return held;
    const obj = await this.opts.disk?.get(dataKey(record.url));
    if (obj && sha(obj.body) === record.version) return obj.body;
    // Lost or replaced underneath: fetch again, unconditionally.
    this.records.delete(record.url);
    const again = await this.revalidate(record.url, undefined);
    return again.data ?? (await this.bytes(again.record));
  }

  private async revalidate(
    url: string,
    known: SourceRecord | undefined,
  ): Promise<{ record: SourceRecord; data?: Buffer }> {
    const headers: Record<string, string> = { ...this.opts.fetch.headers };
    if (known?.etag) headers['if-none-match'] = known.etag;
    if (known?.lastModified) headers['if-modified-since'] = known.lastModified;
    this.fetches++;
    const got = await fetchOrigin(url, { ...this.opts.fetch, headers });
    const now = this.opts.clock.now();
    const ttl = lifetimeOf(got.headers, now);
    if (got.status === 304 && known) {
      const record: SourceRecord = {
        ...known,
        etag: one(got.headers.etag) ?? known.etag,
        lastModified: one(got.headers['last-modified']) ?? known.lastModified,
        cacheControl: one(got.headers['cache-control']) ?? known.cacheControl,
        expiresAt: now + ttl * 1000,
      };
      await this.store(record);
      return { record };
    }
    if (got.status === 304) {
      // A 304 to a request without validators: nothing cached to reuse.
      throw new FetchUrlError({
        kind: 'origin',
        message: 'The origin answered HTTP 304 to a request without validators',
        reason: 'status',
        status: 304,
      });
    }
    const cc = one(got.headers['cache-control']);
    const info = await probe(got.data);
    const record: SourceRecord = {
      url,
      version: sha(got.data),
      size: got.data.length,
      etag: one(got.headers.etag),
      lastModified: one(got.headers['last-modified']),
      cacheControl: cc,
      expiresAt: now + ttl * 1000,
      noStore: /(^|[,\s])no-store([,\s]|$)/i.test(cc ?? ''),
      format: info?.format ?? null,
      facts: info?.facts ?? null,
    };
    const hold = () => {
      // Held only while renditions are produced from it; the next request fetches again.
      this.transient.set(record.version, got.data);
      setTimeout(() => this.transient.delete(record.version), 60_000).unref();
    };
    if (record.noStore || !this.opts.disk) {
      hold();
    } else {
      try {
        await this.opts.disk.put(dataKey(url), got.data);
      } catch {
        // The disk refused the copy (full, say): serve this request from memory and keep no record,
        // so the next request fetches again instead of finding a record without its bytes.
        this.records.delete(url);
        hold();
        return { record, data: got.data };
      }
    }
    await this.store(record);
    return { record, data: got.data };
  }

  private async store(record: SourceRecord): Promise<void> {
    if (record.noStore) return;
    this.records.set(record.url, record);
    await this.opts.disk
      ?.put(recordKey(record.url), Buffer.from(JSON.stringify(record), 'utf8'))
      .catch(() => undefined);
  }

  private async readRecord(url: string): Promise<SourceRecord | undefined> {
    const obj = await this.opts.disk?.get(recordKey(url)).catch(() => null);
    if (!obj) return undefined;
    try {
      const record = JSON.parse(obj.body.toString('utf8')) as SourceRecord;
      if (record.url !== url) return undefined;
      this.records.set(url, record);
      return record;
    } catch {
      return undefined;
    }
  }
}

function sha(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function dataKey(url: string): string {
  const h = sha(Buffer.from(url, 'utf8'));
  return `sources/${h.slice(0, 2)}/${h}`;
}

function recordKey(url: string): string {
  return `${dataKey(url)}.json`;
}

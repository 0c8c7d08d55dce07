/**
 * Garbage collection of original blobs that no image row references: left by a node killed between
 * writing a blob and inserting its row, or by a delete whose blob removal failed. A blob younger than
 * the grace period may belong to an upload still in flight (its row not inserted yet), so it is kept;
 * an upload writes its row within seconds of its blob, so after the grace period an unreferenced blob
 * is garbage for certain.
 */
import type { Clock } from '../core/clock.js';
import type { BlobStore, MetadataStore } from '../storage/types.js';

export const ORIGINALS_PREFIX = 'originals/';
export const DEFAULT_GC_GRACE_MS = 3600_000;
/** Unreferenced blobs checked (read, then deleted) at once. */
export const GC_CONCURRENCY = 8;

export interface GcResult {
  scanned: number;
  deleted: number;
  /** Unreferenced but younger than the grace period. */
  young: number;
  /** Partial writes removed (files backend). */
  partial: number;
  /** Objects that could not be read or deleted (left for the next run). */
  failed: number;
}

/**
 * Deletes unreferenced originals older than `graceMs`.
 * @example await collectGarbage({ store, blobs, clock }, 3600_000)
 */
export async function collectGarbage(
  deps: { store: MetadataStore; blobs: BlobStore; clock: Clock },
  graceMs = DEFAULT_GC_GRACE_MS,
): Promise<GcResult> {
  const referenced = new Set<string>();
  for await (const key of deps.store.referencedBlobKeys()) referenced.add(key);
  const result: GcResult = { scanned: 0, deleted: 0, young: 0, partial: 0, failed: 0 };
  const cutoff = deps.clock.now() - graceMs;
  if (deps.blobs.sweepIncomplete) result.partial = await deps.blobs.sweepIncomplete(new Date(cutoff));
  /** Reads one unreferenced blob's age and deletes it when old enough; never throws. */
  const check = async (key: string): Promise<void> => {
    // One unreadable object must not stop the collection: count it and go on.
    try {
      // A one-byte range read gives the object's age without fetching it; an empty object (a write
      // cut short on some S3-compatible servers) cannot serve a range, so it is read whole.
      const head = await deps.blobs
        .get(key, { range: { start: 0, end: 0 } })
        .catch(() => deps.blobs.get(key));
      if (!head) return;
      if (head.lastModified.getTime() > cutoff) {
        result.young++;
        return;
      }
      await deps.blobs.delete(key);
      result.deleted++;
    } catch {
      result.failed++;
    }
  };
  // GC_CONCURRENCY checks at a time: on S3 each is a round trip (and an object that does not answer
  // costs the client's timeouts), so one at a time made a run's length the sum of them all.
  const running = new Set<Promise<void>>();
  for await (const key of deps.blobs.list()) {
    if (!key.startsWith(ORIGINALS_PREFIX)) continue;
    result.scanned++;
    if (referenced.has(key)) continue;
    const p: Promise<void> = check(key).finally(() => running.delete(p));
    running.add(p);
    if (running.size >= GC_CONCURRENCY) await Promise.race(running);
  }
  await Promise.all(running);
  return result;
}

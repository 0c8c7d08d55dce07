/**
 * Writing images into an account through the ordinary upload API, shared by migrate and import: an
 * image already there with the same bytes is skipped (edited fields brought over), one with other
 * bytes is a conflict unless `overwrite`; a generated (UUID) id the target refuses becomes a new id.
 */
import { isDeepStrictEqual } from 'node:util';
import { sha256 } from './api-source.js';
import type { Outcome } from './engine.js';
import { ApiError, hashFromDeliveryUrl, metaOf, type ImageJson, type ImagesApi } from './images-api.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What an image to write carries; no id: the target generates one (never "present"). */
export interface SinkImage {
  id?: string | undefined;
  filename?: string | null | undefined;
  meta?: Record<string, unknown> | undefined;
  creator?: string | null | undefined;
  requireSignedURLs: boolean;
  /** ISO 8601; sent as the `uploaded` Pictor extension. */
  uploaded?: string | undefined;
}

export const creatorOf = (i: { creator?: string | null | undefined }) => i.creator ?? null;

export interface SinkStats {
  lostTimes: number;
  conflicts: number;
  idChanges: Array<{ from: string; to: string }>;
  idChangeCount: number;
  targetHash: string | undefined;
}

export function createSink(to: ImagesApi, opts: { overwrite: boolean }) {
  const stats: SinkStats = {
    lostTimes: 0,
    conflicts: 0,
    idChanges: [],
    idChangeCount: 0,
    targetHash: undefined,
  };
  let uuidRefused = false;
  const metaOfImage = (i: SinkImage) => i.meta ?? {};

  const upload = async (image: SinkImage, data: Buffer): Promise<ImageJson> => {
    const fields = {
      data,
      filename: image.filename ?? (image.id ?? 'image').split('/').pop()!,
      metadata: metaOfImage(image),
      creator: creatorOf(image),
      requireSignedURLs: image.requireSignedURLs,
      uploaded: image.uploaded,
    };
    if (image.id === undefined) return to.upload(fields);
    const generated = UUID_RE.test(image.id);
    if (!(generated && uuidRefused)) {
      try {
        return await to.upload({ ...fields, id: image.id });
      } catch (e) {
        // Cloudflare refuses UUID-shaped custom ids: such an image gets a new id there.
        if (!(generated && e instanceof ApiError && e.status === 400)) throw e;
        uuidRefused = true;
      }
    }
    const { uploaded: _, ...plain } = fields;
    return to.upload(plain);
  };

  /** An image with this id is already on the target: skip it, update its fields, or report a conflict. */
  const present = async (
    image: SinkImage & { id: string },
    there: ImageJson,
    bytes: () => Promise<Buffer>,
    dry: boolean,
  ): Promise<Outcome> => {
    const [mine, theirs] = await Promise.all([bytes(), to.blob(image.id)]);
    if (sha256(mine) !== sha256(theirs)) {
      if (!opts.overwrite) {
        stats.conflicts += 1;
        throw new Error(
          'conflict: the target has an image with this id and other bytes (kept; --overwrite replaces it)',
        );
      }
      if (dry)
        return { result: 'copied', bytes: mine.length, note: 'would replace the target image (--overwrite)' };
      await to.delete(image.id);
      const done = await upload(image, mine);
      return { result: 'copied', bytes: mine.length, note: `replaced ${done.id}` };
    }
    // Same bytes: present. Fields edited on the source since an earlier run are brought over.
    const patch: {
      metadata?: Record<string, unknown>;
      creator?: string | null;
      requireSignedURLs?: boolean;
    } = {};
    if (!isDeepStrictEqual(metaOf(there), metaOfImage(image))) patch.metadata = metaOfImage(image);
    if (creatorOf(there) !== creatorOf(image)) patch.creator = creatorOf(image);
    if (there.requireSignedURLs !== image.requireSignedURLs)
      patch.requireSignedURLs = image.requireSignedURLs;
    if (Object.keys(patch).length > 0 && !dry) await to.patch(image.id, patch);
    return {
      result: 'skipped',
      bytes: 0,
      note: Object.keys(patch).length > 0 ? `present; updated ${Object.keys(patch).join(', ')}` : 'present',
    };
  };

  /** Writes one image whose bytes `bytes()` gives (called only when needed). */
  const put = async (image: SinkImage, bytes: () => Promise<Buffer>, dry: boolean): Promise<Outcome> => {
    const id = image.id;
    const there = id === undefined ? null : await to.details(id);
    if (there) return present({ ...image, id: id! }, there, bytes, dry);
    // A dry run lists what it would copy without downloading it (bytes unknown: 0).
    if (dry) return { result: 'copied', bytes: 0, note: 'would copy' };
    const data = await bytes();
    let done: ImageJson;
    try {
      done = await upload(image, data);
    } catch (e) {
      // Another writer (an earlier run's last upload, still landing) got there first: compare.
      const now = id !== undefined && e instanceof ApiError && e.status === 409 ? await to.details(id) : null;
      if (now) return present({ ...image, id: id! }, now, async () => data, dry);
      throw e;
    }
    stats.targetHash ??= done.variants.map(hashFromDeliveryUrl).find(Boolean);
    if (id !== undefined && done.id !== id) {
      stats.idChangeCount += 1;
      if (stats.idChanges.length < 1000) stats.idChanges.push({ from: id, to: done.id });
    }
    if (image.uploaded !== undefined && done.uploaded !== image.uploaded) stats.lostTimes += 1;
    return { result: 'copied', bytes: data.length };
  };

  return { put, stats };
}

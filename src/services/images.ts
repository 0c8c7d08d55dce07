/**
 * Image use cases: upload (through the one ingest path, services/ingest.ts), list, details, edit,
 * delete and the original blob.
 */
import { AppError, appError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import { isUuid, newBlobKey } from '../core/ids.js';
import type { ImageFacts, ImageRecord } from '../core/types.js';
import { sanitizeSvg, SVG_SANITIZER_VERSION } from '../pipeline/svg-sanitize.js';
import type { BlobStore, ImagePatch, ListImagesV2Query, MetadataStore } from '../storage/types.js';
import { checkCreator, checkMetadata, type Ingest, type UploadInput } from './ingest.js';

export type { UploadInput } from './ingest.js';

export interface ImagesDeps {
  store: MetadataStore;
  blobs: BlobStore;
  clock: Clock;
  /** The ingest path every upload takes. */
  ingest: Ingest;
  /** Called after the row is gone (or changed) so caches can drop the image's renditions. */
  onPurge?: (accountId: string, imageId: string) => void;
}

export class ImagesService {
  constructor(private readonly deps: ImagesDeps) {}

  /** Stores an upload from a file or a URL (services/ingest.ts does the work). */
  upload(input: UploadInput): Promise<ImageRecord> {
    return this.deps.ingest.upload(input);
  }

  /** The image row or null (delivery uses this; it maps absence onto its own error). */
  find(accountId: string, id: string): Promise<ImageRecord | null> {
    return this.deps.store.getImage(accountId, id);
  }

  /**
   * Records the facts of an image stored before facts were kept (delivery read them from the
   * original's header). Best effort: a failed write only means the next rendition reads them again.
   */
  async recordFacts(image: ImageRecord, facts: ImageFacts): Promise<void> {
    if (!image.blobKey) return;
    await this.deps.store
      .setImageFacts(image.accountId, image.id, image.blobKey, facts)
      .catch(() => undefined);
  }

  /** The original bytes of a stored (non-draft) image (an SVG cleaned by the current rules first). */
  /** The stored bytes; `into` as for BlobStore.get (a pooled buffer they may be read into). */
  async original(image: ImageRecord, into?: (size: number) => Buffer): Promise<Buffer> {
    const current = await this.upToDate(image);
    if (!current.blobKey) throw appError('imageNotFound');
    const obj = await this.deps.blobs.get(current.blobKey, into ? { into } : undefined);
    if (!obj) throw appError('storageError', 'The original of this image is missing from the blob store');
    return obj.body;
  }

  /**
   * The image, with an SVG stored under older sanitiser rules (`svgSanitizer` below
   * SVG_SANITIZER_VERSION, null before versions were kept) cleaned again by the current ones: the
   * clean bytes go to a fresh blob key, the row moves to it only if it still points at the old one
   * (another node may have done the same), then the old blob is removed and caches are purged.
   */
  async upToDate(image: ImageRecord): Promise<ImageRecord> {
    if (image.format !== 'svg' || !image.blobKey || (image.svgSanitizer ?? 1) >= SVG_SANITIZER_VERSION)
      return image;
    const { store, blobs } = this.deps;
    const obj = await blobs.get(image.blobKey);
    if (!obj) throw appError('storageError', 'The original of this image is missing from the blob store');
    const clean = sanitizeSvg(obj.body);
    if (!clean)
      throw appError('unsupportedFormat', 'The stored SVG cannot be made safe by the current sanitiser');
    const blobKey = `originals/${newBlobKey()}`;
    try {
      await blobs.put(blobKey, clean);
    } catch (cause) {
      throw new AppError('storageError', { cause });
    }
    const next = { blobKey, size: clean.length, svgSanitizer: SVG_SANITIZER_VERSION };
    const updated = await store
      .replaceImageBlob(image.accountId, image.id, image.blobKey, next)
      .catch(async (cause: unknown) => {
        await blobs.delete(blobKey).catch(() => undefined);
        throw new AppError('storageError', { cause });
      });
    if (!updated) {
      // Changed meanwhile (cleaned by another request or node, replaced, deleted): use what is there now.
      await blobs.delete(blobKey).catch(() => undefined);
      const now = await store.getImage(image.accountId, image.id);
      if (!now || (now.svgSanitizer ?? 1) < SVG_SANITIZER_VERSION) throw appError('imageNotFound');
      return now;
    }
    this.deps.onPurge?.(image.accountId, image.id);
    await blobs.delete(image.blobKey).catch(() => undefined);
    return updated;
  }

  /** A visible image (drafts included: details show them with `draft: true`). */
  async get(accountId: string, id: string): Promise<ImageRecord> {
    const image = await this.deps.store.getImage(accountId, id);
    // An expired draft is gone even before the sweeper deletes its row.
    if (!image || (image.draft && image.expiresAt !== null && image.expiresAt < this.deps.clock.now()))
      throw appError('imageNotFound');
    return image;
  }

  list(
    accountId: string,
    page: number,
    perPage: number,
    creator: string | null | undefined,
  ): Promise<ImageRecord[]> {
    return this.deps.store.listImages(accountId, { offset: (page - 1) * perPage, limit: perPage, creator });
  }

  /** A v2 page: keyset-paginated, filtered in the store's indexes; `next` is the position to continue after. */
  listV2(
    accountId: string,
    query: ListImagesV2Query,
  ): Promise<{ images: ImageRecord[]; next: number | null }> {
    return this.deps.store.listImagesV2(accountId, query);
  }

  async update(accountId: string, id: string, patch: ImagePatch): Promise<ImageRecord> {
    const image = await this.get(accountId, id);
    if (patch.meta !== undefined && patch.meta !== null) {
      const why = checkMetadata(patch.meta);
      if (why) throw appError('badRequest', why);
    }
    if (patch.requireSignedURLs === true && !isUuid(image.id)) {
      throw appError('badRequest', 'Images with a custom ID cannot require signed URLs');
    }
    if (patch.creator !== undefined && patch.creator !== null) {
      const why = checkCreator(patch.creator);
      if (why) throw appError('badRequest', why);
    }
    const updated = await this.deps.store.updateImage(accountId, id, patch);
    if (!updated) throw appError('imageNotFound');
    this.deps.onPurge?.(accountId, id);
    return updated;
  }

  /** Deletes the row first, then the blob; a left-over blob is garbage for `gc`, never corruption. */
  async delete(accountId: string, id: string): Promise<void> {
    await this.get(accountId, id); // 404 for unknown ids and expired drafts alike
    const gone = await this.deps.store.deleteImage(accountId, id);
    if (!gone) throw appError('imageNotFound');
    this.deps.onPurge?.(accountId, id);
    if (gone.blobKey) await this.deps.blobs.delete(gone.blobKey).catch(() => undefined);
  }

  /** The stored original bytes and their content type. */
  async blob(accountId: string, id: string): Promise<{ data: Buffer; contentType: string; etag: string }> {
    const found = await this.get(accountId, id);
    if (found.draft || !found.blobKey)
      throw appError('imageNotFound', 'Image not found (the upload has not completed)');
    const image = await this.upToDate(found);
    const obj = await this.deps.blobs.get(image.blobKey!);
    if (!obj) throw appError('storageError', 'The original of this image is missing from the blob store');
    return { data: obj.body, contentType: image.contentType ?? 'application/octet-stream', etag: obj.etag };
  }

  async stats(accountId: string, allowed: number): Promise<{ count: { current: number; allowed: number } }> {
    return { count: { current: await this.deps.store.countImages(accountId), allowed } };
  }
}
export type { ImagePatch, ListImagesV2Query, MetaFilter } from '../storage/types.js';

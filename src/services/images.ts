/**
 * Image use cases: upload, list, details, edit, delete and the original blob. An upload writes the
 * blob first and then inserts the row in one transaction (which also checks the id and the quota);
 * when the row cannot be written the blob is removed, so no failure leaves a visible half-image.
 */
import { AppError, appError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import {
  MAX_CREATOR_LENGTH,
  MAX_CUSTOM_ID_LENGTH,
  MAX_METADATA_BYTES,
  exceedsDimensions,
} from '../core/limits.js';
import { isUuid, newBlobKey, newImageId } from '../core/ids.js';
import type { ImageFacts, ImageRecord, Metadata } from '../core/types.js';
import { probe, type ProbeResult } from '../pipeline/probe.js';
import { isComplete } from '../pipeline/integrity.js';
import { sanitizeSvg, SVG_SANITIZER_VERSION } from '../pipeline/svg-sanitize.js';
import type {
  BlobStore,
  ImagePatch,
  InsertImageResult,
  ListImagesV2Query,
  MetadataStore,
} from '../storage/types.js';
import { fetchUrl, FetchUrlError, type FetchUrlOptions } from '../security/fetch-url.js';

/** First segments that would collide with fixed API paths under /images/v1/ when sent unencoded. */
const RESERVED_IDS = new Set(['stats', 'keys', 'variants', 'config', 'batch_token', 'direct_upload']);

export interface ImagesDeps {
  store: MetadataStore;
  blobs: BlobStore;
  clock: Clock;
  /** Called after the row is gone (or changed) so caches can drop the image's renditions. */
  onPurge?: (accountId: string, imageId: string) => void;
  /** Rules for upload by URL. */
  urlFetch: FetchUrlOptions;
}

export interface UploadInput {
  accountId: string;
  /** The image: bytes, or a URL to fetch them from. */
  file: { data: Buffer; filename: string | null } | { url: string };
  id?: string | undefined;
  metadata?: Metadata | undefined;
  requireSignedURLs?: boolean | undefined;
  creator?: string | undefined;
  /** The original upload time (ms), for migrations; default now. */
  uploaded?: number | undefined;
}

/**
 * Checks a custom id: 1..MAX_CUSTOM_ID_LENGTH characters, not a UUID, no leading or trailing `/`, no empty path
 * segment, no control characters.
 * @example checkCustomId('products/shoe.png') // undefined (valid)
 */
export function checkCustomId(id: string): string | undefined {
  if (id.length === 0 || id.length > MAX_CUSTOM_ID_LENGTH)
    return `Custom ID must be 1 to ${MAX_CUSTOM_ID_LENGTH} characters long`;
  if (isUuid(id)) return 'Custom ID cannot be a UUID';
  const segments = id.split('/');
  if (RESERVED_IDS.has(segments[0]!))
    return `Custom ID cannot start with ${segments[0]}: the API uses that path`;
  if (segments.length > 1 && segments[segments.length - 1] === 'blob')
    return 'Custom ID cannot end with /blob: the API uses that path';
  if (id.startsWith('/') || id.endsWith('/')) return 'Custom ID cannot start or end with a /';
  if (id.split('/').some((s) => s === '' || s === '.' || s === '..'))
    return 'Custom ID cannot contain empty, . or .. path segments';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this rejects
  if (/[\u0000-\u001f\u007f]/.test(id)) return 'Custom ID cannot contain control characters';
  return undefined;
}

/**
 * Checks user metadata: a JSON object of at most MAX_METADATA_BYTES bytes once serialised.
 * @example checkMetadata({ a: 1 }) // undefined (valid)
 */
export function checkMetadata(meta: unknown): string | undefined {
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta))
    return 'Metadata must be a JSON object';
  const bytes = Buffer.byteLength(JSON.stringify(meta), 'utf8');
  if (bytes > MAX_METADATA_BYTES)
    return `Metadata must not exceed ${MAX_METADATA_BYTES} bytes (received ${bytes})`;
  return undefined;
}

/**
 * Checks uploaded bytes: the real format, the size limits from the header (before any decoding), a
 * decode that fails on truncated or corrupt data, and SVG sanitising. Returns the bytes to store
 * (an SVG's sanitised form) with what the probe found.
 */
export async function inspectUpload(data: Buffer): Promise<ProbeResult & { data: Buffer }> {
  const info = await probe(data);
  if (!info) throw appError('unsupportedFormat');
  if (info.width !== null && info.height !== null) {
    if (exceedsDimensions(info.width, info.height, info.pages)) {
      throw appError('imageTooLarge');
    }
  }
  if (info.format === 'svg') {
    const clean = sanitizeSvg(data);
    if (!clean)
      throw appError(
        'unsupportedFormat',
        'The SVG is malformed or declares entities and cannot be made safe',
      );
    return { ...info, data: clean };
  }
  // Truncation is found from the container's structure, without decoding pixels.
  if (!isComplete(data, info.format)) {
    throw appError('unsupportedFormat', 'The image data is corrupt or truncated');
  }
  return { ...info, data };
}

export class ImagesService {
  constructor(private readonly deps: ImagesDeps) {}

  /** Validates, probes and stores an upload. */
  async upload(input: UploadInput): Promise<ImageRecord> {
    const id = input.id ?? newImageId();
    // Pictor extension (docs/compat.md): a migrated upload (one that carries its `uploaded` time) may
    // keep a generated, UUID-shaped id from the source, private or not.
    const migratedGeneratedId = input.id !== undefined && input.uploaded !== undefined && isUuid(input.id);
    if (input.id !== undefined && !migratedGeneratedId) {
      const why = checkCustomId(input.id);
      if (why) throw appError('badRequest', why);
      if (input.requireSignedURLs) {
        throw appError('badRequest', 'Custom IDs cannot be combined with requireSignedURLs=true');
      }
    }
    if (input.metadata !== undefined) {
      const why = checkMetadata(input.metadata);
      if (why) throw appError('badRequest', why);
    }
    if (input.creator !== undefined && input.creator.length > MAX_CREATOR_LENGTH) {
      throw appError('badRequest', `Creator must not exceed ${MAX_CREATOR_LENGTH} characters`);
    }
    const fetched = 'url' in input.file ? await this.fetchFromUrl(input.file.url) : input.file;
    const info = await inspectUpload(fetched.data);
    const file = { data: info.data, filename: fetched.filename };
    // Cheap pre-checks so a doomed upload does not write a blob; the transaction re-checks both.
    const { store, blobs, clock } = this.deps;
    if (await store.getImage(input.accountId, id)) throw duplicate();
    const blobKey = `originals/${newBlobKey()}`;
    const record: ImageRecord = {
      accountId: input.accountId,
      id,
      // Cloudflare's schema types filename as a string: a part without one is named after the id.
      filename: file.filename ?? id.split('/').pop()!,
      meta: input.metadata ?? null,
      creator: input.creator ?? null,
      requireSignedURLs: input.requireSignedURLs ?? false,
      uploaded: input.uploaded ?? clock.now(),
      blobKey,
      contentType: info.contentType,
      format: info.format,
      size: file.data.length,
      width: info.width,
      height: info.height,
      facts: info.facts,
      draft: false,
      expiresAt: null,
      version: 1,
      svgSanitizer: info.format === 'svg' ? SVG_SANITIZER_VERSION : null,
    };
    try {
      await blobs.put(blobKey, file.data);
    } catch (cause) {
      throw new AppError('storageError', { cause });
    }
    let result: InsertImageResult;
    try {
      result = await store.insertImage(record);
    } catch (cause) {
      await blobs.delete(blobKey).catch(() => undefined);
      throw new AppError('storageError', { cause });
    }
    if (result !== 'ok') {
      await blobs.delete(blobKey).catch(() => undefined);
      throw result === 'exists' ? duplicate() : appError('quotaReached');
    }
    return record;
  }

  /** Fetches an upload's bytes from a URL, mapping every failure onto a 4xx that names its cause. */
  private async fetchFromUrl(url: string): Promise<{ data: Buffer; filename: string | null }> {
    try {
      return await fetchUrl(url, this.deps.urlFetch);
    } catch (e) {
      if (e instanceof FetchUrlError) {
        if (e.failure.kind === 'too-large') throw appError('fileTooLarge', e.message);
        throw appError('badRequest', e.message);
      }
      throw new AppError('receiveError', { cause: e, detail: 'Fetching the URL failed' });
    }
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
  async original(image: ImageRecord): Promise<Buffer> {
    const current = await this.upToDate(image);
    if (!current.blobKey) throw appError('imageNotFound');
    const obj = await this.deps.blobs.get(current.blobKey);
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
    if (patch.creator !== undefined && patch.creator !== null && patch.creator.length > MAX_CREATOR_LENGTH) {
      throw appError('badRequest', `Creator must not exceed ${MAX_CREATOR_LENGTH} characters`);
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

function duplicate(): AppError {
  return new AppError('alreadyExists');
}
export type { ImagePatch, ListImagesV2Query, MetaFilter } from '../storage/types.js';

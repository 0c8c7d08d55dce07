/**
 * Direct creator upload (digest §2.11): a draft row and a one-time upload URL that takes one file,
 * without credentials, before it expires. Completing writes the blob first and then flips the draft in
 * one conditional transaction, so a second upload, an expired URL or a full account leaves nothing
 * behind.
 */
import { AppError, appError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import { invalid } from '../core/check.js';
import { MAX_CREATOR_LENGTH } from '../core/limits.js';
import { newBlobKey, newImageId } from '../core/ids.js';
import type { ImageRecord, Metadata } from '../core/types.js';
import type { BlobStore, CompleteDraftResult, MetadataStore } from '../storage/types.js';
import { SVG_SANITIZER_VERSION } from '../pipeline/svg-sanitize.js';
import { checkCustomId, checkMetadata, inspectUpload } from './images.js';

export const DRAFT_EXPIRY = { minMs: 2 * 60_000, maxMs: 6 * 3600_000, defaultMs: 30 * 60_000 } as const;

export interface DirectUploadDeps {
  store: MetadataStore;
  blobs: BlobStore;
  clock: Clock;
}

export interface DraftInput {
  id?: string | undefined;
  metadata?: Metadata | undefined;
  requireSignedURLs?: boolean | undefined;
  creator?: string | undefined;
  /** ISO 8601 date-time. */
  expiry?: string | undefined;
}

export class DirectUploadService {
  constructor(private readonly deps: DirectUploadDeps) {}

  /** Creates the draft; the caller builds the upload URL from its id. */
  async create(accountId: string, input: DraftInput): Promise<ImageRecord> {
    const now = this.deps.clock.now();
    if (input.id !== undefined) {
      const why = checkCustomId(input.id);
      if (why) throw appError('badRequest', why);
      if (input.requireSignedURLs)
        throw appError('badRequest', 'Custom IDs cannot be combined with requireSignedURLs=true');
    }
    if (input.metadata !== undefined) {
      const why = checkMetadata(input.metadata);
      if (why) throw appError('badRequest', why);
    }
    if (input.creator !== undefined && input.creator.length > MAX_CREATOR_LENGTH)
      throw appError('badRequest', `Creator must not exceed ${MAX_CREATOR_LENGTH} characters`);
    let expiresAt = now + DRAFT_EXPIRY.defaultMs;
    if (input.expiry !== undefined) {
      const t = Date.parse(input.expiry);
      if (!/^\d{4}-\d{2}-\d{2}T/.test(input.expiry) || Number.isNaN(t))
        throw appError('badRequest', invalid('expiry', 'ISO 8601 date-time', input.expiry));
      if (t < now + DRAFT_EXPIRY.minMs - 1000 || t > now + DRAFT_EXPIRY.maxMs + 1000) {
        throw appError(
          'badRequest',
          invalid('expiry', 'a time between now + 2 minutes and now + 6 hours', input.expiry),
        );
      }
      expiresAt = t;
    }
    const draft: ImageRecord = {
      accountId,
      id: input.id ?? newImageId(),
      filename: null,
      meta: input.metadata ?? null,
      creator: input.creator ?? null,
      requireSignedURLs: input.requireSignedURLs ?? false,
      uploaded: now,
      blobKey: null,
      contentType: null,
      format: null,
      size: 0,
      width: null,
      height: null,
      facts: null,
      draft: true,
      expiresAt,
      version: 1,
    };
    const result = await this.deps.store.insertImage(draft);
    if (result === 'exists') throw new AppError('alreadyExists');
    return draft;
  }

  /** Completes a draft with the uploaded file. */
  async complete(
    accountId: string,
    id: string,
    file: { data: Buffer; filename: string | null },
  ): Promise<ImageRecord> {
    const { store, blobs, clock } = this.deps;
    const draft = await store.getImage(accountId, id);
    if (!draft?.draft)
      throw appError('imageNotFound', 'This upload URL has already been used or does not exist');
    if (draft.expiresAt !== null && draft.expiresAt < clock.now())
      throw appError('imageNotFound', 'This upload URL has expired');
    const info = await inspectUpload(file.data);
    const blobKey = `originals/${newBlobKey()}`;
    try {
      await blobs.put(blobKey, info.data);
    } catch (cause) {
      throw new AppError('storageError', { cause });
    }
    const completion = {
      filename: file.filename ?? id.split('/').pop()!,
      blobKey,
      contentType: info.contentType,
      format: info.format,
      size: info.data.length,
      width: info.width,
      height: info.height,
      facts: info.facts,
      uploaded: clock.now(),
      svgSanitizer: info.format === 'svg' ? SVG_SANITIZER_VERSION : null,
    };
    let result: CompleteDraftResult;
    try {
      result = await store.completeDraft(accountId, id, completion, clock.now());
    } catch (cause) {
      await blobs.delete(blobKey).catch(() => undefined);
      throw new AppError('storageError', { cause });
    }
    if (result !== 'ok') {
      await blobs.delete(blobKey).catch(() => undefined);
      throw result === 'quota'
        ? appError('quotaReached')
        : appError('imageNotFound', 'This upload URL has already been used or has expired');
    }
    const image = await store.getImage(accountId, id);
    if (!image) throw appError('imageNotFound');
    return image;
  }

  /** Deletes expired drafts (run periodically). */
  sweep(): Promise<number> {
    return this.deps.store.deleteExpiredDrafts(this.deps.clock.now());
  }
}

/**
 * Direct creator upload (digest §2.11): a draft row and a one-time upload URL that takes one file,
 * without credentials, before it expires. Completing is the ingest path's (services/ingest.ts): the
 * blob first, then the draft flipped in one conditional transaction, so a second upload, an expired
 * URL or a full account leaves nothing behind.
 */
import { AppError, appError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import { invalid } from '../core/check.js';
import { newImageId } from '../core/ids.js';
import type { ImageRecord } from '../core/types.js';
import type { MetadataStore } from '../storage/types.js';
import { checkImageFields, type ImageFields, type Ingest, type UploadedFile } from './ingest.js';

export const DRAFT_EXPIRY = { minMs: 2 * 60_000, maxMs: 6 * 3600_000, defaultMs: 30 * 60_000 } as const;

export interface DirectUploadDeps {
  store: MetadataStore;
  clock: Clock;
  /** The ingest path that completes a draft. */
  ingest: Ingest;
}

export interface DraftInput extends ImageFields {
  /** ISO 8601 date-time. */
  expiry?: string | undefined;
}

export class DirectUploadService {
  constructor(private readonly deps: DirectUploadDeps) {}

  /** Creates the draft; the caller builds the upload URL from its id. */
  async create(accountId: string, input: DraftInput): Promise<ImageRecord> {
    const now = this.deps.clock.now();
    checkImageFields(input);
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
  complete(accountId: string, id: string, file: UploadedFile): Promise<ImageRecord> {
    return this.deps.ingest.completeDraft(accountId, id, file);
  }

  /** Deletes expired drafts (run periodically). */
  sweep(): Promise<number> {
    return this.deps.store.deleteExpiredDrafts(this.deps.clock.now());
  }
}

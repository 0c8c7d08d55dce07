/**
 * The one ingest path. Every way an image enters Pictor (upload of a file, upload by URL, the
 * one-time URL of a direct creator upload, and importers) goes through `Ingest.run`:
 *
 * 1. field checks (custom id, requireSignedURLs, metadata, creator), or for a draft: it exists,
 *    is still a draft and has not expired;
 * 2. the bytes: as given, or fetched from the URL behind the address guard;
 * 3. inspection inside the gate (so PICTOR_WORKERS bounds it): the real format, the size limits from
 *    the header, the facts, SVG sanitising, completeness;
 * 4. the blob put under a fresh random key;
 * 5. the commit: insert the image row, or complete the draft, in one transaction that re-checks the
 *    id and the quota;
 * 6. the rollback: on any failure after the put, the blob is removed.
 *
 * Round trips to the metadata store: one for a new image with a generated id (the insert), two with
 * a custom id (a cheap duplicate check first, so a doomed upload writes no blob), two for a draft
 * (read, then the conditional completion; the stored row is built from both, not read again).
 */
import type { Clock } from '../core/clock.js';
import { AppError, appError } from '../core/errors.js';
import { newBlobKey, newImageId } from '../core/ids.js';
import { MAX_CREATOR_LENGTH } from '../core/limits.js';
import type { ImageRecord, Metadata } from '../core/types.js';
import { Gate, GateFullError } from '../pipeline/gate.js';
import { fetchUrl, FetchUrlError, type FetchUrlOptions } from '../security/fetch-url.js';
import type { BlobStore, MetadataStore } from '../storage/types.js';
import { checkCustomId, checkMetadata, inspectUpload } from './images.js';

export interface IngestDeps {
  store: MetadataStore;
  blobs: BlobStore;
  clock: Clock;
  /** Rules for upload by URL. */
  urlFetch: FetchUrlOptions;
  /** Image work slots shared with delivery; absent: inspection runs unbounded (tests, tools). */
  gate?: Gate | undefined;
}

/** The image: bytes with an optional filename, or a URL to fetch them from. */
export type IngestSource = { data: Buffer; filename: string | null } | { url: string };

/** The fields a new image (or a draft) may carry. */
export interface ImageFields {
  id?: string | undefined;
  metadata?: Metadata | undefined;
  requireSignedURLs?: boolean | undefined;
  creator?: string | undefined;
}

/** Where the image goes: a new row, or the completion of a draft. */
export type IngestTarget = ({ kind: 'new'; accountId: string } & ImageFields) | { kind: 'draft'; accountId: string; id: string };

/**
 * Checks the fields of a new image or draft; throws the 400 that names the first problem.
 * @example checkImageFields({ id: 'a/b.png', requireSignedURLs: false }) // passes
 */
export function checkImageFields(f: ImageFields): void {
  if (f.id !== undefined) {
    const why = checkCustomId(f.id);
    if (why) throw appError('badRequest', why);
    if (f.requireSignedURLs) throw appError('badRequest', 'Custom IDs cannot be combined with requireSignedURLs=true');
  }
  if (f.metadata !== undefined) {
    const why = checkMetadata(f.metadata);
    if (why) throw appError('badRequest', why);
  }
  if (f.creator !== undefined && f.creator.length > MAX_CREATOR_LENGTH) {
    throw appError('badRequest', `Creator must not exceed ${MAX_CREATOR_LENGTH} characters`);
  }
}

const usedOrMissing = 'This upload URL has already been used or does not exist';

export class Ingest {
  constructor(private readonly deps: IngestDeps) {}

  /** Checks, fetches, inspects, stores and commits one image; returns the stored row. */
  async run(target: IngestTarget, source: IngestSource): Promise<ImageRecord> {
    const { store, blobs, clock } = this.deps;
    let draft: ImageRecord | null = null;
    if (target.kind === 'draft') {
      draft = await store.getImage(target.accountId, target.id);
      if (!draft || !draft.draft) throw appError('imageNotFound', usedOrMissing);
      if (draft.expiresAt !== null && draft.expiresAt < clock.now()) throw appError('imageNotFound', 'This upload URL has expired');
    } else {
      checkImageFields(target);
    }
    const id = target.id ?? newImageId();
    const fetched = 'url' in source ? await this.fetch(source.url) : source;
    const info = await this.inspect(fetched.data);
    // A generated id cannot exist yet; a custom one is checked before the blob is written (the
    // transaction re-checks it).
    if (target.kind === 'new' && target.id !== undefined && (await store.getImage(target.accountId, id))) throw new AppError('alreadyExists');
    const blobKey = `originals/${newBlobKey()}`;
    try {
      await blobs.put(blobKey, info.data);
    } catch (cause) {
      throw new AppError('storageError', { cause });
    }
    const now = clock.now();
    const stored = {
      // Cloudflare's schema types filename as a string: a part without one is named after the id.
      filename: fetched.filename ?? id.split('/').pop()!,
      blobKey,
      contentType: info.contentType,
      format: info.format,
      size: info.data.length,
      width: info.width,
      height: info.height,
      facts: info.facts,
      uploaded: now,
    };
    try {
      if (draft) {
        const result = await store.completeDraft(target.accountId, id, stored, now);
        if (result !== 'ok') throw result === 'quota' ? appError('quotaReached') : appError('imageNotFound', 'This upload URL has already been used or has expired');
        return { ...draft, ...stored, draft: false, expiresAt: null, version: draft.version + 1 };
      }
      const fields = target as Extract<IngestTarget, { kind: 'new' }>;
      const record: ImageRecord = {
        accountId: target.accountId,
        id,
        meta: fields.metadata ?? null,
        creator: fields.creator ?? null,
        requireSignedURLs: fields.requireSignedURLs ?? false,
        draft: false,
        expiresAt: null,
        version: 1,
        ...stored,
      };
      const result = await store.insertImage(record);
      if (result !== 'ok') throw result === 'exists' ? new AppError('alreadyExists') : appError('quotaReached');
      return record;
    } catch (e) {
      await blobs.delete(blobKey).catch(() => undefined);
      throw e instanceof AppError ? e : new AppError('storageError', { cause: e });
    }
  }

  /** Inspection in a gate slot; a full queue is a 503 with Retry-After, as delivery answers. */
  private async inspect(data: Buffer): ReturnType<typeof inspectUpload> {
    const { gate } = this.deps;
    if (!gate) return inspectUpload(data);
    try {
      return await gate.run(() => inspectUpload(data));
    } catch (e) {
      if (e instanceof GateFullError) throw appError('unavailable', 'Too many images are being processed; retry shortly');
      throw e;
    }
  }

  /** Fetches an upload's bytes from a URL, mapping every failure onto a 4xx that names its cause. */
  private async fetch(url: string): Promise<{ data: Buffer; filename: string | null }> {
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
}

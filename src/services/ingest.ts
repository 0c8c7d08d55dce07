/**
 * The one ingest path. Every way an image enters Pictor — a multipart file, upload by URL, the file
 * sent to a direct creator upload URL (and the bulk importer, which is a client of the first) — goes
 * through `Ingest`: the field checks, the URL fetch, the inspection (format, size, frames, alpha from
 * the header; dimension and pixel limits; SVG sanitising; completeness), the blob put, the commit
 * (insert an image, or complete a draft) and the rollback.
 *
 * Writes follow ARCHITECTURE.md: the blob goes under a fresh random key first, then one transaction
 * checks the id and the quota and writes the row; on any failure after the put the blob is removed, so
 * no failure leaves a visible half-image (a left-over blob after a crash is garbage for `gc`).
 *
 * Inspection runs in the image gate (`PICTOR_WORKERS` slots, `PICTOR_QUEUE` waiting), so uploads and
 * transforms share one bound on libvips work; a full queue answers 9503 with Retry-After.
 *
 * Database round trips (SQLite; store calls counted by src/services/ingest.test.ts, which also counts
 * the SQL statements):
 * - upload with a generated id: 1 store call (the insert transaction: begin, one read of the id,
 *   allowance and count, insert, commit); a custom id adds one read first, so a taken id writes no
 *   blob. Before this path: 2 calls, 8 statements.
 * - direct upload completion: 2 (the draft read that names why a URL is refused, then the complete
 *   transaction, which returns the finished row). Before: 3 calls, 11 statements.
 * Over HTTP (pictor_store_operation_duration_seconds_count on /metrics, one request each): POST
 * /images/v1 makes 4 store calls with a generated id, 5 with a custom id (before: 5 and 5), adding the
 * credential, the account and the variant list of the Image JSON; the upload URL 4 (before: 5).
 */
import { AppError, appError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import {
  exceedsDimensions,
  MAX_CREATOR_LENGTH,
  MAX_CUSTOM_ID_LENGTH,
  MAX_METADATA_BYTES,
} from '../core/limits.js';
import { isUuid, newBlobKey, newImageId } from '../core/ids.js';
import type { ImageRecord, Metadata } from '../core/types.js';
import { GateFullError, type Gate } from '../pipeline/gate.js';
import { isComplete } from '../pipeline/integrity.js';
import { probe, type ProbeResult } from '../pipeline/probe.js';
import { sanitizeSvg, SVG_SANITIZER_VERSION } from '../pipeline/svg-sanitize.js';
import { fetchUrl, FetchUrlError, type FetchUrlOptions } from '../security/fetch-url.js';
import type { BlobStore, MetadataStore } from '../storage/types.js';

/** First segments that would collide with fixed API paths under /images/v1/ when sent unencoded. */
const RESERVED_IDS = new Set(['stats', 'keys', 'variants', 'config', 'batch_token', 'direct_upload']);

export interface IngestDeps {
  store: MetadataStore;
  blobs: BlobStore;
  clock: Clock;
  /** The image-work gate shared with delivery (server/compose.ts builds one per process). */
  gate: Gate;
  /** Rules for upload by URL. */
  urlFetch: FetchUrlOptions;
}

/** The bytes of an upload and the name the client gave them. */
export interface UploadedFile {
  data: Buffer;
  filename: string | null;
}

/** What a new image (or a draft) may carry besides its bytes. */
export interface ImageFields {
  id?: string | undefined;
  metadata?: Metadata | undefined;
  requireSignedURLs?: boolean | undefined;
  creator?: string | undefined;
}

export interface UploadInput extends ImageFields {
  accountId: string;
  /** The image: bytes, or (exclusive) a URL to fetch them from. */
  file?: UploadedFile | undefined;
  url?: string | undefined;
  /** The original upload time (ms), for migrations; default now. */
  uploaded?: number | undefined;
}

/** What inspection found, with the bytes to store (an SVG's sanitised form). */
export type Inspected = ProbeResult & { data: Buffer };

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
  if (RESERVED_IDS.has(segments[0] ?? ''))
    return `Custom ID cannot start with ${segments[0]}: the API uses that path`;
  if (segments.length > 1 && segments[segments.length - 1] === 'blob')
    return 'Custom ID cannot end with /blob: the API uses that path';
  if (id.startsWith('/') || id.endsWith('/')) return 'Custom ID cannot start or end with a /';
  if (segments.some((s) => s === '' || s === '.' || s === '..'))
    return 'Custom ID cannot contain empty, . or .. path segments';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
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
  // NUL (U+0000) anywhere, in a key or a string: PostgreSQL's jsonb cannot store it, so it is refused
  // on every backend alike (docs/compat.md); found in the same pass that measures the size.
  let nul = false;
  const json = JSON.stringify(meta, (key: string, value: unknown) => {
    if (key.includes('\0') || (typeof value === 'string' && value.includes('\0'))) nul = true;
    return value;
  });
  if (nul) return 'Metadata cannot contain the NUL character (U+0000)';
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > MAX_METADATA_BYTES)
    return `Metadata must not exceed ${MAX_METADATA_BYTES} bytes (received ${bytes})`;
  return undefined;
}

/**
 * The field checks of a new image or draft (id, requireSignedURLs with a custom id, metadata,
 * creator), throwing the first failure as a 5400. `keepsGeneratedId`: a migrated upload may keep the
 * generated, UUID-shaped id it had at its source (docs/compat.md).
 */
export function checkImageFields(fields: ImageFields, keepsGeneratedId = false): void {
  if (fields.id !== undefined && !keepsGeneratedId) {
    const why = checkCustomId(fields.id);
    if (why) throw appError('badRequest', why);
    if (fields.requireSignedURLs)
      throw appError('badRequest', 'Custom IDs cannot be combined with requireSignedURLs=true');
  }
  if (fields.metadata !== undefined) {
    const why = checkMetadata(fields.metadata);
    if (why) throw appError('badRequest', why);
  }
  if (fields.creator !== undefined) {
    const why = checkCreator(fields.creator);
    if (why) throw appError('badRequest', why);
  }
}

/**
 * Checks a creator: at most MAX_CREATOR_LENGTH characters and no NUL (PostgreSQL's text cannot hold
 * it; refused on every backend alike, docs/compat.md).
 * @example checkCreator('user-1') // undefined (valid)
 */
export function checkCreator(creator: string): string | undefined {
  if (creator.length > MAX_CREATOR_LENGTH) return `Creator must not exceed ${MAX_CREATOR_LENGTH} characters`;
  if (creator.includes('\0')) return 'Creator cannot contain the NUL character (U+0000)';
  return undefined;
}

/**
 * An upload's filename as stored: control characters (NUL included, which PostgreSQL's text cannot
 * hold) are dropped; a part without a filename is named after the id.
 * @example storedFilename('a\u0000.png', 'x') // 'a.png'
 */
function storedFilename(name: string | null, id: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this drops
  return name === null ? lastSegment(id) : name.replace(/[\u0000-\u001f\u007f]/g, '');
}

/**
 * Checks uploaded bytes: the real format, the size limits from the header (before any decoding),
 * completeness from the container's structure (no pixel is decoded), and SVG sanitising.
 */
export async function inspect(data: Buffer): Promise<Inspected> {
  const info = await probe(data);
  if (!info) throw appError('unsupportedFormat');
  if (info.width !== null && info.height !== null && exceedsDimensions(info.width, info.height, info.pages))
    throw appError('imageTooLarge');
  if (info.format === 'svg') {
    const clean = sanitizeSvg(data);
    if (!clean)
      throw appError(
        'unsupportedFormat',
        'The SVG is malformed or declares entities and cannot be made safe',
      );
    return { ...info, data: clean };
  }
  if (!isComplete(data, info.format))
    throw appError('unsupportedFormat', 'The image data is corrupt or truncated');
  return { ...info, data };
}

/** What an image row keeps of the inspected bytes (a new image and a completed draft alike). */
function storedFacts(info: Inspected) {
  return {
    contentType: info.contentType,
    format: info.format,
    size: info.data.length,
    width: info.width,
    height: info.height,
    facts: info.facts,
    svgSanitizer: info.format === 'svg' ? SVG_SANITIZER_VERSION : null,
  };
}

export class Ingest {
  constructor(private readonly deps: IngestDeps) {}

  /** A new image from a file or a URL. */
  async upload(input: UploadInput): Promise<ImageRecord> {
    // Pictor extension (docs/compat.md): a migrated upload (one that carries its `uploaded` time) may
    // keep a generated, UUID-shaped id from the source, private or not.
    const keepsGeneratedId = input.id !== undefined && input.uploaded !== undefined && isUuid(input.id);
    if (input.url !== undefined && input.file !== undefined)
      throw appError('badRequest', 'The file and url fields are mutually exclusive');
    const file = input.file;
    if (input.url === undefined && file === undefined)
      throw appError('badRequest', 'A file or url field with the image is required');
    checkImageFields(input, keepsGeneratedId);
    const id = input.id ?? newImageId();
    const fetched = input.url !== undefined ? await this.fetch(input.url) : (file as UploadedFile);
    const info = await this.inspect(fetched.data);
    const { store, clock } = this.deps;
    // A custom id may be taken: a cheap read first so a doomed upload writes no blob (the transaction
    // checks again). A generated id is 122 random bits, so it skips the read.
    if (input.id !== undefined && (await store.getImage(input.accountId, id))) throw duplicate();
    const record: ImageRecord = {
      accountId: input.accountId,
      id,
      // Cloudflare's schema types filename as a string: a part without one is named after the id.
      filename: storedFilename(fetched.filename, id),
      meta: input.metadata ?? null,
      creator: input.creator ?? null,
      requireSignedURLs: input.requireSignedURLs ?? false,
      uploaded: input.uploaded ?? clock.now(),
      blobKey: '',
      ...storedFacts(info),
      draft: false,
      expiresAt: null,
      version: 1,
    };
    return this.commit(info.data, async (blobKey) => {
      record.blobKey = blobKey;
      const result = await store.insertImage(record);
      if (result === 'ok') return record;
      throw result === 'exists' ? duplicate() : appError('quotaReached');
    });
  }

  /** The file sent to a direct creator upload URL: completes the draft `id`. */
  async completeDraft(accountId: string, id: string, file: UploadedFile): Promise<ImageRecord> {
    const { store, clock } = this.deps;
    // Read first: it names why a URL is refused, and a refused URL writes no blob.
    const draft = await store.getImage(accountId, id);
    if (!draft?.draft)
      throw appError('imageNotFound', 'This upload URL has already been used or does not exist');
    if (draft.expiresAt !== null && draft.expiresAt < clock.now())
      throw appError('imageNotFound', 'This upload URL has expired');
    const info = await this.inspect(file.data);
    return this.commit(info.data, async (blobKey) => {
      const now = clock.now();
      const result = await store.completeDraft(
        accountId,
        id,
        {
          filename: storedFilename(file.filename, id),
          blobKey,
          ...storedFacts(info),
          uploaded: now,
        },
        now,
      );
      if (typeof result === 'object') return result;
      throw result === 'quota'
        ? appError('quotaReached')
        : appError('imageNotFound', 'This upload URL has already been used or has expired');
    });
  }

  /** Inspection in a gate slot; a full queue is 9503 (retry shortly), as for delivery. */
  private async inspect(data: Buffer): Promise<Inspected> {
    try {
      return await this.deps.gate.run(() => inspect(data));
    } catch (e) {
      if (e instanceof GateFullError) throw new AppError('busy');
      throw e;
    }
  }

  /**
   * Puts the blob under a fresh key, then runs `write` (the row's transaction). When `write` throws
   * (a refusal or a storage failure) the blob is removed and the refusal, or 5500, is thrown.
   */
  private async commit(data: Buffer, write: (blobKey: string) => Promise<ImageRecord>): Promise<ImageRecord> {
    const { blobs } = this.deps;
    const blobKey = `originals/${newBlobKey()}`;
    try {
      await blobs.put(blobKey, data);
    } catch (cause) {
      throw new AppError('storageError', { cause });
    }
    try {
      return await write(blobKey);
    } catch (e) {
      await blobs.delete(blobKey).catch(() => undefined);
      throw e instanceof AppError ? e : new AppError('storageError', { cause: e });
    }
  }

  /** Fetches an upload's bytes from a URL, mapping every failure onto a 4xx that names its cause. */
  private async fetch(url: string): Promise<UploadedFile> {
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

function lastSegment(id: string): string {
  return id.slice(id.lastIndexOf('/') + 1);
}

function duplicate(): AppError {
  return new AppError('alreadyExists');
}

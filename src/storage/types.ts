/**
 * The two storage interfaces. Every implementation runs the contract suites in `storage/contract/`,
 * which assert the invariants written here.
 */
import type {
  Account,
  ApiCredential,
  ImageFacts,
  ImageRecord,
  SigningKey,
  VariantRecord,
} from '../core/types.js';

export type InsertImageResult = 'ok' | 'exists' | 'quota';
export type InsertVariantResult = 'ok' | 'exists' | 'limit';
/** The completed image, or why nothing was written. */
export type CompleteDraftResult = ImageRecord | 'gone' | 'quota';

/** What an upload to a one-time URL adds to its draft. */
export type BlobReplacement = Pick<ImageRecord, 'size' | 'svgSanitizer'> & { blobKey: string };

export type DraftCompletion = Pick<
  ImageRecord,
  | 'filename'
  | 'blobKey'
  | 'contentType'
  | 'format'
  | 'size'
  | 'width'
  | 'height'
  | 'facts'
  | 'uploaded'
  | 'svgSanitizer'
>;

export interface ListImagesQuery {
  /** Rows to skip (v1 page-based listing). */
  offset: number;
  /** At most this many rows. */
  limit: number;
  /** undefined: any creator; null: only images without a creator; string: exactly this creator. */
  creator?: string | null | undefined;
}

/** One metadata condition of a v2 list: `meta.<path>[<op>]=<values>`. */
export interface MetaFilter {
  /** Dotted path inside `meta`, e.g. `owner.team`. */
  path: string;
  op: 'eq' | 'gt' | 'gte' | 'lt' | 'lte' | 'in';
  /** `auto` (plain `eq`/`in`): a value matches strings, and numbers or booleans it spells. */
  type: 'auto' | 'string' | 'number' | 'boolean';
  values: Array<string | number | boolean>;
}

export interface ListImagesV2Query {
  limit: number;
  order: 'asc' | 'desc';
  /** Continue after this position (exclusive), in `order`. */
  after?: number | undefined;
  creator?: string | null | undefined;
  /** All must hold (AND). */
  filters: MetaFilter[];
}

export interface ListImagesV2Page {
  images: ImageRecord[];
  /** Position of the last image, for the next page's `after`; null when there are no more. */
  next: number | null;
}

export type ImagePatch = Partial<Pick<ImageRecord, 'meta' | 'creator' | 'requireSignedURLs'>>;
export type AccountPatch = Partial<Pick<Account, 'allowance' | 'flexibleVariants' | 'browserTtl'>>;

/**
 * Metadata rows: accounts, credentials, images, variants and signing keys.
 *
 * Invariants (asserted by `metadataStoreContract`):
 * - a lookup that finds nothing resolves to `null` (or `false` for deletes), never throws;
 * - `insertImage` is atomic: it answers `exists` when (accountId, id) is taken and `quota` when the
 *   account already holds `allowance` non-draft images, and in both cases writes nothing;
 * - listings never include drafts and come in upload order (oldest first), stable across pages while
 *   rows are inserted at the end;
 * - deletes are idempotent;
 * - metadata round-trips unicode and 1,024-byte objects unchanged;
 * - `deleteKey` on the last key inserts the replacement in the same transaction, so an account always
 *   has at least one signing key;
 * - every update of an image or variant bumps its `version` (cache keys carry it).
 */
export interface MetadataStore {
  /** Creates or upgrades the schema. Idempotent. */
  migrate(): Promise<void>;
  close(): Promise<void>;

  /** Creates an account with its seed variants and signing keys in one transaction. */
  createAccount(account: Account, seed: { variants: VariantRecord[]; keys: SigningKey[] }): Promise<void>;
  getAccount(id: string): Promise<Account | null>;
  getAccountByHash(hash: string): Promise<Account | null>;
  listAccounts(): Promise<Account[]>;
  updateAccount(id: string, patch: AccountPatch): Promise<Account | null>;

  /** Stores a credential; replaces one with the same secret hash. */
  putCredential(credential: ApiCredential): Promise<void>;
  findCredential(secretHash: string): Promise<ApiCredential | null>;
  /** Every stored credential (tokens, global keys, batch tokens), oldest first. */
  listCredentials(): Promise<ApiCredential[]>;
  /** Deletes a credential; false when none has that secret hash. Idempotent. */
  deleteCredential(secretHash: string): Promise<boolean>;

  insertImage(image: ImageRecord): Promise<InsertImageResult>;
  getImage(accountId: string, id: string): Promise<ImageRecord | null>;
  listImages(accountId: string, query: ListImagesQuery): Promise<ImageRecord[]>;
  /**
   * Keyset page of non-draft images in upload order (`asc`) or its reverse, filtered by creator and
   * metadata conditions through an index (never by filtering rows in memory). No image is skipped or
   * repeated across pages while others are inserted or deleted.
   */
  listImagesV2(accountId: string, query: ListImagesV2Query): Promise<ListImagesV2Page>;
  /** Applies the patch, bumps `version`, returns the new row (null when absent). */
  updateImage(accountId: string, id: string, patch: ImagePatch): Promise<ImageRecord | null>;
  /**
   * Stores the facts of a row written without them (before they were kept), only while the row still
   * holds the original `blobKey`. Changes nothing else, `version` included (a rendition does not
   * change when its facts are recorded). True when a row was updated.
   */
  setImageFacts(accountId: string, id: string, blobKey: string, facts: ImageFacts): Promise<boolean>;
  /**
   * Moves a stored image to a new blob (an SVG cleaned again by newer sanitiser rules), only if it
   * still points at `fromBlobKey` (compare-and-set: of two nodes doing it at once one wins); bumps
   * `version`. Returns the updated image, or null when the row is gone or holds another blob.
   */
  replaceImageBlob(
    accountId: string,
    id: string,
    fromBlobKey: string,
    next: BlobReplacement,
  ): Promise<ImageRecord | null>;
  /** Deletes the row and returns it (so its blob can be removed), or null when absent. */
  deleteImage(accountId: string, id: string): Promise<ImageRecord | null>;
  /**
   * Turns a draft into an image, atomically and once, and returns the image as written: `gone` when
   * no unexpired draft has that id (never existed, already completed, expired at `now`), `quota` when
   * the account is full.
   */
  completeDraft(
    accountId: string,
    id: string,
    completion: DraftCompletion,
    now: number,
  ): Promise<CompleteDraftResult>;
  /** Deletes drafts whose `expiresAt` is before `now`; returns how many. */
  deleteExpiredDrafts(now: number): Promise<number>;
  /** Number of non-draft images. */
  countImages(accountId: string): Promise<number>;
  /** Every blob key referenced by any image row (for garbage collection). */
  referencedBlobKeys(): AsyncIterable<string>;

  /** Variants of the account, oldest first. */
  listVariants(accountId: string): Promise<VariantRecord[]>;
  getVariant(accountId: string, id: string): Promise<VariantRecord | null>;
  /** Atomic: `exists` when the id is taken, `limit` when the account already has `maxVariants`. */
  insertVariant(variant: VariantRecord, maxVariants: number): Promise<InsertVariantResult>;
  updateVariant(
    accountId: string,
    id: string,
    patch: Pick<VariantRecord, 'options'> & Partial<Pick<VariantRecord, 'neverRequireSignedURLs'>>,
  ): Promise<VariantRecord | null>;
  deleteVariant(accountId: string, id: string): Promise<boolean>;

  /** Signing keys, oldest first. */
  listKeys(accountId: string): Promise<SigningKey[]>;
  /**
   * Inserts the key unless one with that name exists (idempotent; an existing value is kept), or
   * with `replaceValue` sets the value of an existing key of that name (its position is kept).
   */
  putKey(key: SigningKey, opts?: { replaceValue?: boolean }): Promise<void>;
  /** Deletes the key; when it was the last one, inserts `replacement` in the same transaction. */
  deleteKey(accountId: string, name: string, replacement: SigningKey): Promise<boolean>;
}

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

export interface BlobObject {
  body: Buffer;
  /** Size of the whole object (not of the range). */
  size: number;
  etag: string;
  lastModified: Date;
}

/**
 * Immutable blobs under unguessable keys.
 *
 * Invariants (asserted by `blobStoreContract`):
 * - `get` of a missing key resolves to `null`;
 * - `put` is atomic: a reader sees the whole object or nothing, never a prefix;
 * - `delete` is idempotent;
 * - keys are confined to the store: a key that tries to escape (`../x`, absolute paths) is refused;
 * - a range read returns exactly the bytes asked for and the whole object's size.
 */
export interface BlobStore {
  put(key: string, data: Buffer): Promise<void>;
  /**
   * `into`: where the bytes may go (a pooled buffer of at least `size` bytes; the body is then a view
   * of it). Stores that read into memory themselves (the files store) use it; others may ignore it.
   */
  get(key: string, opts?: { range?: ByteRange; into?: (size: number) => Buffer }): Promise<BlobObject | null>;
  delete(key: string): Promise<void>;
  /** Every key in the store (for garbage collection). */
  list(): AsyncIterable<string>;
  /**
   * Removes leftovers of writes that never finished (a process killed mid-write), older than
   * `before`; returns how many. Stores whose writes are atomic on the server (S3) have none.
   */
  sweepIncomplete?(before: Date): Promise<number>;
  /** A cheap probe that the store answers (start-up check, readiness); throws when it does not. */
  check?(): Promise<void>;
  close(): Promise<void>;
}

/** Row ↔ domain conversions. PostgreSQL returns bigint columns as strings, hence the Number() calls. */
import type { Selectable } from 'kysely';
import type {
  Account,
  ApiCredential,
  ImageFacts,
  ImageFormat,
  ImageRecord,
  Permission,
  SigningKey,
  VariantOptions,
  VariantRecord,
} from '../../core/types.js';
import type {
  AccountsTable,
  CredentialsTable,
  ImagesTable,
  SigningKeysTable,
  VariantsTable,
} from './schema.js';

export function toAccount(r: Selectable<AccountsTable>): Account {
  return {
    id: r.id,
    hash: r.hash,
    allowance: Number(r.allowance),
    flexibleVariants: Number(r.flexible_variants) === 1,
    browserTtl: Number(r.browser_ttl),
    createdAt: Number(r.created_at),
  };
}

export function toCredential(r: Selectable<CredentialsTable>): ApiCredential {
  return {
    secretHash: r.secret_hash,
    kind: r.kind === 'global' || r.kind === 'batch' ? r.kind : 'token',
    email: r.email,
    permissions: JSON.parse(r.permissions) as Permission[],
    accountIds: JSON.parse(r.account_ids) as string[],
    label: r.label,
    createdAt: Number(r.created_at),
    expiresAt: r.expires_at === null || r.expires_at === undefined ? null : Number(r.expires_at),
  };
}

const nullableNumber = (v: number | string | null): number | null => (v === null ? null : Number(v));

export function toImage(r: Selectable<ImagesTable>): ImageRecord {
  return {
    accountId: r.account_id,
    id: r.id,
    filename: r.filename,
    meta: r.meta === null ? null : (JSON.parse(r.meta) as Record<string, unknown>),
    creator: r.creator,
    requireSignedURLs: Number(r.require_signed) === 1,
    uploaded: Number(r.uploaded),
    blobKey: r.blob_key,
    contentType: r.content_type,
    format: r.format as ImageFormat | null,
    size: Number(r.size),
    width: nullableNumber(r.width),
    height: nullableNumber(r.height),
    facts: toFacts(r),
    draft: Number(r.draft) === 1,
    expiresAt: nullableNumber(r.expires_at),
    version: Number(r.version),
    // Absent, not null, when unknown: records written before the column compare equal to what they read.
    ...(r.svg_sanitizer === null || r.svg_sanitizer === undefined
      ? {}
      : { svgSanitizer: Number(r.svg_sanitizer) }),
  };
}

export function fromImage(i: ImageRecord): Omit<ImagesTable, 'seq'> {
  return {
    account_id: i.accountId,
    id: i.id,
    filename: i.filename,
    meta: i.meta === null ? null : JSON.stringify(i.meta),
    creator: i.creator,
    require_signed: i.requireSignedURLs ? 1 : 0,
    uploaded: i.uploaded,
    blob_key: i.blobKey,
    content_type: i.contentType,
    format: i.format,
    size: i.size,
    width: i.width,
    height: i.height,
    ...factColumns(i.facts),
    draft: i.draft ? 1 : 0,
    expires_at: i.expiresAt,
    version: i.version,
    svg_sanitizer: i.svgSanitizer ?? null,
  };
}

function toFacts(r: Selectable<ImagesTable>): ImageFacts | null {
  if (r.frames === null || r.frames === undefined || r.oriented_width === null || r.oriented_height === null)
    return null;
  return {
    width: Number(r.oriented_width),
    height: Number(r.oriented_height),
    frames: Number(r.frames),
    alpha: Number(r.alpha) === 1,
    copyright: r.copyright ?? null,
  };
}

/** The facts columns of an image row (all null when the facts are not known). */
export function factColumns(
  f: ImageFacts | null,
): Pick<ImagesTable, 'oriented_width' | 'oriented_height' | 'frames' | 'alpha' | 'copyright'> {
  if (!f) return { oriented_width: null, oriented_height: null, frames: null, alpha: null, copyright: null };
  return {
    oriented_width: f.width,
    oriented_height: f.height,
    frames: f.frames,
    alpha: f.alpha ? 1 : 0,
    copyright: f.copyright,
  };
}

export function toVariant(r: Selectable<VariantsTable>): VariantRecord {
  return {
    accountId: r.account_id,
    id: r.id,
    options: JSON.parse(r.options) as VariantOptions,
    neverRequireSignedURLs: Number(r.never_require_signed) === 1,
    version: Number(r.version),
    createdAt: Number(r.created_at),
  };
}

export function toKey(r: Selectable<SigningKeysTable>): SigningKey {
  return { accountId: r.account_id, name: r.name, value: r.value, createdAt: Number(r.created_at) };
}

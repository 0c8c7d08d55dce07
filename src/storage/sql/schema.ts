/**
 * Table types for Kysely. Booleans are stored as integers (0/1) and times as milliseconds since the
 * epoch in both dialects, so one set of queries serves SQLite and PostgreSQL.
 */
import type { Generated } from 'kysely';

export interface AccountsTable {
  id: string;
  hash: string;
  allowance: number;
  flexible_variants: number;
  browser_ttl: number;
  created_at: number;
}

export interface CredentialsTable {
  secret_hash: string;
  kind: string;
  email: string | null;
  permissions: string;
  account_ids: string;
  label: string;
  created_at: number;
  expires_at: number | null;
}

export interface ImagesTable {
  seq: Generated<number>;
  account_id: string;
  id: string;
  filename: string | null;
  meta: string | null;
  creator: string | null;
  require_signed: number;
  uploaded: number;
  blob_key: string | null;
  content_type: string | null;
  format: string | null;
  size: number;
  width: number | null;
  height: number | null;
  /** Facts (migration 0004): oriented size, frames, alpha (0/1), EXIF copyright; frames null = not recorded. */
  oriented_width: number | null;
  oriented_height: number | null;
  frames: number | null;
  alpha: number | null;
  copyright: string | null;
  draft: number;
  expires_at: number | null;
  version: number;
  /** Migration 0004_svg_sanitizer_version; null before it and for non-SVG images. */
  svg_sanitizer: number | null;
}

/** Flattened scalar metadata values, one row per (image, path, value), for indexed v2 filters. */
export interface ImageMetaTable {
  account_id: string;
  image_seq: number;
  path: string;
  /** The value as text (strings; numbers and booleans also, so plain `eq` can match them). */
  s: string | null;
  /** The value as a number when it is one. */
  n: number | null;
  /** 1/0 for booleans. */
  b: number | null;
}

export interface VariantsTable {
  account_id: string;
  id: string;
  options: string;
  never_require_signed: number;
  version: number;
  created_at: number;
  seq: number;
}

export interface SigningKeysTable {
  account_id: string;
  name: string;
  value: string;
  created_at: number;
  seq: number;
}

export interface Database {
  accounts: AccountsTable;
  credentials: CredentialsTable;
  images: ImagesTable;
  image_meta: ImageMetaTable;
  variants: VariantsTable;
  signing_keys: SigningKeysTable;
}

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
  draft: number;
  expires_at: number | null;
  version: number;
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
  variants: VariantsTable;
  signing_keys: SigningKeysTable;
}

/** MetadataStore on SQLite (better-sqlite3, WAL), through the shared Kysely store. */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { MetadataStore } from '../types.js';
import type { Database } from '../sql/schema.js';
import { SqlMetadataStore } from '../sql/sql-metadata-store.js';

export interface SqliteConfig {
  /** Path of the database file, or ':memory:'. */
  filename: string;
}

/**
 * Opens (and creates) a SQLite metadata store. Call `migrate()` before use.
 * @example const store = createSqliteMetadataStore({ filename: ':memory:' }); await store.migrate();
 */
export function createSqliteMetadataStore(config: SqliteConfig): MetadataStore {
  if (!config.filename) throw new Error('createSqliteMetadataStore: filename is required');
  if (config.filename !== ':memory:') mkdirSync(dirname(config.filename), { recursive: true });
  const database = new BetterSqlite3(config.filename);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('busy_timeout = 5000');
  database.pragma('foreign_keys = ON');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
  return new SqlMetadataStore(db, 'sqlite');
}

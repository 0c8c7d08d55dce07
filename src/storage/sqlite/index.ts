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
  // Kysely prepares every query anew; better-sqlite3 statements are reusable (the driver is
  // synchronous, so one statement is never in use twice at once), so keep them by SQL text.
  const statements = new Map<string, ReturnType<typeof database.prepare>>();
  const cached = {
    prepare(sql: string) {
      let stmt = statements.get(sql);
      if (!stmt) {
        if (statements.size >= 1000) statements.clear();
        stmt = database.prepare(sql);
        statements.set(sql, stmt);
      }
      return stmt;
    },
    close: () => database.close(),
  };
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cached as unknown as BetterSqlite3.Database }) });
  return new SqlMetadataStore(db, 'sqlite');
}

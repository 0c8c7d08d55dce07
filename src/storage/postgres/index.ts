/** MetadataStore on PostgreSQL (pg), through the same Kysely store as SQLite. */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { MetadataStore } from '../types.js';
import type { Database } from '../sql/schema.js';
import { SqlMetadataStore } from '../sql/sql-metadata-store.js';

export interface PostgresConfig {
  /** postgres://user:password@host:port/database */
  connectionString: string;
  /** Schema to use (created when missing); default `public`. */
  schema?: string;
  /** Pool size; default 10. */
  max?: number;
}

/**
 * Opens a PostgreSQL metadata store. Call `migrate()` before use; migrations take Kysely's lock, so
 * two nodes starting at once do not race.
 * @example const store = createPostgresMetadataStore({ connectionString: process.env.DATABASE_URL! });
 */
export function createPostgresMetadataStore(config: PostgresConfig): MetadataStore {
  if (!/^postgres(ql)?:\/\//.test(config.connectionString)) throw new Error('createPostgresMetadataStore: connectionString must be a postgres:// URL');
  const schema = config.schema ?? 'public';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`createPostgresMetadataStore: invalid schema name ${schema}`);
  const pool = new pg.Pool({
    connectionString: config.connectionString,
    max: config.max ?? 10,
    connectionTimeoutMillis: 5000,
    // Every connection works in the configured schema.
    options: `-c search_path=${schema}`,
  });
  // A pool error (the server went away) must not crash the process; queries fail and retry later.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return new SqlMetadataStore(
    db,
    'postgres',
    async () => {
      if (schema !== 'public') await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    },
    schema,
  );
}

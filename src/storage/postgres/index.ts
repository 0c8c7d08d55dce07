/** MetadataStore on PostgreSQL (pg), through the same Kysely store as SQLite. */
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { MetadataStore } from '../types.js';
import type { Database } from '../sql/schema.js';
import { SqlMetadataStore } from '../sql/sql-metadata-store.js';
import { CHANGE_CHANNEL } from './changes.js';

export { listenForChanges, listenerApplicationName, type ChangeListener } from './changes.js';

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
  if (!/^postgres(ql)?:\/\//.test(config.connectionString))
    throw new Error('createPostgresMetadataStore: connectionString must be a postgres:// URL');
  const schema = config.schema ?? 'public';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
    throw new Error(`createPostgresMetadataStore: invalid schema name ${schema}`);
  const pool = new pg.Pool({
    connectionString: config.connectionString,
    max: config.max ?? 10,
    connectionTimeoutMillis: 5000,
    // Every connection works in the configured schema.
    options: `-c search_path=${schema}`,
  });
  // A connection dropped by the server must not crash the process, whether idle in the pool or checked
  // out mid-query (that query rejects; the pool opens new connections when the server is back).
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return new SqlMetadataStore(
    db,
    'postgres',
    async () => {
      if (schema === 'public') return;
      try {
        await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      } catch (e) {
        // Two nodes creating the schema at the same moment: the loser sees a unique violation.
        const code = (e as { code?: string }).code;
        if (code !== '23505' && code !== '42P06') throw e;
      }
    },
    schema,
    // Other nodes' listeners (changes.ts) learn of the change when, and only if, it commits.
    async (trx) => {
      await sql`select pg_notify(${CHANGE_CHANNEL}, ${schema})`.execute(trx);
    },
  );
}

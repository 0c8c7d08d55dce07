/** MetadataStore on SQLite (better-sqlite3, WAL), through the shared Kysely store. */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type SqliteDialectConfig,
} from 'kysely';
import type { MetadataStore } from '../types.js';
import type { Database } from '../sql/schema.js';
import { SqlMetadataStore } from '../sql/sql-metadata-store.js';

export interface SqliteConfig {
  /** Path of the database file, or ':memory:'. */
  filename: string;
}

export interface SqliteMetadataStore extends MetadataStore {
  /**
   * Whether another connection (another process on the same file) committed since the last call:
   * SQLite's `PRAGMA data_version`, which moves only for other connections' commits. About a
   * microsecond (a prepared statement on the open connection), cheap enough for every memo read.
   */
  changedElsewhere(): boolean;
}

/**
 * Writers begin with `BEGIN IMMEDIATE`: with several processes on one file, a deferred transaction
 * that reads and then writes fails at once with SQLITE_BUSY when another process wrote in between
 * (its read snapshot is stale, so busy_timeout cannot help); an immediate one takes the write lock
 * first and waits up to busy_timeout for it. Kysely's driver hard-codes `begin`, so the subclass.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly driverConfig: SqliteDialectConfig) {
    super(driverConfig);
  }

  override createDriver(): SqliteDriver {
    return new ImmediateSqliteDriver(this.driverConfig);
  }
}

/**
 * Opens (and creates) a SQLite metadata store. Call `migrate()` before use. Several processes may
 * open the same file (WAL; writers wait up to 5 s for the lock).
 * @example const store = createSqliteMetadataStore({ filename: ':memory:' }); await store.migrate();
 */
export function createSqliteMetadataStore(config: SqliteConfig): SqliteMetadataStore {
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
  const db = new Kysely<Database>({
    dialect: new ImmediateSqliteDialect({ database: cached as unknown as BetterSqlite3.Database }),
  });
  const dataVersion = database.prepare('PRAGMA data_version').pluck();
  let seen = dataVersion.get() as number;
  return Object.assign(new SqlMetadataStore(db, 'sqlite'), {
    changedElsewhere(): boolean {
      if (!database.open) return false;
      const now = dataVersion.get() as number;
      if (now === seen) return false;
      seen = now;
      return true;
    },
  });
}

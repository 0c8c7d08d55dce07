/** MetadataStore on SQLite (better-sqlite3, WAL), through the shared Kysely store. */
import {
  closeSync,
  constants,
  fstatSync,
  mkdirSync,
  openSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { isStorageFull } from '../../core/backend-errors.js';
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
  /**
   * How long other processes reuse a check of `data_version` (PICTOR_CHANGE_WINDOW_MS, default 1):
   * `close()` after a change waits this long, so a CLI command's change is seen once it has returned.
   */
  changeWindowMs?: number;
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
  constructor(
    config: SqliteDialectConfig,
    private readonly raw: BetterSqlite3.Database,
  ) {
    super(config);
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }

  /**
   * SQLite rolls a transaction back by itself when a statement fails with SQLITE_FULL or an I/O error;
   * a second `rollback` would then fail with "cannot rollback - no transaction is active" and hide
   * the real cause (a full disk, which answers 5540) behind a 500.
   */
  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    if (!this.raw.inTransaction) return;
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(
    private readonly driverConfig: SqliteDialectConfig,
    private readonly raw: BetterSqlite3.Database,
  ) {
    super(driverConfig);
  }

  override createDriver(): SqliteDriver {
    return new ImmediateSqliteDriver(this.driverConfig, this.raw);
  }
}

/** Bytes kept in reserve beside the database file (see `Headroom`). */
export const HEADROOM_BYTES = 1024 * 1024;

/**
 * A reserve file beside the database (`<file>-headroom`, up to 1 MiB of zeros), given back to the
 * file system when SQLite finds the disk full, so that the writes that free space can still run.
 *
 * Why a reserve and not a journal setting: in WAL mode a delete appends frames to the WAL, and a
 * checkpoint that would let the WAL restart from its beginning must first grow the main file with
 * the pages of the last inserts; on a full disk both fail (SQLITE_FULL). A rollback journal in
 * PERSIST mode would reuse its blocks, but trades away WAL's readers-never-block-writers that the
 * multi-process setup relies on. And after a clean close SQLite removes the WAL and its `-shm`; on
 * a full disk even opening for reads then fails (SQLITE_IOERR_SHMSIZE: the 32 KiB shared-memory file
 * cannot be allocated). One reserve, released on the first such failure, covers both: a delete or
 * the start retries once with its blocks free.
 *
 * It is topped up (as far as free space allows, so it may be smaller than 1 MiB for a while) when the
 * store opens and closes and before every delete; right after a release the free blocks it leaves
 * are taken back into it, so the space a released reserve frees goes to SQLite, not to the next upload.
 */
export class Headroom {
  constructor(
    readonly path: string,
    private readonly bytes = HEADROOM_BYTES,
  ) {}

  /** Bytes the reserve holds now. */
  size(): number {
    try {
      return statSync(this.path).size;
    } catch {
      return 0;
    }
  }

  /** Grows the reserve towards its full size; stops quietly when the disk is full. */
  restore(): void {
    // Several processes share the reserve: another's release may unlink the file while this one
    // writes to it, and the blocks written would come free when this one closes it. So the file
    // written is checked to be still the one at the path, and the top-up is made again if not.
    for (let attempt = 0; attempt < 3; attempt++) if (this.topUp()) return;
  }

  /** One top-up of the file at the path; false when that file was unlinked meanwhile. */
  private topUp(): boolean {
    let have = this.size();
    if (have >= this.bytes) return true;
    let fd: number;
    try {
      // Not O_APPEND: two processes topping up at once write the same offsets (appending, each would
      // add its own missing part, and the reserve grew past its size).
      fd = openSync(this.path, constants.O_WRONLY | constants.O_CREAT);
    } catch {
      return true;
    }
    try {
      // Real zeros, not a sparse file (truncate): the blocks must be allocated to be given back.
      const chunk = Buffer.alloc(4096);
      while (have < this.bytes) {
        const n = writeSync(fd, chunk, 0, Math.min(chunk.length, this.bytes - have), have);
        if (n <= 0) break;
        have += n;
      }
    } catch {
      // ENOSPC (or EDQUOT): keep what was written; it is reserve too.
    }
    try {
      return fstatSync(fd).ino === statSync(this.path).ino;
    } catch {
      return false;
    } finally {
      closeSync(fd);
    }
  }

  /** Deletes the reserve; true when it held blocks (so a retry has them to use). */
  release(): boolean {
    const had = this.size();
    try {
      unlinkSync(this.path);
    } catch {
      return false;
    }
    return had > 0;
  }
}

/** Store methods that free space (or need none): on a full disk they release the headroom and retry once. */
const FREEING = [
  'deleteImage',
  'deleteVariant',
  'deleteKey',
  'deleteCredential',
  'deleteExpiredDrafts',
] as const;

/**
 * Opens (and creates) a SQLite metadata store. Call `migrate()` before use. Several processes may
 * open the same file (WAL; writers wait up to 5 s for the lock).
 * @example const store = createSqliteMetadataStore({ filename: ':memory:' }); await store.migrate();
 */
export function createSqliteMetadataStore(config: SqliteConfig): SqliteMetadataStore {
  if (!config.filename) throw new Error('createSqliteMetadataStore: filename is required');
  const onDisk = config.filename !== ':memory:';
  if (onDisk) mkdirSync(dirname(config.filename), { recursive: true });
  const headroom = onDisk ? new Headroom(`${config.filename}-headroom`) : undefined;
  headroom?.restore();
  const open = (): BetterSqlite3.Database => {
    const database = new BetterSqlite3(config.filename);
    try {
      database.pragma('journal_mode = WAL');
      database.pragma('synchronous = NORMAL');
      database.pragma('busy_timeout = 5000');
      database.pragma('foreign_keys = ON');
      return database;
    } catch (e) {
      database.close();
      throw e;
    }
  };
  let database: BetterSqlite3.Database;
  try {
    database = open();
  } catch (e) {
    // Opening needs the -shm file's blocks; on a full disk, give the headroom back and try again.
    if (!isStorageFull(e) || !headroom?.release()) throw e;
    database = open();
  }
  // Topped up after every open, not only after this one's release: the processes of a node share the
  // reserve, and another's release (or its last close removing -wal and -shm) may free blocks while
  // this one opens, which would otherwise stay free on a full disk.
  headroom?.restore();
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
    dialect: new ImmediateSqliteDialect({ database: cached as unknown as BetterSqlite3.Database }, database),
  });
  const dataVersion = database.prepare('PRAGMA data_version').pluck();
  let seen = dataVersion.get() as number;
  const store = new SqlMetadataStore(db, 'sqlite');
  if (headroom) {
    for (const name of FREEING) {
      const method = store[name].bind(store) as (...args: unknown[]) => Promise<unknown>;
      const freeing = async (...args: unknown[]): Promise<unknown> => {
        headroom.restore();
        try {
          return await method(...args);
        } catch (e) {
          if (!isStorageFull(e) || !headroom.release()) throw e;
          try {
            return await method(...args);
          } finally {
            headroom.restore();
          }
        }
      };
      Object.defineProperty(store, name, { value: freeing, configurable: true, writable: true });
    }
    const close = store.close.bind(store);
    store.close = async () => {
      await close();
      headroom.restore();
    };
  }
  // Other processes reuse a check of `data_version` for `changeWindowMs` (core/generation.ts): a
  // connection that changed anything closes (a CLI command returns) only once that has passed.
  const totalChanges = database.prepare('SELECT total_changes()').pluck();
  const closeNow = store.close.bind(store);
  store.close = async () => {
    if (database.open && (totalChanges.get() as number) > 0)
      // (A timer may fire up to a millisecond early.)
      await new Promise((r) => setTimeout(r, (config.changeWindowMs ?? 1) + 2));
    await closeNow();
    // Kysely closes the driver only if a query ever ran; a store opened and closed unused kept its
    // handle (and so SQLite's -wal and -shm files) until the process ended.
    if (database.open) database.close();
  };
  return Object.assign(store, {
    changedElsewhere(): boolean {
      if (!database.open) return false;
      const now = dataVersion.get() as number;
      if (now === seen) return false;
      seen = now;
      return true;
    },
  });
}

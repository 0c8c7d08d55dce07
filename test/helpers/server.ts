/**
 * Test harness: a real Pictor server on an ephemeral loopback port, with its bootstrap account and token,
 * on the backend `PICTOR_TEST_BACKEND` names: SQLite + local files in a fresh temporary directory (unset),
 * PostgreSQL in a schema of its own (`postgres`), or PostgreSQL + S3 (s3rver in-process, a bucket prefix
 * of its own; `scale-out`).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { loadConfig } from '../../src/config/index.js';
import type { Clock } from '../../src/core/clock.js';
import { compose, type Composition } from '../../src/server/compose.js';
import { type RunningServer, startServer as startPictor } from '../../src/server/main.js';
import { createS3BlobStore } from '../../src/storage/s3/index.js';
import { countFiles } from './files.js';
import { dropSchema, TEST_DATABASE_URL } from './postgres.js';
import { startTestS3 } from './s3.js';

export const TEST_ACCOUNT_ID = '023e105f4ecef8ad9ca31a8372d0c353';
export const TEST_TOKEN = 'pictor-test-token-0123456789abcdefghij';

/** What `PICTOR_TEST_BACKEND` asks for. */
export type BackendKind = 'embedded' | 'postgres' | 'scale-out';

export function backendKind(): BackendKind {
  const mode = process.env.PICTOR_TEST_BACKEND;
  return mode === 'postgres' || mode === 'scale-out' ? mode : 'embedded';
}

/** What is stored, counted below the API: for "nothing was stored" assertions. */
export interface Stored {
  /**
   * Stored blobs: every file under `<dataDir>/blobs` on local files (temporary files included), every
   * object under the server's prefix outside `renditions/` on S3.
   */
  blobs: number;
  /** Rows of the `images` table (drafts included, every account). */
  rows: number;
}

/**
 * The storage one or more servers share: a PostgreSQL schema and an S3 prefix of their own where the
 * backend asks for them. Each node keeps a data directory of its own.
 */
export interface TestBackend {
  kind: BackendKind;
  /** DATABASE_URL, PICTOR_DATABASE_SCHEMA and S3_* (empty on SQLite + files). */
  env: Record<string, string>;
  /** The PostgreSQL schema of the tables, on `postgres` and `scale-out`. */
  schema: string | undefined;
  /** Counts what is stored, for a node whose data directory is `dataDir`. */
  stored(dataDir: string): Promise<Stored>;
  close(): Promise<void>;
}

export async function startBackend(kind: BackendKind = backendKind()): Promise<TestBackend> {
  const schema = kind === 'embedded' ? undefined : `pictor_e2e_${randomBytes(6).toString('hex')}`;
  const s3 = kind === 'scale-out' ? await startTestS3() : undefined;
  const env: Record<string, string> = {
    ...(schema ? { DATABASE_URL: TEST_DATABASE_URL, PICTOR_DATABASE_SCHEMA: schema } : {}),
    ...(s3
      ? {
          S3_ENDPOINT: s3.endpoint,
          S3_BUCKET: s3.bucket,
          S3_REGION: s3.region,
          S3_ACCESS_KEY_ID: s3.accessKeyId,
          S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
          S3_FORCE_PATH_STYLE: 'true',
          S3_PREFIX: `e2e-${randomBytes(6).toString('hex')}/`,
        }
      : {}),
  };
  const s3Config = s3 ? loadConfig({ ...env, PICTOR_DATA_DIR: tmpdir() }).s3 : undefined;
  const objects = s3Config ? createS3BlobStore(s3Config) : undefined;
  return {
    kind,
    env,
    schema,
    async stored(dataDir) {
      let blobs = 0;
      if (objects) {
        for await (const key of objects.list()) if (!key.startsWith('renditions/')) blobs++;
      } else blobs = countFiles(join(dataDir, 'blobs'));
      return { blobs, rows: schema ? await postgresRows(schema) : sqliteRows(dataDir) };
    },
    async close() {
      await objects?.close();
      if (schema) await dropSchema(schema);
      await s3?.close();
    },
  };
}

async function postgresRows(schema: string): Promise<number> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    const r = await client.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".images`);
    return Number(r.rows[0]!.n);
  } finally {
    await client.end();
  }
}

function sqliteRows(dataDir: string): number {
  const db = new Database(join(dataDir, 'pictor.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM images').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

export interface TestServer {
  /** http://127.0.0.1:<port> */
  url: string;
  /** http://127.0.0.1:<port>/client/v4 */
  apiBase: string;
  accountId: string;
  token: string;
  dataDir: string;
  /** The PostgreSQL schema of the server's tables under PICTOR_TEST_BACKEND=postgres or scale-out. */
  databaseSchema: string | undefined;
  /** http://127.0.0.1:<port> of the bare imagedelivery.net form, when PICTOR_DELIVERY_PORT is set. */
  deliveryUrl: string | undefined;
  /** http://127.0.0.1:<port> of the metrics endpoint (PICTOR_METRICS_PORT=0 by default). */
  metricsUrl: string | undefined;
  /** DATABASE_URL, PICTOR_DATABASE_SCHEMA and S3_* of this server's backend (empty on SQLite + files), for CLI children. */
  backendEnv: Record<string, string>;
  /** What the server has stored, counted in its files, bucket and tables. */
  stored(): Promise<Stored>;
  /** With PICTOR_PROCESSES > 1: the pids of the worker processes serving now. */
  workers(): number[];
  close(): Promise<void>;
}

/** A clock a test can move: `now()` answers `t`. */
export interface TestClock extends Clock {
  t: number;
}

/**
 * PICTOR_PROCESSES for servers the suites start: 1 unless PICTOR_TEST_PROCESSES says otherwise
 * (`npm run test:processes` runs every end-to-end suite with 2).
 */
export const TEST_PROCESSES = process.env.PICTOR_TEST_PROCESSES || '1';

export function testClock(t = Date.now()): TestClock {
  const clock: TestClock = { t, now: () => clock.t };
  return clock;
}

export interface StartOptions {
  /** Entries over the defaults (e.g. PICTOR_IMAGE_ALLOWANCE). */
  env?: Record<string, string>;
  /** The clock `seed` runs under (default: one at the current time). The server runs on the system clock. */
  clock?: TestClock;
  /**
   * Writes state before the server starts, through the composition root on the same backend and data
   * directory (the bootstrap account exists by then), e.g. tokens or drafts dated in the past.
   */
  seed?: (c: Composition, clock: TestClock) => Promise<void>;
  /** The storage to use (shared between nodes); by default one of its own, dropped on close. */
  backend?: TestBackend;
  /** Prefix of the data directory's name. */
  name?: string;
}

/**
 * The env of a server on `dataDir` with the test account and token, on an ephemeral loopback port, silent:
 * for suites that start `src/server/main.ts` themselves (restarts on one directory, proxies in between).
 */
export function serverEnv(dataDir: string): Record<string, string> {
  return {
    PORT: '0',
    HOST: '127.0.0.1',
    PICTOR_DATA_DIR: dataDir,
    PICTOR_ACCOUNT_ID: TEST_ACCOUNT_ID,
    PICTOR_API_TOKEN: TEST_TOKEN,
    LOG_LEVEL: 'silent',
    PICTOR_PROCESSES: TEST_PROCESSES,
  };
}

/** Env every test server starts from. */
function baseEnv(dataDir: string): Record<string, string> {
  return {
    ...serverEnv(dataDir),
    PICTOR_METRICS_PORT: '0',
    // A request a test leaves hanging (the fuzz suite's half-sent bodies) must not hold close() for the
    // default 30 s drain, which is the hook timeout.
    PICTOR_SHUTDOWN_TIMEOUT: '5',
  };
}

/** Issues an Images Read token on the test account (from a `seed`). */
export async function issueReadToken(c: Composition): Promise<string> {
  const issued = await c.api.accounts.issueToken({
    accountIds: [TEST_ACCOUNT_ID],
    permissions: ['read'],
    label: 'read-only',
  });
  return issued.token;
}

/** Starts a server (and its backend, unless one is given); `close()` removes everything it made. */
export async function startServer(opts: StartOptions = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), `${opts.name ?? 'pictor-test'}-`));
  const backend = opts.backend ?? (await startBackend());
  const release = async () => {
    rmSync(dataDir, { recursive: true, force: true });
    if (!opts.backend) await backend.close();
  };
  let server: RunningServer;
  try {
    const config = loadConfig({ ...backend.env, ...baseEnv(dataDir), ...opts.env });
    if (opts.seed) {
      const clock = opts.clock ?? testClock();
      const c = await compose(config, { clock });
      try {
        // The account bootstrap would create at start, so that seeds can refer to it.
        if (!(await c.api.accounts.get(TEST_ACCOUNT_ID)))
          await c.api.accounts.create({ id: TEST_ACCOUNT_ID });
        await opts.seed(c, clock);
      } finally {
        await c.close();
      }
    }
    server = await startPictor(config, { quiet: true });
  } catch (e) {
    await release();
    throw e;
  }
  return {
    url: server.url,
    apiBase: `${server.url}/client/v4`,
    accountId: TEST_ACCOUNT_ID,
    token: TEST_TOKEN,
    dataDir,
    databaseSchema: backend.schema,
    backendEnv: backend.env,
    deliveryUrl: server.deliveryUrl,
    metricsUrl: server.metricsUrl,
    stored: () => backend.stored(dataDir),
    workers: () => server.workers(),
    async close() {
      await server.close();
      await release();
    },
  };
}

/** startServer with only extra env entries. */
export function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  return startServer({ env });
}

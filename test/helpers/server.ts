/**
 * Test harness: a real Pictor server (SQLite + local files in a fresh temporary directory) on an
 * ephemeral loopback port, with its bootstrap account and token.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { startServer } from '../../src/server/main.js';
import { randomBytes } from 'node:crypto';
import { dropSchema, TEST_DATABASE_URL } from './postgres.js';
import { startTestS3 } from './s3.js';

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
  /** With PICTOR_PROCESSES > 1: the pids of the worker processes serving now. */
  workers(): number[];
  close(): Promise<void>;
}

/**
 * PICTOR_PROCESSES for servers the suites start: 1 unless PICTOR_TEST_PROCESSES says otherwise
 * (`npm run test:processes` runs every end-to-end suite with 2).
 */
export const TEST_PROCESSES = process.env.PICTOR_TEST_PROCESSES || '1';

export const TEST_ACCOUNT_ID = '023e105f4ecef8ad9ca31a8372d0c353';
export const TEST_TOKEN = 'pictor-test-token-0123456789abcdefghij';

/** Starts a server; extra env entries override the defaults (e.g. PICTOR_IMAGE_ALLOWANCE). */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pictor-test-'));
  // PICTOR_TEST_BACKEND=postgres runs the same suites on PostgreSQL (a schema of their own);
  // PICTOR_TEST_BACKEND=scale-out on PostgreSQL and S3 (s3rver in-process, a bucket prefix of their own).
  const mode = process.env.PICTOR_TEST_BACKEND;
  const schema =
    mode === 'postgres' || mode === 'scale-out' ? `pictor_e2e_${randomBytes(6).toString('hex')}` : undefined;
  const s3 = mode === 'scale-out' ? await startTestS3() : undefined;
  const backend: Record<string, string> = {
    ...(schema ? { DATABASE_URL: TEST_DATABASE_URL, PICTOR_DATABASE_SCHEMA: schema } : {}),
    ...(s3
      ? {
          S3_ENDPOINT: s3.endpoint,
          S3_BUCKET: s3.bucket,
          S3_REGION: s3.region,
          S3_ACCESS_KEY_ID: s3.accessKeyId,
          S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
          S3_FORCE_PATH_STYLE: 'true',
          S3_PREFIX: `e2e-${randomBytes(6).toString('hex')}`,
        }
      : {}),
  };
  const config = loadConfig({
    ...backend,
    PORT: '0',
    HOST: '127.0.0.1',
    PICTOR_DATA_DIR: dataDir,
    PICTOR_ACCOUNT_ID: TEST_ACCOUNT_ID,
    PICTOR_API_TOKEN: TEST_TOKEN,
    LOG_LEVEL: 'silent',
    PICTOR_METRICS_PORT: '0',
    // A request a test leaves hanging (the fuzz suite's half-sent bodies) must not hold close() for the
    // default 30 s drain, which is the hook timeout.
    PICTOR_SHUTDOWN_TIMEOUT: '5',
    PICTOR_PROCESSES: TEST_PROCESSES,
    ...env,
  });
  const server = await startServer(config, { quiet: true });
  return {
    url: server.url,
    apiBase: `${server.url}/client/v4`,
    accountId: config.accountId!,
    token: config.apiToken!,
    dataDir,
    databaseSchema: schema,
    backendEnv: backend,
    deliveryUrl: server.deliveryUrl,
    metricsUrl: server.metricsUrl,
    workers: () => server.workers(),
    async close() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
      if (schema) await dropSchema(schema);
      await s3?.close();
    },
  };
}

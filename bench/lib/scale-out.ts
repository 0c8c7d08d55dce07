/**
 * The scale-out backends for the benchmarks: the local PostgreSQL server (a schema of its own per run)
 * and S3 through s3rver in the harness's process, both on loopback. pg and s3rver are loaded at run
 * time, so the harness still runs where they are missing and says why.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { descriptors } from '../../src/config/index.js';

/** The few pg calls used here. */
export interface PgClient {
  connect(): Promise<void>;
  query(sql: string, params?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
  end(): Promise<void>;
}

export async function pgClient(url: string): Promise<PgClient> {
  const name = 'pg';
  const mod = (await import(name)) as {
    default: { Client: new (o: { connectionString: string; connectionTimeoutMillis?: number }) => PgClient };
  };
  const c = new mod.default.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await c.connect();
  return c;
}

/** BENCH_DATABASE_URL, else the tests' PostgreSQL (PICTOR_TEST_DATABASE_URL or the local server). */
export const PG_URL =
  process.env.BENCH_DATABASE_URL ??
  process.env.PICTOR_TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/test';

/** Why PostgreSQL cannot be measured here, or undefined when it can. */
export async function postgresUnavailable(): Promise<string | undefined> {
  if (!descriptors.some((d) => d.env === 'DATABASE_URL'))
    return 'the PostgreSQL store does not exist yet (no DATABASE_URL setting)';
  let host: string;
  try {
    host = new URL(PG_URL).hostname;
  } catch {
    return `BENCH_DATABASE_URL is not a URL`;
  }
  if (host !== '127.0.0.1' && host !== 'localhost')
    return `${host} is not loopback (benchmark traffic stays on 127.0.0.1)`;
  try {
    const c = await pgClient(PG_URL);
    await c.query('select 1');
    await c.end();
    return undefined;
  } catch (e) {
    return `no PostgreSQL answered at ${PG_URL.replace(/\/\/[^@]*@/, '//')} (${e instanceof Error ? e.message : String(e)}); set BENCH_DATABASE_URL`;
  }
}

export async function dropSchema(schema: string): Promise<void> {
  const c = await pgClient(PG_URL);
  try {
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await c.end();
  }
}

export interface ScaleOut {
  /** The env a Pictor server needs to run on PostgreSQL (its own schema) + S3 (s3rver). */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** A fresh PostgreSQL schema and an s3rver bucket on 127.0.0.1 for one Pictor server. */
export async function startScaleOut(tmp: string, tag: string): Promise<ScaleOut> {
  const name = 's3rver';
  const S3rver = (
    (await import(name)) as {
      default: new (
        o: Record<string, unknown>,
      ) => { run(): Promise<{ address: string; port: number }>; close(): Promise<void> };
    }
  ).default;
  const directory = mkdtempSync(join(tmp, `s3-${tag}-`));
  const bucket = 'pictor-bench';
  const s3 = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  const { address, port } = await s3.run();
  const schema = `pictor_bench_${tag}_${process.pid}`;
  await dropSchema(schema);
  return {
    env: {
      DATABASE_URL: PG_URL,
      PICTOR_DATABASE_SCHEMA: schema,
      S3_ENDPOINT: `http://${address}:${port}`,
      S3_BUCKET: bucket,
      S3_REGION: 'us-east-1',
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
      S3_FORCE_PATH_STYLE: 'true',
    },
    async close() {
      await s3.close();
      rmSync(directory, { recursive: true, force: true });
      await dropSchema(schema).catch(() => undefined);
    },
  };
}

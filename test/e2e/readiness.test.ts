/**
 * /readyz on the scale-out backends: a node reaches PostgreSQL and S3 (s3rver) through TCP proxies the
 * test can stop. With PostgreSQL stopped /readyz answers 503 naming `postgres`; with S3 stopped, 503
 * naming `s3`; when each comes back, 200 again without a restart. /healthz stays 200 throughout.
 * Skips with the helper's one-line message when PostgreSQL does not answer (fails under CI).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { startServer, type RunningServer } from '../../src/server/main.js';
import { dropSchema, postgresAvailable, TEST_DATABASE_URL } from '../helpers/postgres.js';
import { startTestS3, type TestS3 } from '../helpers/s3.js';
import { TEST_ACCOUNT_ID, TEST_PROCESSES, TEST_TOKEN } from '../helpers/server.js';

const available = await postgresAvailable();

/** Forwards a loopback port to a target; `stop()` drops every connection and refuses new ones. */
class Proxy {
  port = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  constructor(private readonly target: { host: string; port: number }) {}
  async start(): Promise<void> {
    if (this.server) return;
    const server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => this.sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => server.listen(this.port, '127.0.0.1', () => r()));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}

async function readyz(url: string): Promise<{ status: number; body: { status: string; failing: string[] } }> {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, body: (await res.json()) as { status: string; failing: string[] } };
}

/** Polls /readyz until it answers `status` (the pool may need a moment to notice a backend came back). */
async function until(
  url: string,
  status: number,
): Promise<{ status: number; body: { status: string; failing: string[] } }> {
  const end = Date.now() + 30_000;
  for (;;) {
    const r = await readyz(url);
    if (r.status === status || Date.now() > end) return r;
    await new Promise((res) => setTimeout(res, 200));
  }
}

describe.skipIf(!available)(
  'readiness on PostgreSQL + S3, backends stopping and returning',
  { timeout: 120_000 },
  () => {
    let s3: TestS3;
    let pg: Proxy;
    let s3Proxy: Proxy;
    let server: RunningServer;
    const schema = `pictor_ready_${randomBytes(6).toString('hex')}`;
    const dataDir = mkdtempSync(join(tmpdir(), 'pictor-ready-'));

    beforeAll(async () => {
      s3 = await startTestS3();
      const pgUrl = new URL(TEST_DATABASE_URL);
      pg = new Proxy({ host: pgUrl.hostname, port: Number(pgUrl.port || 5432) });
      await pg.start();
      const s3Url = new URL(s3.endpoint);
      s3Proxy = new Proxy({ host: s3Url.hostname, port: Number(s3Url.port) });
      await s3Proxy.start();
      pgUrl.port = String(pg.port);
      server = await startServer(
        loadConfig({
          PICTOR_PROCESSES: TEST_PROCESSES,
          PORT: '0',
          HOST: '127.0.0.1',
          PICTOR_DATA_DIR: dataDir,
          PICTOR_ACCOUNT_ID: TEST_ACCOUNT_ID,
          PICTOR_API_TOKEN: TEST_TOKEN,
          LOG_LEVEL: 'silent',
          PICTOR_READY_TIMEOUT_MS: '1000',
          DATABASE_URL: pgUrl.toString(),
          PICTOR_DATABASE_SCHEMA: schema,
          S3_ENDPOINT: `http://127.0.0.1:${s3Proxy.port}`,
          S3_BUCKET: s3.bucket,
          S3_ACCESS_KEY_ID: s3.accessKeyId,
          S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
          S3_FORCE_PATH_STYLE: 'true',
          S3_PREFIX: `ready-${randomBytes(4).toString('hex')}`,
        }),
        { quiet: true },
      );
    });
    afterAll(async () => {
      await pg.start().catch(() => undefined);
      await s3Proxy.start().catch(() => undefined);
      await server?.close(5000);
      await pg.stop();
      await s3Proxy.stop();
      await s3?.close();
      await dropSchema(schema);
      rmSync(dataDir, { recursive: true, force: true });
    }, 60_000);

    it('both up: 200 ready', async () => {
      const r = await readyz(server.url);
      expect(r.status).toBe(200);
      expect(r.body.status).toBe('ready');
    });

    it('PostgreSQL stops: 503 naming postgres; it returns: 200', async () => {
      await pg.stop();
      const down = await until(server.url, 503);
      expect(down.status).toBe(503);
      expect(down.body.failing).toEqual(['postgres']);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      await pg.start();
      const up = await until(server.url, 200);
      expect(up.status, JSON.stringify(up.body)).toBe(200);
    });

    it('S3 stops: 503 naming s3; it returns: 200', async () => {
      await s3Proxy.stop();
      const down = await until(server.url, 503);
      expect(down.status).toBe(503);
      expect(down.body.failing).toEqual(['s3']);
      await s3Proxy.start();
      const up = await until(server.url, 200);
      expect(up.status, JSON.stringify(up.body)).toBe(200);
    });

    it('shutdown begins: 503 draining at once', async () => {
      server.drain();
      const r = await readyz(server.url);
      expect(r.status).toBe(503);
      expect(r.body.status).toBe('draining');
    });
  },
);

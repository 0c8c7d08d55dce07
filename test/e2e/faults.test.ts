/**
 * Backend outages, end to end: a Pictor node (in this process) reaches PostgreSQL and S3 (s3rver)
 * only through TCP proxies run by the test. Mid-run a proxy drops every connection and then refuses
 * new ones (the backend "stopped"), or accepts them and never answers (a network black hole). While
 * the backend is down:
 *
 * - API calls answer 503 with the JSON envelope (code 5503, or 5540 for a failed S3 write) and a
 *   `Retry-After` header; delivery of an uncached rendition answers 503 as a text body with
 *   `Cf-Resized: err=…`; never 500 and never a hang (each answer within FAIL_FAST_MS);
 * - a failed upload leaves nothing behind: after recovery its custom id is 404.
 *
 * When the proxy comes back the same calls succeed again without restarting the node. An exception
 * nobody catches while the backend is away fails the test: it would kill a real `pictor serve`.
 * Last, a real `pictor serve` child process has PostgreSQL drop its connections while a query is on
 * the wire: the request must answer 503 and the process must stay up.
 *
 * Skips with the helper's one-line message when PostgreSQL does not answer (fails under CI).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { startServer, type RunningServer } from '../../src/server/main.js';
import { childEnv } from '../helpers/cli.js';
import { makeScene } from '../helpers/delivery.js';
import { dropSchema, postgresAvailable, TEST_DATABASE_URL } from '../helpers/postgres.js';
import { startTestS3, type TestS3 } from '../helpers/s3.js';
import { TEST_ACCOUNT_ID, TEST_PROCESSES, TEST_TOKEN } from '../helpers/server.js';

const available = await postgresAvailable();

/** Bound on every answer during an outage (pg's connectionTimeoutMillis is 5 s). */
const FAIL_FAST_MS = 8000;
/** How long the node may take to notice a backend came back. */
const RECOVERY_MS = 15_000;

// ---------------------------------------------------------------------------------------------------
// A TCP proxy that can be cut
// ---------------------------------------------------------------------------------------------------

type ProxyMode = 'up' | 'refuse' | 'blackhole' | 'stall';

class TcpProxy {
  port = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private mode: ProxyMode = 'up';

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<void> {
    await this.listen(0);
  }

  private track(s: Socket): void {
    this.sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => this.sockets.delete(s));
  }

  private listen(port: number): Promise<void> {
    const server = createServer((client) => {
      this.track(client);
      if (this.mode !== 'up') return; // black hole: hold the connection, never answer
      const upstream = connect(this.targetPort, this.targetHost);
      this.track(upstream);
      client.pipe(upstream);
      // Answers flow back only while the proxy is up: `stall` swallows them (a backend that went silent).
      upstream.on('data', (chunk: Buffer) => {
        if (this.mode === 'up') client.write(chunk);
      });
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        this.port = (server.address() as { port: number }).port;
        resolve();
      });
    });
  }

  private dropAll(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  /** The backend stopped: every connection dropped, new ones refused (the port closed). */
  async refuse(): Promise<void> {
    this.mode = 'refuse';
    const server = this.server;
    this.server = undefined;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    this.dropAll();
    await closed;
  }

  /** A network black hole: every connection dropped, new ones accepted and never answered. */
  blackhole(): void {
    this.mode = 'blackhole';
    this.dropAll();
  }

  /** The backend goes silent: connections stay open, nothing comes back, new ones are never answered. */
  stall(): void {
    this.mode = 'stall';
  }

  /** Back to forwarding, on the same port. */
  async restore(): Promise<void> {
    this.dropAll();
    this.mode = 'up';
    if (!this.server) await this.listen(this.port);
  }

  async close(): Promise<void> {
    await this.refuse();
  }
}

// ---------------------------------------------------------------------------------------------------
// Calls
// ---------------------------------------------------------------------------------------------------

interface Answer {
  what: string;
  status: number;
  ms: number;
  headers: Headers;
  text: string;
}

const NO_ANSWER = -1;

/** A request with its duration; no answer within `timeoutMs`, or a dropped connection, reports status -1. */
async function timed(what: string, url: string, init: RequestInit = {}, timeoutMs = 20_000): Promise<Answer> {
  const t0 = performance.now();
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    return { what, status: res.status, ms: Math.round(performance.now() - t0), headers: res.headers, text };
  } catch (e) {
    return {
      what,
      status: NO_ANSWER,
      ms: Math.round(performance.now() - t0),
      headers: new Headers(),
      text: String(e),
    };
  }
}

function describeAnswer(a: Answer): string {
  return `${a.what}: ${a.status} in ${a.ms} ms, retry-after=${a.headers.get('retry-after')} cf-resized=${a.headers.get('cf-resized')} ${a.text.slice(0, 300)}`;
}

/** A 503 JSON failure envelope with one of `codes`, Retry-After, within FAIL_FAST_MS. */
function expectApi503(a: Answer, codes: number[] = [5503]): void {
  const msg = describeAnswer(a);
  expect(a.status, msg).toBe(503);
  expect(a.ms, msg).toBeLessThan(FAIL_FAST_MS);
  expect(a.headers.get('retry-after'), msg).toMatch(/^\d+$/);
  expect(a.headers.get('content-type') ?? '', msg).toMatch(/application\/json/);
  const env = JSON.parse(a.text) as {
    success: boolean;
    result: unknown;
    errors: Array<{ code: number; message: string }>;
  };
  expect(env.success, msg).toBe(false);
  expect(codes, msg).toContain(env.errors[0]?.code);
  expect(env.errors[0]?.message, msg).toMatch(/^ERROR 55\d\d: /);
}

/** A 503 text delivery error with `Cf-Resized: err=…` and Retry-After, within FAIL_FAST_MS. */
function expectDelivery503(a: Answer): void {
  const msg = describeAnswer(a);
  expect(a.status, msg).toBe(503);
  expect(a.ms, msg).toBeLessThan(FAIL_FAST_MS);
  expect(a.headers.get('cf-resized') ?? '', msg).toMatch(/^err=\d+$/);
  expect(a.headers.get('content-type') ?? '', msg).toMatch(/^text\/plain/);
  expect(a.headers.get('retry-after'), msg).toMatch(/^\d+$/);
  expect(a.headers.get('cache-control'), msg).toBe('no-store');
}

/** Polls until `check` answers 200 (or gives up after RECOVERY_MS); returns the last answer and the wait. */
async function until200(check: () => Promise<Answer>): Promise<{ answer: Answer; waited: number }> {
  const t0 = performance.now();
  for (;;) {
    const answer = await check();
    const waited = Math.round(performance.now() - t0);
    if (answer.status === 200 || waited > RECOVERY_MS) return { answer, waited };
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Exceptions nobody caught while the in-process node ran: in a real `pictor serve` process each one
 * would have killed the node (see the child-process suite below).
 */
const uncaught: string[] = [];
const onUncaught = (e: unknown) => {
  uncaught.push(
    e instanceof Error ? `${e.message}\n${e.stack?.split('\n').slice(1, 4).join('\n')}` : String(e),
  );
};

/** `postgres://…` of the test database, with host and port replaced by a proxy's. */
function throughProxy(proxy: TcpProxy): string {
  const url = new URL(TEST_DATABASE_URL);
  url.hostname = '127.0.0.1';
  url.port = String(proxy.port);
  return url.toString();
}

// ---------------------------------------------------------------------------------------------------
// Suite
// ---------------------------------------------------------------------------------------------------

describe.skipIf(!available)('backend outages: 503 fast, recovery without a restart', () => {
  let s3: TestS3;
  let pgProxy: TcpProxy;
  let s3Proxy: TcpProxy;
  let server: RunningServer;
  let schema: string;
  let dataDir: string;
  let images: string;
  let hash: string;
  let imageId: string;
  let photo: Buffer;
  const auth = { authorization: `Bearer ${TEST_TOKEN}` };
  /** Every flexible width asked for is new, so the rendition is never cached. */
  let nextWidth = 101;
  /** Status and duration of every call made during an outage, printed at the end. */
  const timings: string[] = [];

  const details = (id = imageId) =>
    timed(`GET details ${id}`, `${images}/v1/${encodeURIComponent(id)}`, { headers: auth });
  const list = () => timed('GET list', `${images}/v1?per_page=20`, { headers: auth });
  const blob = () => timed('GET blob', `${images}/v1/${imageId}/blob`, { headers: auth });
  const deliverUncached = () => {
    const w = nextWidth++;
    return timed(`GET delivery w=${w}`, `${server.url}/cdn-cgi/imagedelivery/${hash}/${imageId}/w=${w}`);
  };
  const uploadAs = (id: string, timeoutMs?: number) => {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), 'fault.jpg');
    form.append('id', id);
    return timed(
      `POST upload ${id}`,
      `${images}/v1`,
      { method: 'POST', headers: auth, body: form },
      timeoutMs,
    );
  };
  const record = (phase: string, answers: Answer[]) => {
    for (const a of answers) timings.push(`${phase} ${a.what}: ${a.status} in ${a.ms} ms`);
  };

  beforeAll(async () => {
    s3 = await startTestS3();
    const s3Url = new URL(s3.endpoint);
    s3Proxy = new TcpProxy(s3Url.hostname, Number(s3Url.port));
    await s3Proxy.start();
    const pgUrl = new URL(TEST_DATABASE_URL);
    pgProxy = new TcpProxy(pgUrl.hostname, Number(pgUrl.port || 5432));
    await pgProxy.start();
    process.on('uncaughtException', onUncaught);

    schema = `pictor_fault_${randomBytes(6).toString('hex')}`;
    dataDir = mkdtempSync(join(tmpdir(), 'pictor-faults-'));
    server = await startServer(
      loadConfig({
        PICTOR_PROCESSES: TEST_PROCESSES,
        DATABASE_URL: throughProxy(pgProxy),
        PICTOR_DATABASE_SCHEMA: schema,
        S3_ENDPOINT: `http://127.0.0.1:${s3Proxy.port}`,
        S3_BUCKET: s3.bucket,
        S3_REGION: s3.region,
        S3_ACCESS_KEY_ID: s3.accessKeyId,
        S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
        S3_FORCE_PATH_STYLE: 'true',
        S3_PREFIX: `faults-${randomBytes(6).toString('hex')}`,
        PICTOR_ACCOUNT_ID: TEST_ACCOUNT_ID,
        PICTOR_API_TOKEN: TEST_TOKEN,
        PICTOR_DATA_DIR: dataDir,
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'silent',
      }),
      { quiet: true },
    );
    images = `${server.url}/client/v4/accounts/${TEST_ACCOUNT_ID}/images`;
    photo = await makeScene('jpeg', 800, 600);
    const up = await uploadAs('fault/base');
    expect(up.status, describeAnswer(up)).toBe(200);
    const img = (JSON.parse(up.text) as { result: { id: string; variants: string[] } }).result;
    imageId = img.id;
    hash = /\/cdn-cgi\/imagedelivery\/([A-Za-z0-9_-]{22})\//.exec(img.variants[0]!)![1]!;
    const cfg = await timed('PATCH config', `${images}/v1/config`, {
      method: 'PATCH',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ flexible_variants: true }),
    });
    expect(cfg.status, describeAnswer(cfg)).toBe(200);
  });

  afterEach(() => {
    // A backend error nobody listened for would have crashed a real node.
    expect(uncaught.splice(0), 'uncaught exceptions (each would kill a `pictor serve` process)').toEqual([]);
  });

  afterAll(async () => {
    process.off('uncaughtException', onUncaught);
    // Restore both backends first so the node can close its pool cleanly.
    await pgProxy?.restore();
    await s3Proxy?.restore();
    await server?.close();
    await pgProxy?.close();
    await s3Proxy?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (schema) await dropSchema(schema);
    await s3?.close();
    if (timings.length)
      process.stdout.write(`faults: timings of answers during outages\n  ${timings.join('\n  ')}\n`);
  });

  it('everything works through the proxies', async () => {
    for (const a of [await details(), await list(), await blob(), await deliverUncached()]) {
      expect(a.status, describeAnswer(a)).toBe(200);
    }
  });

  /** The calls that must fail fast while PostgreSQL is away, then recover. */
  async function postgresOutage(
    phase: string,
    cut: () => Promise<void> | void,
    uploadId: string,
  ): Promise<void> {
    await cut();
    const answers = await Promise.all([details(), list(), uploadAs(uploadId), deliverUncached()]);
    record(phase, answers);
    const [d, l, u, v] = answers as [Answer, Answer, Answer, Answer];
    expectApi503(d);
    expectApi503(l);
    expectApi503(u);
    expectDelivery503(v);
    // Still down: a second round answers the same way (no stuck pool, no cached failure).
    const again = await Promise.all([details(), deliverUncached()]);
    record(`${phase} (again)`, again);
    expectApi503(again[0]!);
    expectDelivery503(again[1]!);

    await pgProxy.restore();
    const back = await until200(details);
    timings.push(`${phase} recovery: details 200 after ${back.waited} ms`);
    expect(back.answer.status, describeAnswer(back.answer)).toBe(200);
    for (const a of [await list(), await deliverUncached(), await blob()])
      expect(a.status, describeAnswer(a)).toBe(200);
    const up = await uploadAs(`${uploadId}-after`);
    expect(up.status, describeAnswer(up)).toBe(200);
    // The upload tried during the outage left nothing.
    const ghost = await details(uploadId);
    expect(ghost.status, describeAnswer(ghost)).toBe(404);
  }

  it('PostgreSQL stops (connections dropped, port refused): 503 fast; recovery without a restart', async () => {
    await postgresOutage('pg refused', () => pgProxy.refuse(), 'fault/pg-refused');
  });

  it('PostgreSQL unreachable (connections dropped, new ones never answered): 503 within the connect timeout; recovery', async () => {
    await postgresOutage('pg black hole', () => pgProxy.blackhole(), 'fault/pg-blackhole');
  });

  it('S3 stops (connections dropped, port refused): uploads and uncached deliveries 503 fast, nothing half-written; recovery', async () => {
    await s3Proxy.refuse();
    const answers = await Promise.all([uploadAs('fault/s3-refused'), deliverUncached(), blob()]);
    record('s3 refused', answers);
    const [u, v, b] = answers as [Answer, Answer, Answer];
    expectApi503(u, [5540, 5503]);
    expectDelivery503(v);
    expectApi503(b, [5540, 5503]);
    // What needs only PostgreSQL keeps working.
    const d = await details();
    expect(d.status, describeAnswer(d)).toBe(200);

    await s3Proxy.restore();
    const back = await until200(() => uploadAs(`fault/s3-refused-after-${nextWidth++}`));
    timings.push(`s3 refused recovery: upload 200 after ${back.waited} ms`);
    expect(back.answer.status, describeAnswer(back.answer)).toBe(200);
    for (const a of [await deliverUncached(), await blob()]) expect(a.status, describeAnswer(a)).toBe(200);
    const ghost = await details('fault/s3-refused');
    expect(ghost.status, describeAnswer(ghost)).toBe(404);
    const l = await timed('GET list', `${images}/v1?per_page=100`, { headers: auth });
    expect(l.text).not.toContain('"fault/s3-refused"');
  });

  it('S3 unreachable (connections dropped, new ones never answered): uploads and uncached deliveries 503 within the bound; recovery', async () => {
    s3Proxy.blackhole();
    // Bounded by the client so a hang costs FAIL_FAST_MS + 1 s, not the suite.
    const bound = FAIL_FAST_MS + 1000;
    const answers = await Promise.all([
      uploadAs('fault/s3-blackhole', bound),
      (() => {
        const w = nextWidth++;
        return timed(
          `GET delivery w=${w}`,
          `${server.url}/cdn-cgi/imagedelivery/${hash}/${imageId}/w=${w}`,
          {},
          bound,
        );
      })(),
    ]);
    record('s3 black hole', answers);
    const [u, v] = answers as [Answer, Answer];
    // Restore before asserting, so a failure here does not leave the node hanging on S3.
    await s3Proxy.restore();
    expectApi503(u, [5540, 5503]);
    expectDelivery503(v);

    const back = await until200(() => uploadAs(`fault/s3-blackhole-after-${nextWidth++}`));
    timings.push(`s3 black hole recovery: upload 200 after ${back.waited} ms`);
    expect(back.answer.status, describeAnswer(back.answer)).toBe(200);
    const ghost = await details('fault/s3-blackhole');
    expect(ghost.status, describeAnswer(ghost)).toBe(404);
  });
});

// ---------------------------------------------------------------------------------------------------
// A real `pictor serve` process: a query in flight when PostgreSQL goes away
// ---------------------------------------------------------------------------------------------------

interface Child {
  url: string;
  proc: ChildProcessWithoutNullStreams;
  alive(): boolean;
  /** What the child wrote to stderr. */
  errors(): string;
}

/** `node --import tsx src/cli/main.ts serve`; resolves once it prints where it serves. */
async function spawnServe(env: Record<string, string>): Promise<Child> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
    cwd: join(import.meta.dirname, '..', '..'),
    env: childEnv(env),
  });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`pictor serve did not start in 60 s:\n${out}\n${err}`)),
      60_000,
    );
    const check = () => {
      // The banner is on stderr.
      const m = /serving the Cloudflare Images API at (http:\/\/\S+)\/client\/v4/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    proc.stderr.on('data', check);
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`pictor serve exited (${code ?? signal}) before serving:\n${out}\n${err}`));
    });
  });
  return { url, proc, alive: () => proc.exitCode === null && proc.signalCode === null, errors: () => err };
}

describe.skipIf(!available)('PostgreSQL goes away during a query (a real pictor serve process)', () => {
  let pgProxy: TcpProxy;
  let child: Child | undefined;
  let schema: string;
  let dataDir: string;

  beforeAll(async () => {
    const pgUrl = new URL(TEST_DATABASE_URL);
    pgProxy = new TcpProxy(pgUrl.hostname, Number(pgUrl.port || 5432));
    await pgProxy.start();
    schema = `pictor_fault_${randomBytes(6).toString('hex')}`;
    dataDir = mkdtempSync(join(tmpdir(), 'pictor-faults-child-'));
    child = await spawnServe({
      DATABASE_URL: throughProxy(pgProxy),
      PICTOR_DATABASE_SCHEMA: schema,
      PICTOR_ACCOUNT_ID: TEST_ACCOUNT_ID,
      PICTOR_API_TOKEN: TEST_TOKEN,
      PICTOR_DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'silent',
    });
  });

  afterAll(async () => {
    if (child?.alive()) {
      const exited = new Promise((r) => child!.proc.once('exit', r));
      child.proc.kill('SIGKILL');
      await exited;
    }
    await pgProxy?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (schema) await dropSchema(schema);
  });

  it('the in-flight request answers 503 and the node stays up and recovers', async () => {
    const c = child!;
    const list = () =>
      timed('GET list', `${c.url}/client/v4/accounts/${TEST_ACCOUNT_ID}/images/v1`, {
        headers: { authorization: `Bearer ${TEST_TOKEN}` },
      });
    const warm = await list();
    expect(warm.status, describeAnswer(warm)).toBe(200);

    // PostgreSQL goes silent with the request's query on the wire, then drops every connection.
    pgProxy.stall();
    const inFlight = list();
    await new Promise((r) => setTimeout(r, 300));
    const cutAt = performance.now();
    await pgProxy.refuse();
    const answer = await inFlight;
    const sinceCut = Math.round(performance.now() - cutAt);
    await new Promise((r) => setTimeout(r, 300));
    expect(
      c.alive(),
      `the node died when PostgreSQL dropped its connections:\n${c.errors().slice(0, 1500)}`,
    ).toBe(true);
    expect(answer.status, `${describeAnswer(answer)} (${sinceCut} ms after the cut)`).toBe(503);
    expect(sinceCut).toBeLessThan(FAIL_FAST_MS);

    await pgProxy.restore();
    const back = await until200(list);
    expect(back.answer.status, describeAnswer(back.answer)).toBe(200);
  });
});

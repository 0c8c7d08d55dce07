/**
 * Pictor as the benchmarks see it: a CHILD process (`node <dist>/cli/main.js serve`, or
 * `node --import tsx src/cli/main.ts serve`) on a fresh data dir with a known account and token, on
 * an ephemeral loopback port, silent logs. Its own CPU and RSS are then measurable apart from the
 * harness's. Thin wrappers over the REST API, delivery URLs and /metrics.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { agent, http, multipart, type Response } from './http.js';
import { spawnChild, waitFor, type Child } from './procs.js';
import { HEAP_FLAGS } from '../../src/server/node-flags.js';

export const ACCOUNT_ID = '5e1ec7ed0ddba11cafef00d0b5e55ed0';
export const TOKEN = 'pictor-bench-token-0123456789abcdef';
export const ROOT = resolve(import.meta.dirname, '..', '..');

/** How the server is started: a compiled tree (closest to production) or the TypeScript sources via tsx. */
export type ServerCommand = { kind: 'dist'; main: string } | { kind: 'tsx' };
let command: ServerCommand = { kind: 'tsx' };

export function setServerCommand(c: ServerCommand): void {
  command = c;
}

export function serverCommand(): ServerCommand {
  return command;
}

export interface PictorOptions {
  /** Extra env (PICTOR_WORKERS, PICTOR_CACHE_MEMORY_MB, ...). */
  env?: Record<string, string>;
  /** Reuse this data dir (kept on stop); default: a fresh temp dir, removed on stop. */
  dataDir?: string;
  /** Write a V8 CPU profile of the server into this directory (on a clean exit). */
  cpuProfDir?: string;
}

export interface Pictor {
  url: string;
  /** http://127.0.0.1:<port>/client/v4/accounts/<id>/images */
  images: string;
  accountHash: string;
  pid: number;
  child: Child;
  dataDir: string;
  /** GET a delivery URL (`/cdn-cgi/imagedelivery/<hash>/<id>/<variant>`). */
  deliveryUrl(imageId: string, variant: string): string;
  /** A JSON API call under /images; throws unless the envelope says success. */
  api<T = unknown>(method: string, path: string, json?: unknown): Promise<T>;
  /** POST /images/v1 with the bytes as the `file` part; returns the new image id. */
  upload(data: Buffer, filename?: string): Promise<string>;
  /** Sum of pictor_transforms_total over every format. */
  transforms(): Promise<number>;
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const apiAgent = agent(16);

export async function startPictor(opts: PictorOptions = {}): Promise<Pictor> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'pictor-bench-'));
  const env: Record<string, string> = {};
  // The parent's PICTOR_* settings and NODE_OPTIONS would make runs incomparable: start from a clean slate.
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('PICTOR_') && k !== 'NODE_OPTIONS' && k !== 'PORT' && k !== 'HOST')
      env[k] = v;
  Object.assign(env, {
    PORT: '0',
    HOST: '127.0.0.1',
    PICTOR_DATA_DIR: dataDir,
    PICTOR_ACCOUNT_ID: ACCOUNT_ID,
    PICTOR_API_TOKEN: TOKEN,
    LOG_LEVEL: 'silent',
    PICTOR_ACCESS_LOG: 'off',
    PICTOR_METRICS_PORT: '0',
    // One process unless a benchmark asks for more (the default would be one per core).
    PICTOR_PROCESSES: '1',
    ...opts.env,
  });
  const prof = opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] : [];
  // With the heap flags every way of starting the server gives it (npm start, the bin, the Dockerfile).
  const args =
    command.kind === 'dist'
      ? [...prof, ...HEAP_FLAGS, command.main, 'serve']
      : [...prof, ...HEAP_FLAGS, '--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'serve'];
  const child = spawnChild(process.execPath, args, { cwd: ROOT, env });
  let url = '';
  let accountHash = '';
  let metricsUrl = '';
  await waitFor(
    async () => {
      // The banner is on stderr.
      const out = child.stderr();
      const u = /serving the Cloudflare Images API at (http:\/\/[^\s]+)\/client\/v4/.exec(out);
      const h = /account hash:\s+(\S+)/.exec(out);
      const m = /metrics:\s+(http:\/\/\S+)\/metrics/.exec(out);
      if (!u || !h || !m) return false;
      url = u[1]!;
      accountHash = h[1]!;
      metricsUrl = m[1]!;
      return true;
    },
    60_000,
    'pictor start',
    child,
  );
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(url)) throw new Error(`pictor listens on ${url}, not loopback`);
  const images = `${url}/client/v4/accounts/${ACCOUNT_ID}/images`;
  const auth = { authorization: `Bearer ${TOKEN}` };
  const check = (what: string, r: Response) => {
    let env: { success?: boolean; result?: unknown } | undefined;
    try {
      env = JSON.parse(r.body.toString('utf8')) as { success?: boolean; result?: unknown };
    } catch {
      env = undefined;
    }
    if (r.status !== 200 || !env?.success)
      throw new Error(`${what} → ${r.status} ${r.body.toString('utf8').slice(0, 300)}`);
    return env.result;
  };
  const p: Pictor = {
    url,
    images,
    accountHash,
    pid: child.pid,
    child,
    dataDir,
    deliveryUrl: (id, variant) =>
      `${url}/cdn-cgi/imagedelivery/${accountHash}/${id.split('/').map(encodeURIComponent).join('/')}/${variant}`,
    async api<T>(method: string, path: string, json?: unknown) {
      const r = await http(`${images}${path}`, {
        method,
        agent: apiAgent,
        headers: { ...auth, ...(json === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(json === undefined ? {} : { body: JSON.stringify(json) }),
      });
      return check(`${method} ${path}`, r) as T;
    },
    async upload(data, filename = 'photo.jpg') {
      const form = multipart(data, filename, 'image/jpeg');
      const r = await http(`${images}/v1`, {
        method: 'POST',
        agent: apiAgent,
        headers: { ...auth, 'content-type': form.contentType },
        body: form.body,
      });
      return (check('upload', r) as { id: string }).id;
    },
    async transforms() {
      const r = await http(`${metricsUrl}/metrics`, { agent: apiAgent });
      let sum = 0;
      for (const m of r.body
        .toString('utf8')
        .matchAll(/^pictor_transforms_total(?:\{[^}]*\})?\s+([0-9.e+-]+)$/gm))
        sum += Number(m[1]);
      return sum;
    },
    async stop() {
      const r = await child.stop();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
      return r;
    },
  };
  return p;
}

/**
 * Helpers for the transfer suites (migrate, import, export): seeding an account quickly with small
 * generated PNGs in parallel, a counting (and fault-injecting) proxy in front of a server, the
 * `pictor` CLI as a child process, and reading an account back (ids, fields, sha256 of originals).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import { pipeline } from 'node:stream';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import type { TestServer } from './server.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** A tiny PNG whose pixels depend on `n` (every seed image has different bytes). */
export async function tinyPng(n: number, size = 8): Promise<Buffer> {
  const raw = Buffer.alloc(size * size * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (n * 31 + i * 7 + (n >> 8) * 13) % 256;
  return sharp(raw, { raw: { width: size, height: size, channels: 3 } })
    .png()
    .toBuffer();
}

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export interface Api {
  base: string;
  accountId: string;
  token: string;
}

export const apiOf = (s: TestServer): Api => ({ base: s.apiBase, accountId: s.accountId, token: s.token });

export async function call<T = any>(api: Api, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${api.base}/accounts/${api.accountId}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${api.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await res.json()) as { success: boolean; result: T; errors: unknown };
  if (!json.success) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json.errors)}`);
  return json.result;
}

export interface SeedImage {
  id?: string;
  data: Buffer;
  filename?: string;
  metadata?: Record<string, unknown>;
  creator?: string;
  requireSignedURLs?: boolean;
}

export async function uploadImage(api: Api, img: SeedImage): Promise<any> {
  const form = new FormData();
  if (img.id) form.set('id', img.id);
  if (img.metadata) form.set('metadata', JSON.stringify(img.metadata));
  if (img.creator) form.set('creator', img.creator);
  if (img.requireSignedURLs) form.set('requireSignedURLs', 'true');
  form.set('file', new Blob([new Uint8Array(img.data)]), img.filename ?? 'image.png');
  const res = await fetch(`${api.base}/accounts/${api.accountId}/images/v1`, {
    method: 'POST',
    headers: { authorization: `Bearer ${api.token}` },
    body: form,
  });
  const json = (await res.json()) as { success: boolean; result: any; errors: unknown };
  if (!json.success) throw new Error(`upload ${img.id}: ${JSON.stringify(json.errors)}`);
  return json.result;
}

/** Runs `fn` over `items`, `n` at a time. */
export async function parallel<T, R>(
  items: T[],
  n: number,
  fn: (t: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

/** Metadata in every shape an Image JSON carries. */
const METADATA_SHAPES: Array<Record<string, unknown> | undefined> = [
  undefined,
  { owner: 'alice' },
  { n: 42, f: 1.5, neg: -3, yes: true, no: false, nothing: null },
  { nested: { deep: { deeper: { value: 'x' } } }, list: [1, 'two', { three: 3 }] },
  { unicode: 'Grüße 🖼️ 图像', 'key with spaces': 'v', emptyString: '', emptyObject: {}, emptyList: [] },
];

/** The seed of a source account: ids with `/` and non-ASCII, generated ids, private images, metadata, creators. */
export async function seedImages(count: number): Promise<SeedImage[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const img: SeedImage = { data: await tinyPng(i), filename: `file-${i}.png` };
      if (i % 5 !== 0)
        img.id = i % 3 === 0 ? `photos/${i % 7}/straße-${i}/ñandú 图${i}.png` : `products/${i}`;
      if (i % 10 === 0) img.requireSignedURLs = true;
      const meta = METADATA_SHAPES[i % METADATA_SHAPES.length];
      if (meta) img.metadata = { ...meta, i };
      if (i % 4 === 1) img.creator = `user-${i % 3}`;
      return img;
    }),
  );
}

/** Settings of the source: 5 variants (one neverRequireSignedURLs), flexible variants, a TTL, two keys. */
export async function seedSettings(api: Api): Promise<void> {
  await call(api, 'PATCH', '/images/v1/variants/public', {
    options: { fit: 'scale-down', width: 1024, height: 1024, metadata: 'none' },
  });
  await call(api, 'POST', '/images/v1/variants', {
    id: 'thumb',
    options: { fit: 'cover', width: 4, height: 4, metadata: 'none' },
  });
  await call(api, 'POST', '/images/v1/variants', {
    id: 'small',
    options: { fit: 'contain', width: 6, height: 6, metadata: 'copyright' },
  });
  await call(api, 'POST', '/images/v1/variants', {
    id: 'wide',
    options: { fit: 'pad', width: 10, height: 5, metadata: 'keep' },
  });
  await call(api, 'POST', '/images/v1/variants', {
    id: 'open',
    options: { fit: 'scale-down', width: 5, metadata: 'none' },
    neverRequireSignedURLs: true,
  });
  await call(api, 'PATCH', '/images/v1/config', { flexible_variants: true, browser_ttl: 7200 });
  await call(api, 'PUT', '/images/v1/keys/second');
}

export interface ImageState {
  id: string;
  meta: unknown;
  creator: string | null;
  requireSignedURLs: boolean;
  sha256: string;
}

/** Every image of an account with its fields and the sha256 of its original, sorted by id. */
export async function readAccount(api: Api): Promise<ImageState[]> {
  const all: any[] = [];
  let token: string | null = null;
  do {
    const q = new URLSearchParams({ per_page: '1000' });
    if (token) q.set('continuation_token', token);
    const page: any = await call(api, 'GET', `/images/v2?${q}`);
    all.push(...page.images);
    token = page.continuation_token;
  } while (token);
  const states = await parallel(all, 8, async (i) => {
    const path = i.id.split('/').map(encodeURIComponent).join('/');
    const res = await fetch(`${api.base}/accounts/${api.accountId}/images/v1/${path}/blob`, {
      headers: { authorization: `Bearer ${api.token}` },
    });
    return {
      id: i.id,
      meta: i.meta ?? {},
      creator: i.creator ?? null,
      requireSignedURLs: i.requireSignedURLs,
      sha256: sha256(Buffer.from(await res.arrayBuffer())),
    };
  });
  return states.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export interface CountingProxy {
  url: string;
  apiBase: string;
  /** Image ids of successful uploads (POST /images/v1 answered 200), in order. */
  uploads: string[];
  requests: number;
  inFlight: number;
  /** Answer the next matching requests with this status (and Retry-After), without forwarding them. */
  failNext(n: number, status: number, retryAfter?: string): void;
  injected: number;
  close(): Promise<void>;
}

/** An HTTP proxy in front of `target` that counts uploads and can inject 429/5xx answers. */
export async function countingProxy(targetUrl: string): Promise<CountingProxy> {
  const target = new URL(targetUrl);
  let failures: Array<{ status: number; retryAfter: string | undefined }> = [];
  const state = { uploads: [] as string[], requests: 0, inFlight: 0, injected: 0 };
  const server: Server = createServer((req, res) => {
    state.requests += 1;
    const fail = failures.shift();
    if (fail) {
      state.injected += 1;
      req.resume();
      res.writeHead(fail.status, {
        'content-type': 'application/json',
        ...(fail.retryAfter !== undefined ? { 'retry-after': fail.retryAfter } : {}),
      });
      res.end(
        JSON.stringify({
          success: false,
          errors: [{ code: 10000, message: 'injected' }],
          messages: [],
          result: null,
        }),
      );
      return;
    }
    state.inFlight += 1;
    // Counted down once: on the upstream answer's end, or when either side goes away first.
    let settled = false;
    const settle = () => {
      if (!settled) {
        settled = true;
        state.inFlight -= 1;
      }
    };
    const isUpload = req.method === 'POST' && /\/images\/v1$/.test((req.url ?? '').split('?')[0]!);
    const up = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
      },
      (upRes) => {
        const chunks: Buffer[] = [];
        upRes.on('data', (c: Buffer) => {
          if (isUpload) chunks.push(c);
          res.write(c);
        });
        upRes.on('end', () => {
          settle();
          if (isUpload && upRes.statusCode === 200) {
            try {
              state.uploads.push(
                (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { result: { id: string } }).result.id,
              );
            } catch {
              /* not JSON: not counted */
            }
          }
          res.end();
        });
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      },
    );
    up.on('error', () => {
      settle();
      res.destroy();
    });
    // pipeline, not pipe(): a client killed mid-body (the migrate kill test) never ends its request,
    // and pipe() would leave the upstream request open, waiting for the rest of the body until the
    // target's 300 s request timeout, with inFlight up all that time. pipeline destroys it (its
    // 'error' above counts it out), as a real proxy does. A client that sent its whole body and died
    // waiting keeps its upload going: the target finishes it, and the upload is counted.
    pipeline(req, up, () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url,
    apiBase: `${url}/client/v4`,
    get uploads() {
      return state.uploads;
    },
    get requests() {
      return state.requests;
    },
    get inFlight() {
      return state.inFlight;
    },
    get injected() {
      return state.injected;
    },
    failNext(n, status, retryAfter) {
      failures = [...failures, ...Array.from({ length: n }, () => ({ status, retryAfter }))];
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts `pictor <args>` (through tsx) with extra env; `done` resolves when it exits. */
export function startCli(
  args: string[],
  env: Record<string, string> = {},
): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(ROOT, 'src/cli/main.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<CliResult>((r) =>
    child.on('close', (code, signal) => r({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

export function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return startCli(args, env).done;
}

export const apiArgs = (prefix: 'from' | 'to', api: Api) => [
  `--${prefix}`,
  api.base,
  `--${prefix}-account`,
  api.accountId,
  `--${prefix}-token`,
  api.token,
];

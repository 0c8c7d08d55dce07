/**
 * Harness for the delivery e2e suites (test/e2e/delivery*.test.ts): a real Pictor server on an
 * ephemeral port (test/helpers/server.ts, with the bare-form `deliveryUrl`), thin
 * wrappers over the REST API (upload, variants, config, keys) and over delivery GETs, the
 * Prometheus transform counter, and distinctive test pictures for perceptual comparison.
 */
import sharp from 'sharp';
import type { Envelope, ImageJson } from './api.js';
import { type StartOptions, startServer } from './server.js';

export type { Envelope, ImageJson } from './api.js';

export interface DeliveryServer {
  /** http://127.0.0.1:<port> (API and /cdn-cgi/imagedelivery) */
  url: string;
  /** http://127.0.0.1:<port> of /metrics (PICTOR_METRICS_PORT) */
  metricsUrl: string;
  /** http://127.0.0.1:<port>/client/v4/accounts/<id>/images */
  images: string;
  /** Bare imagedelivery.net form port, when PICTOR_DELIVERY_PORT was given. */
  deliveryUrl: string | undefined;
  accountId: string;
  token: string;
  dataDir: string;
  close(): Promise<void>;
}

/** startServer (on the PICTOR_TEST_BACKEND backend, or on `opts.backend`) with delivery helpers' shape. */
export async function startDeliveryServer(
  env: Record<string, string> = {},
  opts: Pick<StartOptions, 'backend' | 'name'> = {},
): Promise<DeliveryServer> {
  const server = await startServer({ env, ...opts });
  return {
    url: server.url,
    metricsUrl: server.metricsUrl!,
    images: `${server.url}/client/v4/accounts/${server.accountId}/images`,
    deliveryUrl: server.deliveryUrl,
    accountId: server.accountId,
    token: server.token,
    dataDir: server.dataDir,
    close: () => server.close(),
  };
}

// ---------------------------------------------------------------------------------------------------
// REST API
// ---------------------------------------------------------------------------------------------------

/** A JSON API call under `/images`; throws with the body when the envelope is not a success. */
export async function api<T = unknown>(
  srv: DeliveryServer,
  method: string,
  path: string,
  json?: unknown,
): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${srv.token}` };
  if (json !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${srv.images}${path}`, {
    method,
    headers,
    ...(json === undefined ? {} : { body: JSON.stringify(json) }),
  });
  const text = await res.text();
  let env: Envelope<T> | undefined;
  try {
    env = JSON.parse(text) as Envelope<T>;
  } catch {
    env = undefined;
  }
  if (res.status !== 200 || !env?.success)
    throw new Error(`${method} ${path} → ${res.status} ${text.slice(0, 400)}`);
  return env.result;
}

export interface UploadOpts {
  filename?: string;
  contentType?: string;
  id?: string;
  requireSignedURLs?: boolean;
}

/** POST /images/v1 with a multipart `file` part. */
/**
 * Uploads each named source (filename `<name><ext>`), one after another; their ids by name, and the
 * account hash.
 */
export async function uploadAll(
  srv: DeliveryServer,
  sources: Record<string, Buffer>,
  ext = '',
): Promise<{ ids: Record<string, string>; hash: string }> {
  const ids: Record<string, string> = {};
  let hash: string | undefined;
  for (const [name, bytes] of Object.entries(sources)) {
    const img = await upload(srv, bytes, { filename: `${name}${ext}` });
    ids[name] = img.id;
    hash ??= accountHashOf(img);
  }
  if (hash === undefined) throw new Error('uploadAll: no sources');
  return { ids, hash };
}

export async function upload(srv: DeliveryServer, data: Buffer, opts: UploadOpts = {}): Promise<ImageJson> {
  const form = new FormData();
  form.append(
    'file',
    new Blob([new Uint8Array(data)], { type: opts.contentType ?? 'application/octet-stream' }),
    opts.filename ?? 'image',
  );
  if (opts.id !== undefined) form.append('id', opts.id);
  if (opts.requireSignedURLs !== undefined) form.append('requireSignedURLs', String(opts.requireSignedURLs));
  const res = await fetch(`${srv.images}/v1`, {
    method: 'POST',
    headers: { authorization: `Bearer ${srv.token}` },
    body: form,
  });
  const text = await res.text();
  const env = JSON.parse(text) as Envelope<ImageJson>;
  if (res.status !== 200 || !env.success) throw new Error(`upload → ${res.status} ${text.slice(0, 400)}`);
  return env.result;
}

export interface VariantOptions {
  fit?: string;
  width?: number;
  height?: number;
  metadata?: string;
  browser_ttl?: number;
}

export function createVariant(
  srv: DeliveryServer,
  id: string,
  options: VariantOptions,
  neverRequireSignedURLs?: boolean,
): Promise<unknown> {
  return api(srv, 'POST', '/v1/variants', {
    id,
    options,
    ...(neverRequireSignedURLs === undefined ? {} : { neverRequireSignedURLs }),
  });
}

export function patchConfig(
  srv: DeliveryServer,
  patch: { flexible_variants?: boolean; browser_ttl?: number },
): Promise<unknown> {
  return api(srv, 'PATCH', '/v1/config', patch);
}

export async function listKeys(srv: DeliveryServer): Promise<Array<{ name: string; value: string }>> {
  return (await api<{ keys: Array<{ name: string; value: string }> }>(srv, 'GET', '/v1/keys')).keys;
}

/** The account hash, read from an Image object's first delivery URL. */
export function accountHashOf(image: ImageJson): string {
  const url = image.variants[0];
  if (!url) throw new Error(`image ${image.id} has no variant URLs`);
  const m = /\/cdn-cgi\/imagedelivery\/([A-Za-z0-9_-]{22})\//.exec(url);
  if (!m) throw new Error(`unexpected delivery URL ${url}`);
  return m[1]!;
}

// ---------------------------------------------------------------------------------------------------
// Delivery
// ---------------------------------------------------------------------------------------------------

export interface Fetched {
  status: number;
  headers: Headers;
  body: Buffer;
}

/** GET (or HEAD) an absolute URL, body as bytes. */
export async function fetchBytes(
  url: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<Fetched> {
  const res = await fetch(url, { method, headers });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

/** `<url>/cdn-cgi/imagedelivery/<hash>/<id>/<last>` with each id segment percent-encoded. */
export function cdnUrl(srv: DeliveryServer, hash: string, id: string, last: string): string {
  return `${srv.url}/cdn-cgi/imagedelivery/${hash}/${id.split('/').map(encodeURIComponent).join('/')}/${last}`;
}

/** Short description of a response for assertion messages. */
export function show(res: Fetched): string {
  const ct = res.headers.get('content-type') ?? '';
  const body =
    ct.startsWith('image/') && !ct.includes('svg')
      ? `<${res.body.length} bytes>`
      : res.body.toString('utf8').slice(0, 300);
  return `${res.status} cf-resized=${res.headers.get('cf-resized')} content-type=${ct} ${body}`;
}

/** Sum of `pictor_transforms_total` over all formats, from /metrics. */
export async function transformCount(srv: DeliveryServer): Promise<number> {
  const text = await (await fetch(`${srv.metricsUrl}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    const m = /^pictor_transforms_total(?:\{[^}]*\})?\s+([0-9.eE+-]+)$/.exec(line.trim());
    if (m) total += Number(m[1]);
  }
  return total;
}

// ---------------------------------------------------------------------------------------------------
// Pictures
// ---------------------------------------------------------------------------------------------------

/**
 * A picture with structure at every scale, so its dHash is stable under resizing and re-encoding but
 * differs from a mirrored or differently cropped version: two smooth, non-monotonic waves, a dark
 * disc off-centre and a bright bar, each channel different.
 */
export function sceneRaw(width: number, height: number): Buffer {
  const raw = Buffer.alloc(width * height * 3);
  const cx = width * 0.32;
  const cy = height * 0.4;
  const r = Math.min(width, height) * 0.18;
  for (let y = 0; y < height; y++) {
    const v = y / height;
    for (let x = 0; x < width; x++) {
      const u = x / width;
      let g =
        128 +
        70 * Math.sin(2 * Math.PI * (1.3 * u + 0.4 * v)) +
        45 * Math.cos(2 * Math.PI * (0.9 * v - 0.6 * u));
      if ((x - cx) ** 2 + (y - cy) ** 2 < r * r) g = 25;
      if (u > 0.62 && u < 0.8 && v > 0.55 && v < 0.9) g = 235;
      const i = (y * width + x) * 3;
      raw[i] = Math.max(0, Math.min(255, Math.round(g)));
      raw[i + 1] = Math.max(0, Math.min(255, Math.round(g * 0.8 + 40 * u)));
      raw[i + 2] = Math.max(0, Math.min(255, Math.round(255 - g * 0.7)));
    }
  }
  return raw;
}

export async function makeScene(
  format: 'jpeg' | 'png' | 'gif' | 'webp',
  width: number,
  height: number,
): Promise<Buffer> {
  return sharp(sceneRaw(width, height), { raw: { width, height, channels: 3 } })
    .toFormat(format)
    .toBuffer();
}

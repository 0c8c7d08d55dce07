/**
 * Upload by URL end to end: the real server fetches from a local origin (node:http on 127.0.0.1).
 *
 * NETWORK RULE: every URL handed to the server points at loopback (127.0.0.0/8 literals or
 * `localhost`). Non-loopback classification is tested by pure functions in
 * src/security/address-guard.test.ts, never over HTTP.
 *
 * Servers: `open` has PICTOR_URL_ALLOWLIST=127.0.0.0/8; `closed` has no allowlist; `small` has the
 * allowlist, a small PICTOR_MAX_UPLOAD_BYTES and a short PICTOR_URL_TOTAL_TIMEOUT_MS.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ImageJson, type Res, toRes } from '../helpers/api.js';
import { makeImage } from '../helpers/images.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// ---------------------------------------------------------------------------------------------------
// Local origin
// ---------------------------------------------------------------------------------------------------

interface Seen {
  path: string;
  authorization: string | undefined;
}

let png: Buffer;
let origin: http.Server;
let originPort: number;
let seen: Seen[] = [];

const SMALL_CAP = 2000;
const AUTH = `Basic ${Buffer.from('user:secret').toString('base64')}`;

function sendPng(res: http.ServerResponse, type = 'image/png'): void {
  res.writeHead(200, { 'content-type': type, 'content-length': png.length });
  res.end(png);
}

const originHandler: http.RequestListener = (req, res) => {
  const url = new URL(req.url ?? '/', 'http://origin.invalid');
  const path = url.pathname;
  seen.push({ path: req.url ?? '', authorization: req.headers.authorization });
  let m: RegExpMatchArray | null;
  if (path.startsWith('/files/')) return sendPng(res);
  if (path === '/lie/photo.txt') return sendPng(res, 'text/plain');
  if (path === '/chunked/big.png') {
    res.writeHead(200, { 'content-type': 'image/png' });
    res.write(png.subarray(0, 1000));
    res.end(png.subarray(1000));
    return;
  }
  m = path.match(/^\/chain\/(\d+)\/([^/]+)$/);
  if (m) {
    const n = Number(m[1]);
    if (n === 0) return sendPng(res);
    res.writeHead(302, { location: `/chain/${n - 1}/${m[2]}` });
    return res.end();
  }
  if (path === '/private/cat.png') {
    if (req.headers.authorization !== AUTH) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="t"' });
      return res.end();
    }
    return sendPng(res);
  }
  if (path === '/not-an-image.png') {
    res.writeHead(200, { 'content-type': 'image/png' });
    return res.end('this is not an image at all');
  }
  if (path === '/slow.png') return; // never answers
  if (path === '/to-forbidden') {
    // From the allowlisted origin into a loopback address outside the narrow allowlist.
    res.writeHead(302, { location: `http://127.0.0.2:${originPort}/files/x.png` });
    return res.end();
  }
  m = path.match(/^\/status\/(\d{3})$/);
  if (m) {
    res.writeHead(Number(m[1]), { 'content-type': 'text/plain' });
    return res.end('nope');
  }
  res.writeHead(404);
  res.end();
};

const o = (path: string) => `http://127.0.0.1:${originPort}${path}`;

// ---------------------------------------------------------------------------------------------------
// Pictor servers and helpers
// ---------------------------------------------------------------------------------------------------

let open: TestServer;
let closed: TestServer;
let small: TestServer;
let narrow: TestServer;

beforeAll(async () => {
  png = await makeImage('png', 160, 120);
  expect(png.length).toBeGreaterThan(SMALL_CAP);
  origin = http.createServer(originHandler);
  origin.listen(0, '127.0.0.1');
  await once(origin, 'listening');
  originPort = (origin.address() as AddressInfo).port;
  [open, closed, small, narrow] = await Promise.all([
    startTestServer({ PICTOR_URL_ALLOWLIST: '127.0.0.0/8' }),
    startTestServer({}),
    startTestServer({
      PICTOR_URL_ALLOWLIST: '127.0.0.0/8',
      PICTOR_MAX_UPLOAD_BYTES: String(SMALL_CAP),
      PICTOR_URL_TOTAL_TIMEOUT_MS: '500',
    }),
    startTestServer({ PICTOR_URL_ALLOWLIST: '127.0.0.1/32' }),
  ]);
});

afterAll(async () => {
  await Promise.all([open, closed, small, narrow].filter(Boolean).map((s) => s.close()));
  origin.closeAllConnections();
  await new Promise<void>((r) => origin.close(() => r()));
});

beforeEach(() => {
  seen = [];
});

const auth = (srv: TestServer) => ({ authorization: `Bearer ${srv.token}` });
const imagesUrl = (srv: TestServer) => `${srv.apiBase}/accounts/${srv.accountId}/images/v1`;

async function upload(srv: TestServer, fields: Record<string, string | Blob>): Promise<Res> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) {
    if (typeof v === 'string') form.append(k, v);
    else form.append(k, v, 'upload.png');
  }
  return toRes(await fetch(imagesUrl(srv), { method: 'POST', headers: auth(srv), body: form }));
}

function expectOk(res: Res): ImageJson {
  expect(res.status, res.text.slice(0, 400)).toBe(200);
  expect(res.body.success).toBe(true);
  expect(res.body.errors).toEqual([]);
  return res.body.result as ImageJson;
}

function expectError(res: Res, status: number, code: number): string {
  const ctx = `${res.status} ${res.text.slice(0, 400)}`;
  expect(res.status, ctx).toBe(status);
  expect(res.body?.success, ctx).toBe(false);
  expect(res.body.result, ctx).toBeNull();
  expect(res.body.errors[0]?.code, ctx).toBe(code);
  const message = res.body.errors[0]!.message;
  expect(message.startsWith(`ERROR ${code}: `), ctx).toBe(true);
  return message;
}

async function blob(
  srv: TestServer,
  id: string,
): Promise<{ status: number; type: string | null; data: Buffer }> {
  const res = await fetch(`${imagesUrl(srv)}/${encodeURIComponent(id)}/blob`, { headers: auth(srv) });
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    data: Buffer.from(await res.arrayBuffer()),
  };
}

interface Snapshot {
  count: number;
  ids: string[];
  /** Stored blobs (files under `<dataDir>/blobs`, or S3 objects) and image rows. */
  blobs: number;
  rows: number;
}

async function snapshot(srv: TestServer): Promise<Snapshot> {
  const stats = await fetch(`${imagesUrl(srv)}/stats`, { headers: auth(srv) });
  const s = (await stats.json()) as { result: { count: { current: number } } };
  const list = await fetch(`${imagesUrl(srv)}?per_page=10000`, { headers: auth(srv) });
  const l = (await list.json()) as { result: { images: Array<{ id: string }> } };
  return {
    count: s.result.count.current,
    ids: l.result.images.map((i) => i.id).sort(),
    ...(await srv.stored()),
  };
}

/** Runs a failing upload and asserts that it stored nothing. */
async function refusedUpload(
  srv: TestServer,
  fields: Record<string, string | Blob>,
  status: number,
  code: number,
): Promise<string> {
  const before = await snapshot(srv);
  const message = expectError(await upload(srv, fields), status, code);
  const after = await snapshot(srv);
  expect(after.count, 'stats count changed').toBe(before.count);
  expect(after.ids, 'image list changed').toEqual(before.ids);
  expect(after.blobs, 'stored blobs changed').toBe(before.blobs);
  expect(after.rows, 'image rows changed').toBe(before.rows);
  return message;
}

// ---------------------------------------------------------------------------------------------------
// Success
// ---------------------------------------------------------------------------------------------------

describe('upload by URL: success (PICTOR_URL_ALLOWLIST=127.0.0.0/8)', () => {
  it('stores the origin bytes; the filename comes from the URL', async () => {
    const before = await snapshot(open);
    const image = expectOk(await upload(open, { url: o('/files/my%20cat.png') }));
    expect(image.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(image.filename).toBe('my cat.png');
    expect(image.requireSignedURLs).toBe(false);
    expect(Number.isNaN(Date.parse(image.uploaded))).toBe(false);
    expect(Array.isArray(image.variants)).toBe(true);
    expect(seen).toEqual([{ path: '/files/my%20cat.png', authorization: undefined }]);

    const b = await blob(open, image.id);
    expect(b.status).toBe(200);
    expect(b.type).toBe('image/png');
    expect(b.data.equals(png), 'stored blob differs from the origin bytes').toBe(true);

    const details = expectOk({ ...(await get(open, image.id)) });
    expect(details.id).toBe(image.id);
    expect(details.filename).toBe('my cat.png');

    const after = await snapshot(open);
    expect(after.count).toBe(before.count + 1);
    expect(after.blobs).toBe(before.blobs + 1);
    expect(after.rows).toBe(before.rows + 1);
  });

  it('detects the format from the bytes even when the origin says text/plain', async () => {
    const image = expectOk(await upload(open, { url: o('/lie/photo.txt') }));
    expect(image.filename).toBe('photo.txt');
    const b = await blob(open, image.id);
    expect(b.type).toBe('image/png');
    expect(b.data.equals(png)).toBe(true);
  });

  it('reads a body without Content-Length', async () => {
    const image = expectOk(await upload(open, { url: o('/chunked/big.png') }));
    expect((await blob(open, image.id)).data.equals(png)).toBe(true);
  });

  it('follows up to 5 redirects; the filename comes from the final URL', async () => {
    const image = expectOk(await upload(open, { url: o('/chain/5/final.png') }));
    expect(image.filename).toBe('final.png');
    expect(seen).toHaveLength(6);
    expect((await blob(open, image.id)).data.equals(png)).toBe(true);
  });

  it('sends basic auth from the URL', async () => {
    const image = expectOk(
      await upload(open, { url: `http://user:secret@127.0.0.1:${originPort}/private/cat.png` }),
    );
    expect(image.filename).toBe('cat.png');
    expect(seen[0]!.authorization).toBe(AUTH);
  });

  it('takes id, metadata and requireSignedURLs alongside url', async () => {
    const id = `url/custom-${Date.now()}`;
    const image = expectOk(
      await upload(open, { url: o('/files/a.png'), id, metadata: JSON.stringify({ k: 'v' }) }),
    );
    expect(image.id).toBe(id);
    expect(image.meta).toEqual({ k: 'v' });
    const signed = expectOk(await upload(open, { url: o('/files/b.png'), requireSignedURLs: 'true' }));
    expect(signed.requireSignedURLs).toBe(true);
  });

  it('the IPv4-mapped form [::ffff:127.0.0.1] is admitted by the 127.0.0.0/8 allowlist', async () => {
    const image = expectOk(
      await upload(open, { url: `http://[::ffff:127.0.0.1]:${originPort}/files/mapped.png` }),
    );
    expect(image.filename).toBe('mapped.png');
  });

  it('localhost works too when its address is allowlisted', async () => {
    const image = expectOk(await upload(open, { url: `http://localhost:${originPort}/files/local.png` }));
    expect(image.filename).toBe('local.png');
  });
});

async function get(srv: TestServer, id: string): Promise<Res> {
  return toRes(await fetch(`${imagesUrl(srv)}/${encodeURIComponent(id)}`, { headers: auth(srv) }));
}

// ---------------------------------------------------------------------------------------------------
// Failures: each stores nothing
// ---------------------------------------------------------------------------------------------------

describe('upload by URL: failures store nothing', () => {
  it('origin 404 → 400 5400 naming 404', async () => {
    const message = await refusedUpload(open, { url: o('/status/404') }, 400, 5400);
    expect(message).toMatch(/404/);
    expect(seen).toHaveLength(1);
  });

  it('origin 500 → 400 5400 naming 500', async () => {
    expect(await refusedUpload(open, { url: o('/status/500') }, 400, 5400)).toMatch(/500/);
  });

  it('origin 401 (no credentials) → 400 5400 naming 401', async () => {
    expect(await refusedUpload(open, { url: o('/private/cat.png') }, 400, 5400)).toMatch(/401/);
  });

  it('oversize with Content-Length (PICTOR_MAX_UPLOAD_BYTES small) → 413 5413', async () => {
    const message = await refusedUpload(small, { url: o('/files/big.png') }, 413, 5413);
    expect(message).toMatch(new RegExp(String(SMALL_CAP)));
  });

  it('oversize without Content-Length (cut while streaming) → 413 5413', async () => {
    await refusedUpload(small, { url: o('/chunked/big.png') }, 413, 5413);
  });

  it('too many redirects (6) → 400 5400', async () => {
    const message = await refusedUpload(open, { url: o('/chain/6/final.png') }, 400, 5400);
    expect(message).toMatch(/redirected more than 5 times/);
    expect(seen).toHaveLength(6);
  });

  it('an origin that never answers → 400 5400 after PICTOR_URL_TOTAL_TIMEOUT_MS', async () => {
    const started = Date.now();
    const message = await refusedUpload(small, { url: o('/slow.png') }, 400, 5400);
    expect(message).toMatch(/too long/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('an origin body that is not an image → 415 5455', async () => {
    await refusedUpload(open, { url: o('/not-an-image.png') }, 415, 5455);
  });

  it('without an allowlist a loopback URL → 400 5400 naming loopback; the origin sees no request', async () => {
    for (const url of [
      o('/files/x.png'),
      `http://2130706433:${originPort}/files/x.png`,
      `http://0x7f000001:${originPort}/files/x.png`,
      `http://[::1]:${originPort}/files/x.png`,
      `http://[::ffff:127.0.0.1]:${originPort}/files/x.png`,
      `http://localhost:${originPort}/files/x.png`,
    ]) {
      const message = await refusedUpload(closed, { url }, 400, 5400);
      expect(message, url).toMatch(/loopback/);
      expect(message, url).toMatch(/not allowed/);
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(seen, 'a refused URL reached the origin').toEqual([]);
  });

  it('without an allowlist 0.0.0.0 (unspecified) is refused; the origin sees no request', async () => {
    const message = await refusedUpload(
      closed,
      { url: `http://0.0.0.0:${originPort}/files/x.png` },
      400,
      5400,
    );
    expect(message).toMatch(/unspecified/);
    expect(message).toMatch(/not allowed/);
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual([]);
  });

  it('a redirect from an allowlisted loopback origin into a forbidden address is refused', async () => {
    const message = await refusedUpload(narrow, { url: o('/to-forbidden') }, 400, 5400);
    expect(message).toMatch(/127\.0\.0\.2/);
    expect(message).toMatch(/loopback/);
    // The allowlisted origin answered the first hop; the forbidden target was never requested.
    expect(seen.map((x) => x.path)).toEqual(['/to-forbidden']);
  });

  it('url and file together → 400 5400; nothing is fetched', async () => {
    const message = await refusedUpload(
      open,
      { url: o('/files/x.png'), file: new Blob([new Uint8Array(png)], { type: 'image/png' }) },
      400,
      5400,
    );
    expect(message).toMatch(/mutually exclusive/);
    expect(seen).toEqual([]);
  });

  it.each([
    ['ftp', () => `ftp://127.0.0.1:${originPort}/x.png`],
    ['file', () => 'file:///etc/passwd'],
    ['javascript', () => 'javascript:alert(1)'],
  ])('scheme %s → 400 5400', async (scheme, url) => {
    const message = await refusedUpload(open, { url: url() }, 400, 5400);
    expect(message).toMatch(/Only http and https/);
    expect(message).toContain(scheme);
    expect(seen).toEqual([]);
  });

  it('an invalid or empty url → 400 5400', async () => {
    expect(await refusedUpload(open, { url: 'not a url' }, 400, 5400)).toMatch(/not a valid URL/);
    await refusedUpload(open, { url: '' }, 400, 5400);
  });

  it('invalid metadata is refused before anything is fetched', async () => {
    await refusedUpload(open, { url: o('/files/x.png'), metadata: '{not json' }, 400, 5400);
    expect(seen).toEqual([]);
  });
});

/**
 * Bounded fuzzing of the whole HTTP surface (issue #10, item 4): 3,000 requests from a fixed seed,
 * sent over raw HTTP (node:http, so paths travel unnormalised) to every route of the OpenAPI document
 * plus delivery and the one-time upload URL, with malformed JSON, deep nesting, odd content types,
 * broken multipart, path traversal, control characters, huge headers and odd query values.
 *
 * Asserts: no response has a 5xx status; every answer on an API path that is not a success is the
 * Cloudflare failure envelope; every JSON success is a success envelope; and afterwards the stats
 * count equals the number of images the list returns.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeImage } from '../helpers/images.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { prng } from '../helpers/random.js';

const SEED = 0x5eed_0010;
const REQUESTS = 3000;
const CONCURRENCY = 6;

interface Req {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

interface Res {
  status: number;
  type: string;
  body: Buffer;
}

function send(port: number, r: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: r.method,
        path: r.path,
        headers: r.headers,
        insecureHTTPParser: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            type: String(res.headers['content-type'] ?? ''),
            body: Buffer.concat(chunks),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(r.body);
  });
}

let srv: TestServer;
let port: number;
let png: Buffer;
let templates: string[];
const imageIds: string[] = [];

beforeAll(async () => {
  srv = await startTestServer();
  port = Number(new URL(srv.url).port);
  png = await makeImage('png', 24, 16);
  for (let i = 0; i < 3; i++) {
    const form = new FormData();
    form.set('file', new Blob([new Uint8Array(png)]), `seed${i}.png`);
    if (i === 2) form.set('id', 'folder/custom id');
    const res = await fetch(`${srv.apiBase}/accounts/${srv.accountId}/images/v1`, {
      method: 'POST',
      headers: { authorization: `Bearer ${srv.token}` },
      body: form,
    });
    imageIds.push(((await res.json()) as { result: { id: string } }).result.id);
  }
  const doc = (await (await fetch(`${srv.apiBase}/openapi.json`)).json()) as {
    paths: Record<string, unknown>;
  };
  templates = Object.keys(doc.paths).map((p) => (p.startsWith('/accounts/') ? `/client/v4${p}` : p));
  templates.push(
    '/cdn-cgi/imagedelivery/{account_hash}/{image_id}/public',
    '/cdn-cgi/imagedelivery/{account_hash}/{image_id}/w=10,fit=cover',
    '/client/v4/openapi.json',
    '/docs',
    '/nowhere',
  );
});
afterAll(() => srv?.close());

function cases(rand: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const junk = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
  const ids = () => [
    ...imageIds,
    'missing',
    '..',
    '../../etc/passwd',
    '%2e%2e%2f%2e%2e',
    '%00',
    '%0d%0aX-Injected:%201',
    '%ff%fe',
    'a'.repeat(3000),
    'x/blob',
    '%zz',
    encodeURIComponent('folder/custom id'),
  ];
  const segment = (name: string): string => {
    switch (name) {
      case 'account_id':
        return pick([
          srv.accountId,
          srv.accountId,
          srv.accountId,
          '0'.repeat(32),
          'ZZ',
          '..%2f..',
          srv.accountId.toUpperCase(),
        ]);
      case 'image_id':
        return pick(ids())
          .split('/')
          .map((s) => (s.includes('%') ? s : encodeURIComponent(s)))
          .join('/');
      case 'variant_id':
        return pick(['public', 'thumb', '%00', 'a'.repeat(200), '..']);
      case 'signing_key_name':
        return pick(['default', 'k1', 'a-b', '%20', 'x'.repeat(30)]);
      case 'account_hash':
        return pick(['abc', '%00', '..', 'x'.repeat(100)]);
      default:
        return 'x';
    }
  };
  const query = () =>
    pick([
      '',
      '?page=-1&per_page=abc',
      '?page=1&page=2',
      '?page[]=1',
      '?page=99999999999999999999&per_page=1e309',
      '?creator=%00%01',
      '?sort_order=sideways',
      '?continuation_token=!!!',
      '?continuation_token=eyJ2IjoxLCJvIjoiZGVzYyIsImEiOjF9',
      '?meta.a[eq]=1&meta.b[gt]=x',
      '?meta.__proto__[eq]=1',
      '?meta.a.b.c.d.e.f[eq]=1',
      '?disposition=evil',
      `?x=${'%41'.repeat(2000)}`,
      '?%zz=1',
      '?a=%0d%0a',
    ]);
  const json = (s: string) => ({ type: 'application/json', body: Buffer.from(s) });
  const body = (): { type?: string; body?: Buffer } => {
    const boundary = 'fuzzB';
    return pick([
      {},
      json('{'),
      json('{"metadata":'),
      json('[]'),
      json('null'),
      json('"text"'),
      json('{"metadata":"{\\"a\\":1}","requireSignedURLs":"maybe"}'),
      json('{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}'),
      json('['.repeat(5000) + ']'.repeat(5000)),
      json(`${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`),
      json('{"id":"x","options":{"fit":"nope","width":-1}}'),
      json('{"id":"v1","options":{"fit":"cover","width":1e400}}'),
      json('{"browser_ttl":1e308,"flexible_variants":"yes"}'),
      json('{"creator":{"a":1},"metadata":[1,2]}'),
      { type: 'application/json', body: junk(64) },
      { type: 'application/json; charset=utf-16', body: Buffer.from('{}', 'utf16le') },
      { type: 'text/plain', body: Buffer.from('hello') },
      { type: 'application/x-www-form-urlencoded', body: Buffer.from('file=abc&metadata[a]=1') },
      { type: 'image/png', body: png },
      { type: '*/*', body: junk(32) },
      { type: 'multipart/form-data', body: Buffer.from('no boundary') },
      {
        type: `multipart/form-data; boundary=${boundary}`,
        body: Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n`,
        ),
      },
      {
        type: `multipart/form-data; boundary=${boundary}`,
        body: Buffer.concat([
          Buffer.from(
            `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`,
          ),
          png.subarray(0, 40),
        ]),
      },
      {
        type: `multipart/form-data; boundary=${boundary}`,
        body: Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="metadata[__proto__][x]"\r\n\r\n1\r\n--${boundary}--\r\n`,
        ),
      },
      {
        type: `multipart/form-data; boundary=${boundary}`,
        body: Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="url"\r\n\r\nhttp://%zz@127.0.0.1:1/x\r\n--${boundary}--\r\n`,
        ),
      },
      {
        type: `multipart/form-data; boundary=${boundary}`,
        body: Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="${'n'.repeat(5000)}"\r\n\r\n1\r\n--${boundary}--\r\n`,
        ),
      },
      {
        type: `multipart/form-data; boundary=${boundary}`,
        body: Buffer.concat([
          Buffer.from(
            `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="../../x.png"\r\n\r\n`,
          ),
          png,
          Buffer.from(
            `\r\n--${boundary}\r\nContent-Disposition: form-data; name="id"\r\n\r\nfuzz/${Math.floor(rand() * 1e9)}\r\n--${boundary}--\r\n`,
          ),
        ]),
      },
      { type: `multipart/form-data; boundary=${boundary}`, body: junk(200) },
    ]);
  };
  const headers = (): Record<string, string> => {
    const auth = pick([
      `Bearer ${srv.token}`,
      `Bearer ${srv.token}`,
      'Bearer nope',
      'Basic Zm9vOmJhcg==',
      '',
      `Bearer ${'t'.repeat(5000)}`,
    ]);
    const h: Record<string, string> = auth ? { authorization: auth } : {};
    const extra = rand();
    if (extra < 0.04)
      h['x-huge'] = 'h'.repeat(20_000); // past Node's 16 KiB header limit
    else if (extra < 0.08) Object.assign(h, { 'x-auth-email': 'a@b', 'x-auth-key': 'k'.repeat(100) });
    else if (extra < 0.12) h.accept = 'image/avif,image/webp,*/*;q=0.1';
    else if (extra < 0.15) h['if-none-match'] = pick(['*', '"x"', 'W/"y", "z"', '\u00ff']);
    else if (extra < 0.18) h.range = pick(['bytes=0-1', 'bytes=-5', 'bytes=9-1', 'lines=1']);
    return h;
  };
  const out: Req[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const template = pick(templates);
    const path = template.replace(/\{([^}]+)\}/g, (_m, name: string) => segment(name)) + query();
    const method = pick(['GET', 'GET', 'POST', 'PATCH', 'PUT', 'DELETE', 'HEAD', 'OPTIONS']);
    const h = headers();
    const b = method === 'GET' || method === 'HEAD' ? (rand() < 0.1 ? body() : {}) : body();
    if (b.type) h['content-type'] = b.type;
    if (b.body) h['content-length'] = String(b.body.length);
    out.push({ method, path, headers: h, ...(b.body ? { body: b.body } : {}) });
  }
  return out;
}

const isApiPath = (path: string) => path.startsWith('/client/v4/accounts/') || path.startsWith('/images/');

describe(`fuzz: ${REQUESTS} requests, seed ${SEED.toString(16)}`, () => {
  it('no 5xx, always the envelope on API paths, stats equal to the list afterwards', async () => {
    const reqs = cases(prng(SEED));
    const problems: string[] = [];
    const statuses = new Map<number, number>();
    let next = 0;
    const worker = async () => {
      while (next < reqs.length) {
        const r = reqs[next++]!;
        let res: Res;
        try {
          res = await send(port, r);
        } catch (e) {
          // Node refuses to send some hostile requests itself (an invalid header character); the
          // server never saw those.
          if (
            (e as NodeJS.ErrnoException).code === 'ERR_INVALID_CHAR' ||
            (e as NodeJS.ErrnoException).code === 'ERR_UNESCAPED_CHARACTERS'
          )
            continue;
          // A server that answers a too-large request and closes may reset our upload: check it answered.
          problems.push(`${r.method} ${r.path.slice(0, 120)}: ${(e as Error).message}`);
          continue;
        }
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const where = `${r.method} ${r.path.slice(0, 120)} → ${res.status}`;
        if (res.status >= 500) problems.push(`${where} ${res.body.toString('utf8').slice(0, 200)}`);
        if (r.method === 'HEAD' || !isApiPath(r.path)) continue;
        if (!res.type.startsWith('application/json')) {
          if (res.status >= 400 || !/^image\//.test(res.type))
            problems.push(`${where}: content-type ${res.type}`);
          continue;
        }
        let parsed: {
          success?: unknown;
          result?: unknown;
          errors?: Array<{ code?: unknown; message?: unknown }>;
        };
        try {
          parsed = JSON.parse(res.body.toString('utf8'));
        } catch {
          problems.push(`${where}: body is not JSON`);
          continue;
        }
        const okEnvelope = res.status < 300 && parsed.success === true && Array.isArray(parsed.errors);
        const failEnvelope =
          res.status >= 400 &&
          parsed.success === false &&
          parsed.result === null &&
          typeof parsed.errors?.[0]?.code === 'number' &&
          typeof parsed.errors[0].message === 'string';
        if (!okEnvelope && !failEnvelope)
          problems.push(`${where}: not an envelope: ${res.body.toString('utf8').slice(0, 200)}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    expect(problems, [...statuses].map(([s, n]) => `${s}×${n}`).join(' ')).toEqual([]);
    // Some requests must have reached the handlers, not only the auth hook.
    expect((statuses.get(200) ?? 0) + (statuses.get(404) ?? 0)).toBeGreaterThan(100);

    const auth = { authorization: `Bearer ${srv.token}` };
    const stats = (await (
      await fetch(`${srv.apiBase}/accounts/${srv.accountId}/images/v1/stats`, { headers: auth })
    ).json()) as { result: { count: { current: number } } };
    const list = (await (
      await fetch(`${srv.apiBase}/accounts/${srv.accountId}/images/v1?per_page=10000`, { headers: auth })
    ).json()) as { result: { images: unknown[] } };
    expect(stats.result.count.current).toBe(list.result.images.length);
  }, 120_000);
});

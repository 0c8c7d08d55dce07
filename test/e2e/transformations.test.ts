/**
 * Transformation URLs (`/cdn-cgi/image/<options>/<source>`) against a real origin server on
 * 127.0.0.1: the path form (PICTOR_TRANSFORM_ORIGIN) and the absolute form (PICTOR_TRANSFORM_SOURCES),
 * the URL shape Next.js's and Astro's Cloudflare loaders emit, the transformation-only options
 * (fit=squeeze, fit=aspect-crop, format=json, onerror=redirect), the original cached and revalidated
 * (the origin sees a conditional request, answers 304, and the cached original is reused),
 * single-flight, loop refusal, Cloudflare's error form for every origin failure, CORS and the SVG
 * headers; and the feature off when unconfigured. Images are checked by decoding them.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transformCount } from '../helpers/delivery.js';
import { refusingPort } from '../helpers/ports.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

interface Seen {
  path: string;
  ifNoneMatch: string | undefined;
  via: string | undefined;
}

/** A loopback origin: fixed routes, every request recorded. */
class Origin {
  server!: Server;
  port = 0;
  seen: Seen[] = [];
  /** Bodies sent with 200 per path. */
  served = new Map<string, number>();
  /** Cache-Control of /photo.png. */
  photoCacheControl = 'public, max-age=600';
  photoEtag = '"photo-v1"';
  constructor(private readonly files: Record<string, { body: Buffer; type: string }>) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  count(path: string): number {
    return this.seen.filter((s) => s.path === path).length;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    this.seen.push({
      path,
      ifNoneMatch: req.headers['if-none-match'] as string | undefined,
      via: req.headers.via as string | undefined,
    });
    const send = (status: number, body: Buffer | string, headers: Record<string, string> = {}) => {
      if (status === 200) this.served.set(path, (this.served.get(path) ?? 0) + 1);
      res.writeHead(status, headers);
      res.end(body);
    };
    if (path === '/missing.png') return send(404, 'not here');
    if (path === '/forbidden.png') return send(403, 'no');
    if (path === '/slow.png') {
      await new Promise((r) => setTimeout(r, 5000));
      if (!res.destroyed) send(200, this.files['/photo.png']!.body, { 'content-type': 'image/png' });
      return;
    }
    if (path === '/to-photo') return send(302, '', { location: '/photo.png' });
    if (path === '/to-elsewhere') return send(302, '', { location: 'http://127.0.0.2:9/photo.png' });
    if (path === '/redirect-loop') return send(302, '', { location: '/redirect-loop' });
    if (path === '/herd.png') {
      // Slow enough that every concurrent request arrives while the first fetch is in flight.
      await new Promise((r) => setTimeout(r, 400));
      return send(200, this.files['/photo.png']!.body, {
        'content-type': 'image/png',
        'cache-control': 'max-age=600',
      });
    }
    if (path === '/photo.png' || path === '/revalidated.png') {
      const etag = path === '/photo.png' ? this.photoEtag : '"reval-1"';
      const cc = path === '/photo.png' ? this.photoCacheControl : 'no-cache';
      if (req.headers['if-none-match'] === etag) return send(304, '', { etag, 'cache-control': cc });
      return send(200, this.files['/photo.png']!.body, {
        'content-type': 'image/png',
        etag,
        'cache-control': cc,
      });
    }
    const file = this.files[path];
    if (file) return send(200, file.body, { 'content-type': file.type });
    return send(404, 'unknown');
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

interface Got {
  status: number;
  headers: Headers;
  body: Buffer;
}

async function get(url: string, headers: Record<string, string> = {}): Promise<Got> {
  const res = await fetch(url, { headers, redirect: 'manual' });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

function show(r: Got): string {
  const ct = r.headers.get('content-type') ?? '';
  return `${r.status} cf-resized=${r.headers.get('cf-resized')} ${ct.startsWith('image/') ? `<${r.body.length} bytes>` : r.body.toString('utf8').slice(0, 200)}`;
}

let origin: Origin;
let other: Origin;
let server: TestServer;
let bare: TestServer;
let downPort: number;
const SVG = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="blue"/></svg>',
);

beforeAll(async () => {
  const photo = await sharp({ create: { width: 1000, height: 500, channels: 3, background: '#3060c0' } })
    .png()
    .toBuffer();
  const square = await sharp({ create: { width: 612, height: 613, channels: 3, background: '#c06030' } })
    .png()
    .toBuffer();
  const big = Buffer.alloc(300_000, 7);
  origin = new Origin({
    '/photo.png': { body: photo, type: 'image/png' },
    '/square.png': { body: square, type: 'image/png' },
    '/big.png': { body: big, type: 'image/png' },
    '/text.png': { body: Buffer.from('this is not an image at all, just words'), type: 'image/png' },
    '/logo.svg': { body: SVG, type: 'image/svg+xml' },
  });
  other = new Origin({ '/photo.png': { body: photo, type: 'image/png' } });
  await origin.start();
  await other.start();
  downPort = await refusingPort();
  server = await startTestServer({
    PICTOR_TRANSFORM_ORIGIN: origin.url,
    PICTOR_TRANSFORM_SOURCES: `${other.url},http://127.0.0.1:${downPort}`,
    PICTOR_TRANSFORM_MAX_BYTES: '200000',
    PICTOR_URL_ALLOWLIST: '127.0.0.1/32',
    PICTOR_URL_TOTAL_TIMEOUT_MS: '1500',
    PICTOR_DELIVERY_HOSTS: 'img.pictor.test',
  });
  bare = await startTestServer();
});

afterAll(async () => {
  await server?.close();
  await bare?.close();
  await origin?.close();
  await other?.close();
});

const t = (options: string, source: string) => `${server.url}/cdn-cgi/image/${options}/${source}`;

describe('transformation URLs: both forms', () => {
  it('the path form fetches <PICTOR_TRANSFORM_ORIGIN>/<path> and resizes it', async () => {
    const r = await get(t('width=200,format=png', 'photo.png'));
    expect(r.status, show(r)).toBe(200);
    const m = await sharp(r.body).metadata();
    expect([m.format, m.width, m.height]).toEqual(['png', 200, 100]);
    expect(r.headers.get('content-type')).toBe('image/png');
    expect(origin.seen.some((s) => s.path === '/photo.png' && s.via?.includes('image-resizing'))).toBe(true);
  });

  it('the absolute form fetches a URL on a PICTOR_TRANSFORM_SOURCES origin', async () => {
    const r = await get(t('w=300,f=jpeg', `${other.url}/photo.png`));
    expect(r.status, show(r)).toBe(200);
    const m = await sharp(r.body).metadata();
    expect([m.format, m.width, m.height]).toEqual(['jpeg', 300, 150]);
    expect(other.count('/photo.png')).toBeGreaterThanOrEqual(1);
  });

  it("the Next.js / Astro loader shape: width=640,quality=75,format=auto with the browser's Accept", async () => {
    const avif = await get(t('width=640,quality=75,format=auto', `${other.url}/photo.png`), {
      accept: 'image/avif,image/webp,*/*',
    });
    expect(avif.status, show(avif)).toBe(200);
    expect(avif.headers.get('content-type')).toBe('image/avif');
    expect((await sharp(avif.body).metadata()).width).toBe(640);
    const webp = await get(t('width=640,quality=75,format=auto', '/photo.png'), { accept: 'image/webp,*/*' });
    expect(webp.headers.get('content-type')).toBe('image/webp');
    expect(webp.headers.get('vary')).toContain('Accept');
  });

  it('on a PICTOR_DELIVERY_HOSTS host too', async () => {
    const res = await new Promise<{ status: number; type: string | undefined }>((resolve, reject) => {
      const req = request(
        `${server.url}/cdn-cgi/image/width=100,format=png/photo.png`,
        { headers: { host: 'img.pictor.test' } },
        (r) => {
          r.resume();
          r.on('end', () => resolve({ status: r.statusCode ?? 0, type: r.headers['content-type'] }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(res).toEqual({ status: 200, type: 'image/png' });
  });
});

describe('transformation-only options', () => {
  it('fit=squeeze stretches to exactly w×h', async () => {
    const r = await get(t('width=300,height=300,fit=squeeze,format=png', 'photo.png'));
    expect(r.status, show(r)).toBe(200);
    const m = await sharp(r.body).metadata();
    expect([m.width, m.height]).toEqual([300, 300]);
  });

  it('fit=aspect-crop cuts to the aspect ratio and never enlarges (612×613 at 1920×1120 → 612×357)', async () => {
    const r = await get(t('width=1920,height=1120,fit=aspect-crop,format=png', 'square.png'));
    expect(r.status, show(r)).toBe(200);
    const m = await sharp(r.body).metadata();
    expect([m.width, m.height]).toEqual([612, 357]);
  });

  it('format=json answers the source size and format and the planned size', async () => {
    const r = await get(t('width=250,format=json', 'photo.png'));
    expect(r.status, show(r)).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(r.body.toString('utf8'))).toEqual({
      width: 250,
      height: 125,
      original: { file_size: expect.any(Number), width: 1000, height: 500, format: 'image/png' },
    });
  });

  it('onerror=redirect answers a failed transformation with a redirect to the source', async () => {
    const r = await get(t('width=100,onerror=redirect', 'missing.png'));
    expect(r.status).toBe(302);
    expect(r.headers.get('location')).toBe(`${origin.url}/missing.png`);
    expect(r.headers.get('cf-resized')).toBe('err=9404');
  });

  it('the options are the flexible-variant parser: a bad value is 9401 with the one sentence', async () => {
    const r = await get(t('width=0', 'photo.png'));
    expect(r.status).toBe(400);
    expect(r.headers.get('cf-resized')).toBe('err=9401');
    expect(r.body.toString('utf8')).toBe(
      'ERROR 9401: Expected integer between 1 and 12000 for width but received 0 of type number\n',
    );
  });
});

describe('caching and revalidation', () => {
  it('renditions are cached (second request HIT, no new fetch) with Cache-Control from the origin', async () => {
    const before = origin.count('/photo.png');
    const first = await get(t('width=111,format=png', 'photo.png'));
    const second = await get(t('width=111,format=png', 'photo.png'));
    expect(second.status).toBe(200);
    expect(second.headers.get('cf-cache-status')).toBe('HIT');
    expect(second.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(second.headers.get('cache-control')).toBe('public, max-age=600');
    // The original is still fresh (max-age=600): the origin was not asked again.
    expect(origin.count('/photo.png')).toBe(before);
    const cond = await get(t('width=111,format=png', 'photo.png'), {
      'if-none-match': first.headers.get('etag')!,
    });
    expect(cond.status).toBe(304);
  });

  it('an expired original is revalidated: the origin sees If-None-Match, answers 304, the cached bytes are reused', async () => {
    const first = await get(t('width=120,format=png', 'revalidated.png'));
    expect(first.status, show(first)).toBe(200);
    expect(origin.served.get('/revalidated.png')).toBe(1);
    // no-cache: every use revalidates.
    const second = await get(t('width=130,format=png', 'revalidated.png'));
    expect(second.status, show(second)).toBe(200);
    expect((await sharp(second.body).metadata()).width).toBe(130);
    const conditional = origin.seen.filter((s) => s.path === '/revalidated.png');
    expect(conditional.length).toBe(2);
    expect(conditional[1]!.ifNoneMatch).toBe('"reval-1"');
    // The body was sent once: the second rendition was made from the cached original.
    expect(origin.served.get('/revalidated.png')).toBe(1);
  });

  it('single-flight: concurrent first requests for one rendition make one fetch and one transform', async () => {
    const before = await transformCount({ url: server.url, metricsUrl: server.metricsUrl } as never);
    const all = await Promise.all(Array.from({ length: 6 }, () => get(t('width=90,format=png', 'herd.png'))));
    for (const r of all) expect(r.status, show(r)).toBe(200);
    expect(origin.count('/herd.png')).toBe(1);
    expect((await transformCount({ url: server.url, metricsUrl: server.metricsUrl } as never)) - before).toBe(
      1,
    );
  });

  it('a redirect to the same (allowed) origin is followed', async () => {
    const r = await get(t('width=50,format=png', 'to-photo'));
    expect(r.status, show(r)).toBe(200);
    expect((await sharp(r.body).metadata()).width).toBe(50);
  });
});

describe("errors are Cloudflare's transformation errors", () => {
  const cases: Array<[string, string, number, number]> = [
    ['origin 404', 'missing.png', 404, 9404],
    ['origin 403', 'forbidden.png', 502, 9408],
    ['not an image', 'text.png', 415, 9412],
    ['too large (PICTOR_TRANSFORM_MAX_BYTES)', 'big.png', 413, 9402],
    ['slow origin (total timeout)', 'slow.png', 504, 9505],
    ['redirect to a source that is not allowed', 'to-elsewhere', 502, 9420],
    ['too many redirects', 'redirect-loop', 502, 9421],
  ];
  for (const [name, path, status, code] of cases) {
    it(`${name}: ${status}, Cf-Resized: err=${code}, a short text body`, async () => {
      const r = await get(t('width=100', path));
      expect(r.status, show(r)).toBe(status);
      expect(r.headers.get('cf-resized')).toBe(`err=${code}`);
      expect(r.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(r.body.toString('utf8')).toMatch(new RegExp(`^ERROR ${code}: .{5,300}\\n$`));
    });
  }

  it('origin down (connection refused): 502, err=9504', async () => {
    const r = await get(t('width=100', `http://127.0.0.1:${downPort}/photo.png`));
    expect(r.status, show(r)).toBe(502);
    expect(r.headers.get('cf-resized')).toBe('err=9504');
  });

  it('a source whose origin is not listed is refused (403, err=9425) and never fetched', async () => {
    const stranger = new Origin({});
    await stranger.start();
    try {
      const r = await get(t('width=100', `${stranger.url}/photo.png`));
      expect(r.status, show(r)).toBe(403);
      expect(r.headers.get('cf-resized')).toBe('err=9425');
      expect(stranger.seen).toHaveLength(0);
    } finally {
      await stranger.close();
    }
  });

  it('loops are refused: a request marked Via: image-resizing, and a source that is itself a transformation URL', async () => {
    const marked = await get(t('width=100', 'photo.png'), { via: '1.1 image-resizing' });
    expect(marked.status, show(marked)).toBe(508);
    expect(marked.headers.get('cf-resized')).toBe('err=9403');
    const nested = await get(t('width=100', `cdn-cgi/image/width=50/photo.png`));
    expect(nested.headers.get('cf-resized')).toBe('err=9403');
  });

  it('refused when unconfigured: 404 with err=9431 and nothing fetched', async () => {
    const before = origin.seen.length;
    const r = await get(`${bare.url}/cdn-cgi/image/width=100/${origin.url}/photo.png`);
    expect(r.status, show(r)).toBe(404);
    expect(r.headers.get('cf-resized')).toBe('err=9431');
    expect(origin.seen.length).toBe(before);
  });
});

describe('headers', () => {
  it('CORS: Access-Control-Allow-Origin: * on renditions and errors', async () => {
    const ok = await get(t('width=60,format=png', 'photo.png'), { origin: 'http://127.0.0.1:3000' });
    expect(ok.headers.get('access-control-allow-origin')).toBe('*');
    const bad = await get(t('width=60', 'missing.png'));
    expect(bad.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('an SVG source is served sanitised with the CSP and nosniff', async () => {
    const r = await get(t('width=60', 'logo.svg'));
    expect(r.status, show(r)).toBe(200);
    expect(r.headers.get('content-type')).toBe('image/svg+xml');
    expect(r.headers.get('content-security-policy')).toBe(
      "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    );
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
  });
});

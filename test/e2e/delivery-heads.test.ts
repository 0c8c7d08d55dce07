/**
 * The delivery response heads, built by one function (src/delivery/respond.ts `head()`):
 *
 * - the hot-rendition fast path (answered on the raw Node response before routing) and the full
 *   Fastify route give identical heads for the same request (200 and 304, raster and SVG), apart
 *   from what must differ (Date, Connection, Keep-Alive);
 * - an internal failure (not an AppError) during delivery is logged with its stack and answered as
 *   an internal error (5500), never as 9412 "could not be decoded";
 * - CORS: `Access-Control-Allow-Origin: *` by default on renditions, 304s and errors, the listed
 *   origins echoed with `Vary: Origin` under PICTOR_CORS_ORIGINS, an OPTIONS preflight;
 * - a malformed percent-escape in a delivery URL answers the delivery error form (text, Cf-Resized),
 *   not the API's JSON 7003.
 *
 * The server is composed in this process so the test can reach its parts: the fast path is driven
 * alone on a raw node:http server, the full route through `app.inject` (which never passes the fast
 * path), both on the same composition.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { tryFastPath } from '../../src/delivery/fast-path.js';
import { buildApp } from '../../src/server/app.js';
import { bootstrap } from '../../src/server/bootstrap.js';
import { compose, type Composition } from '../../src/server/compose.js';
import { SVG } from '../helpers/images.js';
import { TEST_ACCOUNT_ID, TEST_PROCESSES, TEST_TOKEN } from '../helpers/server.js';

interface Node {
  dir: string;
  composition: Composition;
  app: FastifyInstance;
  hash: string;
  logs: string[];
  close(): Promise<void>;
}

async function startNode(env: Record<string, string> = {}): Promise<Node> {
  const dir = mkdtempSync(join(tmpdir(), 'pictor-heads-'));
  const config = loadConfig({
    PICTOR_PROCESSES: TEST_PROCESSES,
    PORT: '0',
    HOST: '127.0.0.1',
    PICTOR_DATA_DIR: dir,
    PICTOR_ACCOUNT_ID: TEST_ACCOUNT_ID,
    PICTOR_API_TOKEN: TEST_TOKEN,
    LOG_LEVEL: 'info',
    ...env,
  });
  const composition = await compose(config);
  const boot = await bootstrap(config, composition.api.accounts);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString('utf8'));
      done();
    },
  });
  const app = await buildApp({
    api: composition.api,
    delivery: composition.delivery,
    logger: pino({ level: 'info' }, sink),
  });
  await app.ready();
  return {
    dir,
    composition,
    app,
    hash: boot.account.hash,
    logs,
    async close() {
      await app.close();
      await composition.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function uploadTo(node: Node, data: Buffer, id: string): Promise<void> {
  await node.composition.api.images.upload({
    accountId: TEST_ACCOUNT_ID,
    file: { data, filename: `${id}.bin` },
    id,
  });
}

/** A server that only runs the fast path (599 when it declines), on the node's delivery context. */
async function fastPathOnly(node: Node): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (!tryFastPath(node.composition.delivery, req.url ?? '/', req, res)) {
      res.writeHead(599);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Headers that legitimately differ between two answers of one server. */
const TRANSPORT = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

function comparable(headers: Record<string, string | string[] | number | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers))
    if (!TRANSPORT.has(k.toLowerCase()) && v !== undefined) out[k.toLowerCase()] = String(v);
  return out;
}

function fetchHeaders(h: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  h.forEach((v, k) => {
    out[k] = v;
  });
  return comparable(out);
}

let node: Node;
let fast: { url: string; close(): Promise<void> };

beforeAll(async () => {
  node = await startNode();
  fast = await fastPathOnly(node);
  await uploadTo(
    node,
    await sharp({ create: { width: 300, height: 200, channels: 3, background: '#884422' } })
      .jpeg()
      .toBuffer(),
    'photo',
  );
  await uploadTo(node, SVG, 'logo');
});

afterAll(async () => {
  await fast?.close();
  await node?.close();
});

describe('one head for the fast path and the full route', () => {
  for (const [name, id, accept] of [
    ['a raster rendition (WebP negotiated)', 'photo', 'image/webp,*/*'],
    ['an SVG (sanitised, with the CSP)', 'logo', '*/*'],
  ] as const) {
    it(`${name}: 200 and 304 heads are identical`, async () => {
      const path = `/cdn-cgi/imagedelivery/${node.hash}/${id}/public`;
      // First request through the full route: resolves, memoises, renders (MISS).
      const first = await node.app.inject({ method: 'GET', url: path, headers: { accept } });
      expect(first.statusCode, first.body).toBe(200);
      expect(first.headers['cf-cache-status']).toBe('MISS');
      // The same request twice more: on the fast path and on the full route (both HIT now).
      const viaFast = await fetch(`${fast.url}${path}`, { headers: { accept } });
      expect(viaFast.status, 'the fast path answered').toBe(200);
      const viaRoute = await node.app.inject({ method: 'GET', url: path, headers: { accept } });
      expect(viaRoute.statusCode).toBe(200);
      expect(fetchHeaders(viaFast.headers)).toEqual(comparable(viaRoute.headers));
      expect(Buffer.from(await viaFast.arrayBuffer()).equals(viaRoute.rawPayload)).toBe(true);
      const h = fetchHeaders(viaFast.headers);
      expect(h['x-content-type-options']).toBe('nosniff');
      expect(h['access-control-allow-origin']).toBe('*');
      if (id === 'logo')
        expect(h['content-security-policy']).toBe(
          "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
        );

      const etag = h.etag!;
      const fast304 = await fetch(`${fast.url}${path}`, { headers: { accept, 'if-none-match': etag } });
      const route304 = await node.app.inject({
        method: 'GET',
        url: path,
        headers: { accept, 'if-none-match': etag },
      });
      expect(fast304.status).toBe(304);
      expect(route304.statusCode).toBe(304);
      expect(fetchHeaders(fast304.headers)).toEqual(comparable(route304.headers));
      if (id === 'logo') expect(fetchHeaders(fast304.headers)['content-security-policy']).toBeDefined();
    });
  }

  it('HEAD: the same head without a body on both paths', async () => {
    const path = `/cdn-cgi/imagedelivery/${node.hash}/photo/public`;
    const viaFast = await fetch(`${fast.url}${path}`, { method: 'HEAD', headers: { accept: 'image/webp' } });
    const viaRoute = await node.app.inject({ method: 'HEAD', url: path, headers: { accept: 'image/webp' } });
    expect(viaFast.status).toBe(200);
    expect(fetchHeaders(viaFast.headers)).toEqual(comparable(viaRoute.headers));
    expect(viaRoute.rawPayload.length).toBe(0);
  });
});

describe('an internal failure', () => {
  it('is logged with its stack and answered 500 with err=5500, never 9412', async () => {
    await uploadTo(
      node,
      await sharp({ create: { width: 40, height: 40, channels: 3, background: '#123123' } })
        .png()
        .toBuffer(),
      'broken',
    );
    const images = node.composition.delivery.images;
    const original = images.original.bind(images);
    images.original = async () => {
      throw new TypeError('injected internal failure: undefined is not a function');
    };
    try {
      node.logs.length = 0;
      const res = await node.app.inject({
        method: 'GET',
        url: `/cdn-cgi/imagedelivery/${node.hash}/broken/public`,
      });
      expect(res.statusCode).toBe(500);
      expect(res.headers['cf-resized']).toBe('err=5500');
      expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(res.body).not.toContain('9412');
      expect(res.body).not.toContain('decoded');
      const entry = node.logs
        .map(
          (l) =>
            JSON.parse(l) as {
              level: number;
              msg: string;
              err?: { message: string; stack: string; type: string };
            },
        )
        .find((l) => l.err);
      expect(entry, node.logs.join('')).toBeDefined();
      expect(entry!.level).toBe(50);
      expect(entry!.err!.type).toBe('TypeError');
      expect(entry!.err!.message).toContain('injected internal failure');
      expect(entry!.err!.stack).toMatch(
        /TypeError: injected internal failure[\s\S]*delivery-heads\.test\.ts/,
      );
    } finally {
      images.original = original;
    }
  });

  it('a real decode failure is still 9412', async () => {
    // A PNG whose pixel data is garbage: the header (and so the upload) reads fine, decoding fails.
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#ff0000' } })
      .png({ compressionLevel: 0 })
      .toBuffer();
    const idat = png.indexOf('IDAT');
    const corrupt = Buffer.from(png);
    for (let i = idat + 8; i < idat + 200; i++) corrupt[i] = 0xff;
    const images = node.composition.delivery.images;
    await uploadTo(
      node,
      await sharp({ create: { width: 64, height: 64, channels: 3, background: '#00ff00' } })
        .png()
        .toBuffer(),
      'corrupt',
    );
    const original = images.original.bind(images);
    images.original = async () => corrupt;
    try {
      const res = await node.app.inject({
        method: 'GET',
        url: `/cdn-cgi/imagedelivery/${node.hash}/corrupt/public`,
        headers: { accept: 'image/webp' },
      });
      expect(res.statusCode, res.body).toBe(415);
      expect(res.headers['cf-resized']).toBe('err=9412');
    } finally {
      images.original = original;
    }
  });
});

describe('CORS and the delivery error form', () => {
  it('Access-Control-Allow-Origin: * on errors by default, and an OPTIONS preflight', async () => {
    const missing = await node.app.inject({
      method: 'GET',
      url: `/cdn-cgi/imagedelivery/${node.hash}/nope/public`,
      headers: { origin: 'http://127.0.0.1:3000' },
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['access-control-allow-origin']).toBe('*');
    const pre = await node.app.inject({
      method: 'OPTIONS',
      url: `/cdn-cgi/imagedelivery/${node.hash}/photo/public`,
      headers: {
        origin: 'http://127.0.0.1:3000',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'x-custom',
      },
    });
    expect(pre.statusCode).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('*');
    expect(pre.headers['access-control-allow-methods']).toBe('GET, HEAD, OPTIONS');
    expect(pre.headers['access-control-allow-headers']).toBe('x-custom');
    const preT = await node.app.inject({
      method: 'OPTIONS',
      url: '/cdn-cgi/image/width=10/a.png',
      headers: { origin: 'http://127.0.0.1:3000' },
    });
    expect(preT.statusCode).toBe(204);
  });

  it('PICTOR_CORS_ORIGINS: a listed origin is echoed with Vary: Origin, another gets no grant', async () => {
    const listed = await startNode({ PICTOR_CORS_ORIGINS: 'http://127.0.0.1:3000, https://app.pictor.test' });
    const fastListed = await fastPathOnly(listed);
    try {
      await uploadTo(
        listed,
        await sharp({ create: { width: 30, height: 30, channels: 3, background: '#000000' } })
          .png()
          .toBuffer(),
        'p',
      );
      const path = `/cdn-cgi/imagedelivery/${listed.hash}/p/public`;
      const ok = await listed.app.inject({
        method: 'GET',
        url: path,
        headers: { origin: 'https://app.pictor.test' },
      });
      expect(ok.statusCode).toBe(200);
      expect(ok.headers['access-control-allow-origin']).toBe('https://app.pictor.test');
      expect(ok.headers.vary).toBe('Accept, Origin');
      const other = await listed.app.inject({
        method: 'GET',
        url: path,
        headers: { origin: 'https://evil.pictor.test' },
      });
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
      // The fast path applies the same policy per request.
      const f = await fetch(`${fastListed.url}${path}`, { headers: { origin: 'http://127.0.0.1:3000' } });
      expect(f.status).toBe(200);
      expect(f.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:3000');
      const g = await fetch(`${fastListed.url}${path}`, { headers: { origin: 'https://evil.pictor.test' } });
      expect(g.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await fastListed.close();
      await listed.close();
    }
  });

  it('a malformed percent-escape in a delivery URL answers the delivery error form, not the JSON 7003', async () => {
    const address = await node.app.listen({ port: 0, host: '127.0.0.1' });
    for (const path of [
      `/cdn-cgi/imagedelivery/${node.hash}/a%zzb/public`,
      '/cdn-cgi/image/width=100/a%zz.png',
    ]) {
      const res = await fetch(`${address}${path}`);
      const body = await res.text();
      expect(res.status, body).toBe(400);
      expect(res.headers.get('cf-resized')).toBe('err=9432');
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(body).toMatch(/^ERROR 9432: /);
    }
    // The API keeps its JSON envelope.
    const api = await fetch(`${address}/client/v4/accounts/${TEST_ACCOUNT_ID}/images/v1/a%zz`);
    expect(api.status).toBe(400);
    expect(((await api.json()) as { errors: Array<{ code: number }> }).errors[0]!.code).toBe(7003);
  });
});

/**
 * Every SVG response carries the Content-Security-Policy and nosniff of src/security/svg-headers.ts,
 * one test per response path: the blob (with its Content-Disposition), a delivery miss (the full
 * route), a 304, and the second hit of a rendition (answered by delivery/fast-path.ts before routing on
 * the embedded store, where resolutions are memoised). Raster responses do not get the SVG policy.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SVG_CONTENT_SECURITY_POLICY } from '../../src/security/svg-headers.js';
import {
  accountHashOf,
  cdnUrl,
  fetchBytes,
  show,
  startDeliveryServer,
  upload,
  type DeliveryServer,
  type Fetched,
  type ImageJson,
} from '../helpers/delivery.js';

const SVG = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="teal"/></svg>',
);

function expectSvgHeaders(res: Fetched): void {
  expect(res.headers.get('content-security-policy'), show(res)).toBe(SVG_CONTENT_SECURITY_POLICY);
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
}

describe('SVG response headers', () => {
  let srv: DeliveryServer;
  let svg: ImageJson;
  let png: ImageJson;
  let hash: string;
  const blobUrl = (id: string, query = ''): string =>
    `${srv.images}/v1/${encodeURIComponent(id)}/blob${query}`;
  const auth = (): Record<string, string> => ({ authorization: `Bearer ${srv.token}` });

  beforeAll(async () => {
    srv = await startDeliveryServer();
    svg = await upload(srv, SVG, { filename: 'teal.svg', contentType: 'image/svg+xml' });
    const raster = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#08f' } })
      .png()
      .toBuffer();
    png = await upload(srv, raster, { filename: 'blue.png', contentType: 'image/png' });
    hash = accountHashOf(svg);
  });

  afterAll(async () => {
    await srv?.close();
  });

  it('blob: CSP, nosniff and Content-Disposition: attachment by default', async () => {
    const res = await fetchBytes(blobUrl(svg.id), auth());
    expect(res.status, show(res)).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expectSvgHeaders(res);
    expect(res.headers.get('content-disposition')).toBe('attachment');
  });

  it('blob: ?disposition=inline drops the attachment, never the CSP; a bad value is a 400', async () => {
    const inline = await fetchBytes(blobUrl(svg.id, '?disposition=inline'), auth());
    expect(inline.status, show(inline)).toBe(200);
    expectSvgHeaders(inline);
    expect(inline.headers.get('content-disposition')).toBe('inline');
    const bad = await fetchBytes(blobUrl(svg.id, '?disposition=open'), auth());
    expect(bad.status).toBe(400);
    const env = JSON.parse(bad.body.toString('utf8')) as {
      success: boolean;
      errors: Array<{ code: number; message: string }>;
    };
    expect(env.success).toBe(false);
    expect(env.errors[0]!.message).toContain('disposition');
  });

  it('blob: If-None-Match with its ETag (strong, weak or in a list) is a 304 with the SVG headers', async () => {
    const first = await fetchBytes(blobUrl(svg.id), auth());
    expect(first.status, show(first)).toBe(200);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^(W\/)?"[^"]+"$/);
    for (const inm of [etag!, `W/${etag!.replace(/^W\//, '')}`, `"other", ${etag!}`, '*']) {
      const res = await fetchBytes(blobUrl(svg.id), { ...auth(), 'if-none-match': inm });
      expect(res.status, `${inm}: ${show(res)}`).toBe(304);
      expect(res.body.length).toBe(0);
      expect(res.headers.get('etag')).toBe(etag);
      expectSvgHeaders(res);
    }
    const other = await fetchBytes(blobUrl(svg.id), { ...auth(), 'if-none-match': '"other"' });
    expect(other.status, show(other)).toBe(200);
    expect(other.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(other.body.length).toBeGreaterThan(0);
  });

  it('blob of a raster image: no SVG policy, no Content-Disposition unless asked', async () => {
    const res = await fetchBytes(blobUrl(png.id), auth());
    expect(res.status, show(res)).toBe(200);
    expect(res.headers.get('content-security-policy')).toBeNull();
    expect(res.headers.get('content-disposition')).toBeNull();
    expect(
      (await fetchBytes(blobUrl(png.id, '?disposition=attachment'), auth())).headers.get(
        'content-disposition',
      ),
    ).toBe('attachment');
  });

  it('delivery: the first request (full route), a 304 and the second hit (fast path) all carry the CSP', async () => {
    const url = cdnUrl(srv, hash, svg.id, 'public');
    const first = await fetchBytes(url);
    expect(first.status, show(first)).toBe(200);
    expect(first.headers.get('cf-cache-status')).toBe('MISS');
    expect(first.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expectSvgHeaders(first);

    const second = await fetchBytes(url);
    expect(second.status, show(second)).toBe(200);
    expect(second.headers.get('cf-cache-status')).toBe('HIT');
    expectSvgHeaders(second);
    const head = await fetchBytes(url, {}, 'HEAD');
    expectSvgHeaders(head);

    const notModified = await fetchBytes(url, { 'if-none-match': first.headers.get('etag')! });
    expect(notModified.status).toBe(304);
    expectSvgHeaders(notModified);
  });

  it('delivery of a raster image does not carry the SVG policy', async () => {
    const res = await fetchBytes(cdnUrl(srv, hash, png.id, 'public'));
    expect(res.status, show(res)).toBe(200);
    expect(res.headers.get('content-security-policy')).toBeNull();
  });
});

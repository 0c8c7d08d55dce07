/**
 * Delivery under concurrency, against a real server:
 * - single-flight: 50 concurrent first requests for one rendition → one transform (/metrics), all
 *   200 with identical bodies;
 * - the gate: with PICTOR_WORKERS=1 PICTOR_QUEUE=1, a burst of different slow renditions gets 503 +
 *   Retry-After + `Cf-Resized: err=9503` (never 500), and the server recovers afterwards.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  accountHashOf,
  cdnUrl,
  fetchBytes,
  makeScene,
  patchConfig,
  show,
  startDeliveryServer,
  transformCount,
  upload,
  type DeliveryServer,
} from '../helpers/delivery.js';

const ACCEPT_AVIF = 'image/avif,image/webp,*/*';

describe('single-flight', () => {
  // Each case on a fresh server: the first renditions a server produces are the ones a late cache
  // lookup can race with. The small case makes the transform faster than a cold disk-cache lookup.
  const cases = [
    {
      label: '1600×1000 JPEG as AVIF',
      width: 1600,
      height: 1000,
      accept: ACCEPT_AVIF,
      want: ['heif', 'av1', 1229, 768],
    },
    {
      label: '64×48 JPEG as JPEG (fast transform)',
      width: 64,
      height: 48,
      accept: '*/*',
      want: ['jpeg', undefined, 64, 48],
    },
  ] as const;

  it.each(cases)(
    '50 concurrent first requests for one rendition ($label): all 200, identical bodies, exactly one transform',
    async (c) => {
      const srv = await startDeliveryServer();
      try {
        const img = await upload(srv, await makeScene('jpeg', c.width, c.height), {
          filename: 'sf.jpg',
          contentType: 'image/jpeg',
        });
        const url = cdnUrl(srv, accountHashOf(img), img.id, 'public');
        const before = await transformCount(srv);
        const responses = await Promise.all(
          Array.from({ length: 50 }, () => fetchBytes(url, { accept: c.accept })),
        );
        for (const r of responses) expect(r.status, show(r)).toBe(200);
        const first = responses[0]!.body;
        expect(
          responses.filter((r) => !r.body.equals(first)).length,
          'responses whose body differs from the first',
        ).toBe(0);
        const m = await sharp(first).metadata();
        expect([m.format, m.format === 'heif' ? m.compression : undefined, m.width, m.height]).toEqual(
          c.want,
        );
        const misses = responses.filter((r) => r.headers.get('cf-cache-status') === 'MISS').length;
        expect(
          (await transformCount(srv)) - before,
          `pictor_transforms_total increase (${misses} responses said MISS)`,
        ).toBe(1);
      } finally {
        await srv.close();
      }
    },
  );
});

describe('gate (PICTOR_WORKERS=1, PICTOR_QUEUE=1)', () => {
  let srv: DeliveryServer;
  let hash: string;
  let id: string;

  beforeAll(async () => {
    srv = await startDeliveryServer({ PICTOR_WORKERS: '1', PICTOR_QUEUE: '1' });
    const img = await upload(srv, await makeScene('jpeg', 4000, 3000), {
      filename: 'big.jpg',
      contentType: 'image/jpeg',
    });
    hash = accountHashOf(img);
    id = img.id;
    await patchConfig(srv, { flexible_variants: true });
  });

  afterAll(async () => {
    await srv?.close();
  });

  it('a burst of 12 different AVIF renditions: some 503 with Retry-After and err=9503, none 500; then recovery', async () => {
    const widths = Array.from({ length: 12 }, (_, i) => 1001 + i);
    const responses = await Promise.all(
      widths.map((w) => fetchBytes(cdnUrl(srv, hash, id, `w=${w}`), { accept: ACCEPT_AVIF })),
    );
    const summary = responses.map((r, i) => `w=${widths[i]}:${r.status}`).join(' ');
    for (const r of responses) expect([200, 503], `${show(r)} (${summary})`).toContain(r.status);
    const busy = responses.filter((r) => r.status === 503);
    expect(busy.length, `expected at least one 503: ${summary}`).toBeGreaterThanOrEqual(1);
    for (const r of busy) {
      expect(r.headers.get('retry-after'), show(r)).toMatch(/^\d+$/);
      expect(r.headers.get('cf-resized'), show(r)).toBe('err=9503');
      expect(r.headers.get('cache-control') ?? '', 'a 503 must not be cached as public').not.toMatch(
        /public/,
      );
    }
    const served = responses.filter((r) => r.status === 200);
    expect(served.length, `at least the running job completes: ${summary}`).toBeGreaterThanOrEqual(1);

    // Recovery: a width that was refused now succeeds.
    const refusedWidth = widths[responses.findIndex((r) => r.status === 503)]!;
    const again = await fetchBytes(cdnUrl(srv, hash, id, `w=${refusedWidth}`), { accept: ACCEPT_AVIF });
    expect(again.status, show(again)).toBe(200);
    const m = await sharp(again.body).metadata();
    expect([m.format, m.compression, m.width, m.height]).toEqual([
      'heif',
      'av1',
      refusedWidth,
      Math.round((refusedWidth * 3000) / 4000),
    ]);
  });
});

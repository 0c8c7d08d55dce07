/**
 * Originals are read into pooled buffers (delivery/render.ts, core/buffer-pool.ts): a buffer that held
 * a larger original before is reused for the next, so each rendition must come from its own bytes
 * only (a view of exactly its length), whatever the buffer held. One process (the pool is looked at
 * in this one). On S3 (scale-out) the renditions are checked, not the pool: that store ignores it.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pooledOriginalBytes } from '../../src/delivery/render.js';
import { accountHashOf, startDeliveryServer, upload, type DeliveryServer } from '../helpers/delivery.js';
import { dHashDistance } from '../helpers/phash.js';
import { backendKind } from '../helpers/server.js';

let srv: DeliveryServer;

beforeAll(async () => {
  srv = await startDeliveryServer({ PICTOR_PROCESSES: '1' });
}, 60_000);
afterAll(() => srv?.close());

/** A noisy picture of its own (a seed per image), so renditions of two images never look alike. */
async function picture(format: 'jpeg' | 'png' | 'webp', w: number, h: number, seed: number): Promise<Buffer> {
  const raw = Buffer.alloc(w * h * 3);
  let x = seed * 2654435761;
  for (let i = 0; i < raw.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    const px = Math.floor(i / 3) % w;
    raw[i] = ((x >>> 24) & 0x3f) + (((px * 191 * (1 + (seed % 3))) / w + (i % 3) * seed * 40) % 192);
  }
  const img = sharp(raw, { raw: { width: w, height: h, channels: 3 } });
  return format === 'jpeg'
    ? img.jpeg({ quality: 90 }).toBuffer()
    : format === 'png'
      ? img.png().toBuffer()
      : img.webp().toBuffer();
}

describe('pooled original buffers', () => {
  it('each rendition is made from its own original, read into a buffer a larger one used before', async () => {
    // Largest first, so every later read lands in a buffer with the tail of an earlier original.
    const sources = [
      await picture('png', 1400, 1000, 1),
      await picture('jpeg', 1200, 900, 2),
      await picture('webp', 900, 700, 3),
      await picture('png', 500, 400, 4),
      await picture('jpeg', 300, 200, 5),
    ];
    for (let round = 0; round < 2; round++) {
      for (const [i, bytes] of sources.entries()) {
        const image = await upload(srv, bytes, { filename: `p${i}` });
        const url = `${srv.url}/cdn-cgi/imagedelivery/${accountHashOf(image)}/${image.id}/public`;
        const res = await fetch(url, { headers: { accept: 'image/png' } });
        expect(res.status, `image ${i}`).toBe(200);
        const body = Buffer.from(await res.arrayBuffer());
        const meta = await sharp(bytes).metadata();
        const out = await sharp(body).metadata();
        expect(out.width! / out.height!, `image ${i}: its own shape`).toBeCloseTo(
          meta.width! / meta.height!,
          1,
        );
        const reference = await sharp(bytes).png().toBuffer();
        expect(await dHashDistance(body, reference), `image ${i}: its own pixels`).toBeLessThanOrEqual(3);
      }
    }
    // Only the files store reads into the given buffer (S3 answers with the SDK's own).
    if (backendKind() !== 'scale-out')
      expect(pooledOriginalBytes(), 'buffers went back to the pool').toBeGreaterThan(0);
  }, 60_000);
});

/**
 * Output options end to end (digest §5.3–5.5): quality, metadata, anim and every format, through
 * the real server, flexible and stored variants.
 *
 * - quality: bytes fall as quality falls (JPEG, WebP, AVIF), and a JPEG's quantisation table is the
 *   standard one scaled for exactly the quality asked (test/helpers/pixels.ts `jpegQuality`);
 * - metadata: a JPEG with EXIF Copyright and Artist and a Display P3 ICC profile, read back with
 *   exif-reader and sharp's metadata;
 * - anim=false: one frame out of a three-frame GIF;
 * - format: the bytes' real format (file-type), whatever the Content-Type says.
 */
import exifReader from 'exif-reader';
import { fileTypeFromBuffer } from 'file-type';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cdnUrl,
  createVariant,
  fetchBytes,
  patchConfig,
  show,
  startDeliveryServer,
  uploadAll,
  type DeliveryServer,
  type Fetched,
} from '../helpers/delivery.js';
import { makeImage } from '../helpers/images.js';
import { jpegQuality } from '../helpers/pixels.js';

let srv: DeliveryServer;
let hash: string;
const ids: Record<string, string> = {};

const COPYRIGHT = 'Pictor Test Copyright 2026';
const ARTIST = 'Pictor Test Artist';

beforeAll(async () => {
  srv = await startDeliveryServer();
  await patchConfig(srv, { flexible_variants: true });
  const frames = 3;
  const raw = Buffer.alloc(40 * 30 * frames * 3);
  for (let f = 0; f < frames; f++) raw.fill(f * 100, f * 40 * 30 * 3, (f + 1) * 40 * 30 * 3);
  const sources: Record<string, Buffer> = {
    photo: await makeImage('jpeg', 320, 240),
    png: await makeImage('png', 120, 90),
    tagged: await sharp(await makeImage('png', 64, 48))
      .withIccProfile('p3')
      .withExif({ IFD0: { Copyright: COPYRIGHT, Artist: ARTIST } })
      .jpeg()
      .toBuffer(),
    plain: await makeImage('jpeg', 64, 48),
    animated: await sharp(raw, { raw: { width: 40, height: 30 * frames, channels: 3, pageHeight: 30 } })
      .gif({ loop: 0, delay: [100, 100, 100] })
      .toBuffer(),
  };
  const uploaded = await uploadAll(srv, sources);
  Object.assign(ids, uploaded.ids);
  hash = uploaded.hash;
  for (const metadata of ['keep', 'copyright', 'none'])
    await createVariant(srv, `meta${metadata}`, { fit: 'scale-down', width: 64, metadata });
});

afterAll(async () => {
  await srv?.close();
});

async function get(name: string, last: string, accept = '*/*'): Promise<Fetched> {
  const res = await fetchBytes(cdnUrl(srv, hash, ids[name]!, last), { accept });
  expect(res.status, show(res)).toBe(200);
  return res;
}

describe('quality', () => {
  it('a JPEG is encoded at exactly the quality asked, and bytes fall with it', async () => {
    let previous = Infinity;
    for (const q of [95, 85, 60, 30, 10, 1]) {
      const res = await get('photo', `q=${q},f=jpeg`);
      expect(jpegQuality(res.body), `q=${q}`).toBe(q);
      expect(res.body.length, `q=${q} bytes`).toBeLessThan(previous);
      previous = res.body.length;
    }
  });

  it('the default quality is 85, also for stored variants', async () => {
    expect(jpegQuality((await get('photo', 'f=jpeg')).body)).toBe(85);
    expect(jpegQuality((await get('photo', 'public')).body)).toBe(85);
  });

  it.each(['webp', 'avif'])('%s bytes fall as quality falls', async (f) => {
    const sizes = [];
    for (const q of [95, 70, 40, 10]) sizes.push((await get('photo', `quality=${q},f=${f}`)).body.length);
    for (let i = 1; i < sizes.length; i++)
      expect(sizes[i]!, `${f} sizes ${sizes.join(' > ')}`).toBeLessThan(sizes[i - 1]!);
  });
});

describe('metadata', () => {
  async function read(res: Fetched): Promise<{ image: Record<string, unknown> | undefined; icc: boolean }> {
    const m = await sharp(res.body).metadata();
    return {
      image: m.exif ? (exifReader(m.exif).Image as Record<string, unknown>) : undefined,
      icc: m.icc !== undefined,
    };
  }

  it('keep: EXIF (Copyright and Artist) and the ICC profile stay', async () => {
    for (const last of ['metadata=keep,f=jpeg', 'metakeep']) {
      const { image, icc } = await read(await get('tagged', last));
      expect(image?.Copyright, last).toBe(COPYRIGHT);
      expect(image?.Artist, last).toBe(ARTIST);
      expect(icc, last).toBe(true);
    }
  });

  it('copyright: only the copyright stays; no ICC profile', async () => {
    for (const last of ['metadata=copyright,f=jpeg', 'metacopyright', 'f=jpeg']) {
      const { image, icc } = await read(await get('tagged', last));
      expect(image?.Copyright, last).toBe(COPYRIGHT);
      expect(image?.Artist, last).toBeUndefined();
      expect(icc, last).toBe(false);
    }
  });

  it('none: no EXIF, no ICC profile', async () => {
    for (const last of ['metadata=none,f=jpeg', 'metanone', 'public']) {
      const { image, icc } = await read(await get('tagged', last));
      expect(image, last).toBeUndefined();
      expect(icc, last).toBe(false);
    }
  });

  it('copyright on a source without one writes no EXIF', async () => {
    expect((await read(await get('plain', 'metadata=copyright,f=jpeg'))).image).toBeUndefined();
  });

  it('WebP and PNG output never carry EXIF, even with keep; AVIF does', async () => {
    for (const f of ['webp', 'png'])
      expect((await read(await get('tagged', `metadata=keep,f=${f}`))).image, f).toBeUndefined();
    expect((await read(await get('tagged', 'metadata=keep,f=avif'))).image?.Copyright).toBe(COPYRIGHT);
  });

  it('the colour profile is applied whatever the mode: pixels agree across keep and none', async () => {
    const keep = await sharp((await get('tagged', 'metadata=keep,f=png')).body)
      .raw()
      .toBuffer();
    const none = await sharp((await get('tagged', 'metadata=none,f=png')).body)
      .raw()
      .toBuffer();
    let worst = 0;
    for (let i = 0; i < keep.length; i++) worst = Math.max(worst, Math.abs(keep[i]! - none[i]!));
    expect(worst).toBeLessThanOrEqual(3);
  });
});

describe('anim', () => {
  it('a three-frame GIF keeps its frames by default and has one with anim=false', async () => {
    const pages = async (last: string): Promise<number> =>
      (await sharp((await get('animated', last)).body, { animated: true }).metadata()).pages ?? 1;
    expect(await pages('f=gif')).toBe(3);
    expect(await pages('anim=true,f=gif')).toBe(3);
    expect(await pages('anim=false,f=gif')).toBe(1);
    expect(await pages('f=webp')).toBe(3);
    expect(await pages('anim=false,f=webp')).toBe(1);
  });

  it('anim=false lets an animation become AVIF (a still)', async () => {
    const res = await get('animated', 'anim=false', 'image/avif,image/webp,*/*');
    expect((await fileTypeFromBuffer(res.body))?.mime).toBe('image/avif');
  });
});

describe('format: the bytes are what was asked', () => {
  it.each([
    ['f=avif', 'image/avif'],
    ['f=webp', 'image/webp'],
    ['f=jpeg', 'image/jpeg'],
    ['f=png', 'image/png'],
    ['f=gif', 'image/gif'],
    ['format=baseline-jpeg', 'image/jpeg'],
  ])('%s → %s', async (last, mime) => {
    const res = await get('png', last);
    expect((await fileTypeFromBuffer(res.body))?.mime).toBe(mime);
    expect(res.headers.get('content-type')).toBe(mime);
  });

  it('jpeg is progressive, baseline-jpeg is not', async () => {
    expect((await sharp((await get('png', 'f=jpeg')).body).metadata()).isProgressive).toBe(true);
    expect((await sharp((await get('png', 'format=baseline-jpeg')).body).metadata()).isProgressive).toBe(
      false,
    );
  });

  it.each([
    ['image/avif,image/webp,*/*', 'image/avif'],
    ['image/webp,*/*', 'image/webp'],
    ['*/*', 'image/png'],
  ])('f=auto with Accept %s → %s', async (accept, mime) => {
    const res = await get('png', 'f=auto', accept);
    expect((await fileTypeFromBuffer(res.body))?.mime).toBe(mime);
  });

  it('an unknown format is a 400', async () => {
    const res = await fetchBytes(cdnUrl(srv, hash, ids.png!, 'f=bmp'));
    expect(res.status, show(res)).toBe(400);
    expect(res.headers.get('cf-resized')).toBe('err=9401');
  });
});

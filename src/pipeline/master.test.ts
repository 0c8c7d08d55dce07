import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { defaults, type TransformOptions } from '../transform/options.js';
import { planTransform, runMaster, runTransform } from './index.js';
import {
  MASTER_FACTOR,
  MASTER_MIN_SIDE,
  MASTER_SIDE,
  masterContentType,
  masterFor,
  masterSize,
  parseMaster,
} from './master.js';
import type { RasterFormat, SourceInfo } from './plan.js';

const still = (format: SourceInfo['format'], width: number, height: number): SourceInfo => ({
  format,
  width,
  height,
  pages: 1,
  hasAlpha: false,
});
const big = still('jpeg', 4032, 3024);
const forOptions = (source: SourceInfo, o: Partial<TransformOptions>, out: RasterFormat = 'jpeg') =>
  masterFor(source, planTransform(source, defaults(o), out));

describe('masterSize', () => {
  it('a JPEG longer than 2048 px: scaled to 2048 on its longer side', () => {
    expect(MASTER_SIDE).toBe(2048);
    expect(masterSize(big)).toEqual({ width: 2048, height: 1536 });
    expect(masterSize(still('jpeg', 3000, 5000))).toEqual({ width: 1229, height: 2048 });
  });

  it('a JPEG of 2048 px or less gets none (its shrink-on-load decode is already cheap)', () => {
    expect(masterSize(still('jpeg', 2048, 2048))).toBeUndefined();
    expect(masterSize(still('jpeg', 2049, 100))).toEqual({ width: 2048, height: 100 });
  });

  it('PNG, WebP, AVIF, HEIC longer than 1024 px get one, at their own size up to 2048', () => {
    expect(MASTER_MIN_SIDE).toBe(1024);
    for (const f of ['png', 'webp', 'avif', 'heic'] as const) {
      expect(masterSize(still(f, 1024, 800)), f).toBeUndefined();
      expect(masterSize(still(f, 1025, 800)), f).toEqual({ width: 1025, height: 800 });
      expect(masterSize(still(f, 4096, 2048)), f).toEqual({ width: 2048, height: 1024 });
    }
  });

  it('GIF, SVG and animations never', () => {
    expect(masterSize(still('gif', 3000, 3000))).toBeUndefined();
    expect(masterSize(still('svg', 3000, 3000))).toBeUndefined();
    expect(masterSize({ ...still('webp', 3000, 3000), pages: 2 })).toBeUndefined();
  });
});

describe('masterFor', () => {
  it('a rendition at least 2× smaller than the master in both axes uses it', () => {
    expect(MASTER_FACTOR).toBe(2);
    // 4032×3024 → master 2048×1536: up to 1024×768.
    expect(forOptions(big, { width: 1024 })).toEqual({ width: 2048, height: 1536 });
    expect(forOptions(big, { width: 1025 })).toBeUndefined();
    expect(forOptions(big, { width: 512, height: 512 })).toEqual({ width: 2048, height: 1536 });
  });

  it('cover scales by the larger ratio, pad (contain) by the smaller', () => {
    // cover 1024×100 of 4032×3024 scales by 1024/4032: at the limit.
    expect(forOptions(big, { width: 1024, height: 100, fit: 'cover' })).toBeDefined();
    expect(forOptions(big, { width: 100, height: 769, fit: 'cover' })).toBeUndefined();
    // pad 1100×700: the image inside is 933×700, ≤ half the master.
    expect(forOptions(big, { width: 1100, height: 700, fit: 'pad' })).toBeDefined();
    expect(forOptions(big, { width: 1100, height: 800, fit: 'pad' })).toBeUndefined();
  });

  it('a rotation by 90 turns the frame the factor is measured in', () => {
    // Turned, the source is 3024×4032 and w=768 scales by 768/3024: at the limit of the master's 1536.
    expect(forOptions(big, { width: 768, rotate: 90 })).toBeDefined();
    expect(forOptions(big, { width: 769, rotate: 90 })).toBeUndefined();
  });

  it('lossy outputs only', () => {
    expect(forOptions(big, { width: 400 }, 'webp')).toBeDefined();
    expect(forOptions(big, { width: 400 }, 'avif')).toBeDefined();
    expect(forOptions(big, { width: 400 }, 'png')).toBeUndefined();
    expect(forOptions(big, { width: 400 }, 'gif')).toBeUndefined();
  });

  it('never with trim, gamma or metadata=keep, nor without a resize', () => {
    expect(forOptions(big, { width: 400, trim: { top: 1, right: 1, bottom: 1, left: 1 } })).toBeUndefined();
    expect(forOptions(big, { width: 400, gamma: 2 })).toBeUndefined();
    expect(forOptions(big, { width: 400, metadata: 'keep' })).toBeUndefined();
    expect(forOptions(big, { width: 400, metadata: 'none' })).toBeDefined();
    expect(forOptions(big, {})).toBeUndefined();
  });

  it('never for a source that gets no master', () => {
    expect(forOptions(still('jpeg', 2000, 1500), { width: 100 })).toBeUndefined();
  });
});

describe('stored masters', () => {
  it('the content type carries the geometry; anything else, or a short body, is not a master', () => {
    const m = { width: 3, height: 2, channels: 4 as const, pixels: Buffer.alloc(24) };
    const type = masterContentType(m);
    expect(type).toBe('application/x-pictor-master; w=3; h=2; c=4');
    expect(parseMaster(m.pixels, type)).toEqual(m);
    expect(parseMaster(Buffer.alloc(23), type)).toBeUndefined();
    expect(parseMaster(m.pixels, 'image/jpeg')).toBeUndefined();
    expect(parseMaster(m.pixels, 'application/x-pictor-master; w=3; h=2; c=2')).toBeUndefined();
  });

  it('a master is upright, sRGB, 8-bit, with alpha when the source has it', async () => {
    // 300×200 stored, EXIF orientation 6: upright 200×300; red on the left of the stored pixels.
    const stored = await sharp({ create: { width: 300, height: 200, channels: 4, background: '#00f8' } })
      .composite([
        { input: { create: { width: 150, height: 200, channels: 4, background: '#f00f' } }, left: 0, top: 0 },
      ])
      .png()
      .toBuffer();
    const jpeg = await sharp(stored).flatten().jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const m = await runMaster(jpeg, { width: 200, height: 300 });
    expect([m.width, m.height, m.channels, m.pixels.length]).toEqual([200, 300, 3, 200 * 300 * 3]);
    // Orientation 6 turns the stored left edge to the top: the top row is red.
    expect([...m.pixels.subarray(100 * 3, 100 * 3 + 3)].map((v) => Math.round(v / 32))).toEqual([8, 0, 0]);
    const png = await runMaster(stored, { width: 150, height: 100 });
    expect([png.channels, png.pixels[(50 * 150 + 120) * 4 + 3]]).toEqual([4, 0x88]);
  });

  it('runTransform on a master makes the same numbers as the plan says', async () => {
    const source = still('png', 1200, 900);
    const bytes = await sharp({ create: { width: 1200, height: 900, channels: 3, background: '#3a6' } })
      .png()
      .toBuffer();
    const plan = planTransform(source, defaults({ width: 301, height: 211, fit: 'cover' }), 'webp');
    const m = await runMaster(bytes, masterFor(source, plan)!);
    const out = await sharp(await runTransform(m, plan)).metadata();
    expect([out.format, out.width, out.height]).toEqual(['webp', 301, 211]);
  });
});

/**
 * Test images for the benchmarks, generated here (no binary fixtures): photo-like pictures — blurred
 * noise overlaid on smooth colour gradients, as in bench/avif-effort.ts — so they compress like photos,
 * plus decompression bombs. Deterministic (seeded), and cached in bench/.cache/ because the large ones
 * take seconds to make.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDeflate } from 'node:zlib';
import sharp from 'sharp';
import { prng } from '../../test/helpers/random.js';

const CACHE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '.cache');

export interface PhotoSpec {
  width: number;
  height: number;
  /** Noise cell size in source pixels (1 = per-pixel grain; larger = smoother, more compressible). */
  grain: number;
  /** Gaussian blur of the noise (in noise cells). */
  blur: number;
  /** 0..1: how strongly the noise modulates the gradient. */
  amplitude: number;
  /** JPEG quality of the source. */
  quality: number;
  seed: number;
}

/** The photo as raw RGB pixels (before JPEG encoding). */
export async function photoRaw(spec: Omit<PhotoSpec, 'quality'>): Promise<Buffer> {
  const { width: W, height: H } = spec;
  const rand = prng(spec.seed);
  // Gradient: four random corner colours on a 2×2 image, stretched smoothly over the whole frame.
  const corners = Buffer.alloc(2 * 2 * 3);
  for (let i = 0; i < corners.length; i++) corners[i] = 40 + Math.floor(rand() * 176);
  const gradient = await sharp(corners, { raw: { width: 2, height: 2, channels: 3 } })
    .resize(W, H, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer();
  // Noise at 1/grain resolution, blurred, centred on 128 (overlay-neutral) with the given amplitude.
  const nw = Math.max(2, Math.ceil(W / spec.grain));
  const nh = Math.max(2, Math.ceil(H / spec.grain));
  const noise = Buffer.alloc(nw * nh * 3);
  for (let i = 0; i < noise.length; i++) noise[i] = Math.floor(rand() * 256);
  let n = sharp(noise, { raw: { width: nw, height: nh, channels: 3 } });
  if (spec.blur >= 0.3) n = n.blur(spec.blur);
  const a = spec.amplitude;
  const noiseFull = await sharp(
    await n
      .linear(a, 128 * (1 - a))
      .raw()
      .toBuffer(),
    { raw: { width: nw, height: nh, channels: 3 } },
  )
    .resize(W, H, { fit: 'fill', kernel: spec.grain > 1 ? 'cubic' : 'nearest' })
    .raw()
    .toBuffer();
  const { data, info } = await sharp(gradient, { raw: { width: W, height: H, channels: 3 } })
    .composite([{ input: noiseFull, raw: { width: W, height: H, channels: 3 }, blend: 'overlay' }])
    .raw()
    .toBuffer({ resolveWithObject: true });
  // composite() adds an alpha channel: drop it so the result is plain RGB.
  if (info.channels === 3) return data;
  return sharp(data, { raw: { width: W, height: H, channels: info.channels } })
    .removeAlpha()
    .raw()
    .toBuffer();
}

function cachePath(key: unknown, ext: string): string {
  const digest = createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 24);
  return join(CACHE_DIR, `${digest}.${ext}`);
}

function cached(path: string): Buffer | undefined {
  return existsSync(path) ? readFileSync(path) : undefined;
}

function store(path: string, data: Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** A photo-like JPEG. */
export async function photo(spec: PhotoSpec): Promise<Buffer> {
  const path = cachePath({ v: 1, spec }, 'jpg');
  const hit = cached(path);
  if (hit) return hit;
  const raw = await photoRaw(spec);
  const jpeg = await sharp(raw, { raw: { width: spec.width, height: spec.height, channels: 3 } })
    .jpeg({ quality: spec.quality })
    .toBuffer();
  store(path, jpeg);
  return jpeg;
}

/**
 * A photo-like JPEG whose size lands near `targetBytes` (never above `maxBytes`): the JPEG quality is
 * searched (integers 30..98) on one rendering of the pixels.
 */
export async function photoOfSize(
  spec: Omit<PhotoSpec, 'quality'>,
  targetBytes: number,
  maxBytes = Infinity,
): Promise<{ data: Buffer; quality: number }> {
  const path = cachePath({ v: 1, spec, targetBytes, maxBytes }, 'jpg');
  const qPath = `${path}.q`;
  const hit = cached(path);
  if (hit && existsSync(qPath)) return { data: hit, quality: Number(readFileSync(qPath, 'utf8')) };
  const raw = await photoRaw(spec);
  const encode = (q: number) =>
    sharp(raw, { raw: { width: spec.width, height: spec.height, channels: 3 } })
      .jpeg({ quality: q })
      .toBuffer();
  let lo = 30;
  let hi = 98;
  let best: { data: Buffer; quality: number } | undefined;
  // Largest quality whose size stays at or under the target (bounded: at most 7 encodes).
  for (let i = 0; i < 7 && lo <= hi; i++) {
    const q = Math.floor((lo + hi) / 2);
    const data = await encode(q);
    if (data.length <= targetBytes) {
      best = { data, quality: q };
      lo = q + 1;
    } else hi = q - 1;
  }
  best ??= { data: await encode(30), quality: 30 };
  if (best.data.length > maxBytes)
    throw new Error(
      `photoOfSize: ${best.data.length} bytes exceeds ${maxBytes} even at quality ${best.quality}`,
    );
  store(path, best.data);
  store(qPath, Buffer.from(String(best.quality)));
  return best;
}

/** CRC-32 (PNG chunks). */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/**
 * A PNG whose header claims width×height (8-bit greyscale) with `rows` real rows of zeros in its IDAT:
 * `rows = height` makes a complete, valid image that inflates to width×height bytes (a true
 * decompression bomb, about 1/1000 of that on the wire); a small `rows` makes a lying header.
 * The rows are deflated as a stream, so no inflated-size buffer is ever built.
 */
export async function pngBomb(width: number, height: number, rows: number): Promise<Buffer> {
  const path = cachePath({ v: 1, bomb: [width, height, rows] }, 'png');
  const hit = cached(path);
  if (hit) return hit;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale; compression, filter, interlace: 0
  const deflate = createDeflate({ level: 9 });
  const out: Buffer[] = [];
  deflate.on('data', (b: Buffer) => out.push(b));
  const done = new Promise<void>((resolve, reject) => {
    deflate.once('end', resolve);
    deflate.once('error', reject);
  });
  // Each row is a filter byte (0) and `width` zero bytes: feed them in ~16 MiB slices.
  const rowBytes = width + 1;
  const perSlice = Math.max(1, Math.floor((16 * 1024 * 1024) / rowBytes));
  const slice = Buffer.alloc(Math.min(rows, perSlice) * rowBytes);
  for (let left = rows; left > 0; left -= perSlice) {
    const n = Math.min(left, perSlice);
    if (!deflate.write(slice.subarray(0, n * rowBytes))) await new Promise((r) => deflate.once('drain', r));
  }
  deflate.end();
  await done;
  const png = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', Buffer.concat(out)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
  store(path, png);
  return png;
}

/**
 * A photo-like JPEG source whose 85-quality JPEG rendition fitted into `box` (what Pictor's `public`
 * variant makes) lands near `targetBytes`: the noise amplitude is searched (at most 8 renderings).
 */
export async function photoForRendition(
  spec: Omit<PhotoSpec, 'amplitude'>,
  box: { width: number; height: number },
  targetBytes: number,
): Promise<{ data: Buffer; amplitude: number; renditionBytes: number }> {
  const path = cachePath({ v: 1, spec, box, targetBytes }, 'jpg');
  const metaPath = `${path}.json`;
  const hit = cached(path);
  if (hit && existsSync(metaPath))
    return {
      data: hit,
      ...(JSON.parse(readFileSync(metaPath, 'utf8')) as { amplitude: number; renditionBytes: number }),
    };
  let lo = 0.05;
  let hi = 1;
  let best: { data: Buffer; amplitude: number; renditionBytes: number } | undefined;
  for (let i = 0; i < 8; i++) {
    const amplitude = (lo + hi) / 2;
    const raw = await photoRaw({ ...spec, amplitude });
    const data = await sharp(raw, { raw: { width: spec.width, height: spec.height, channels: 3 } })
      .jpeg({ quality: spec.quality })
      .toBuffer();
    const r = await sharp(data)
      .resize(box.width, box.height, { fit: 'inside', withoutEnlargement: true })
      .jpeg({ quality: 85, progressive: true })
      .toBuffer();
    if (!best || Math.abs(r.length - targetBytes) < Math.abs(best.renditionBytes - targetBytes))
      best = { data, amplitude, renditionBytes: r.length };
    if (Math.abs(r.length - targetBytes) / targetBytes < 0.01) break;
    if (r.length > targetBytes) hi = amplitude;
    else lo = amplitude;
  }
  store(path, best!.data);
  store(
    metaPath,
    Buffer.from(JSON.stringify({ amplitude: best!.amplitude, renditionBytes: best!.renditionBytes })),
  );
  return best!;
}

/** Width×height of an encoded image (header only). */
export async function dimensions(data: Buffer): Promise<{ width: number; height: number }> {
  const m = await sharp(data, { limitInputPixels: false }).metadata();
  return { width: m.width ?? 0, height: m.height ?? 0 };
}

/**
 * Intermediate masters: the decoded source, upright, in 8-bit sRGB, at most MASTER_SIDE px a side,
 * kept in the rendition cache as raw pixels so that later, smaller renditions of the same image skip
 * the decode of the full source (the cost that dominates a small rendition: a 12 MP JPEG is entropy-
 * decoded in full even with shrink-on-load, and PNG, AVIF and HEIC have no shrink-on-load at all).
 *
 * When a master is used (masterFor), numbers only; docs/delivery.md has the same rules in prose:
 * - the source is a still JPEG longer than MASTER_SIDE a side, or a still PNG, WebP, AVIF or HEIC
 *   longer than MASTER_MIN_SIDE (their decode costs the full image on every request; GIF and SVG never);
 * - the output is lossy (JPEG, WebP, AVIF): PNG and GIF outputs keep the source's exact pixels, bit
 *   depth and palette;
 * - no option needs the full source: no trim (its region is in source pixels), no gamma (applied
 *   before resizing), no `metadata=keep` (the master has no EXIF or ICC profile);
 * - the rendition is a downscale by at least MASTER_FACTOR from the master in both axes, so the
 *   master holds at least 2×2 of its pixels for each output pixel.
 * The plan is the one made from the full source's size: the output's width and height, crops and
 * positions are the same numbers whether the pixels come from the master or from the source.
 *
 * Raw pixels rather than an encoded file: lossless, and nothing to decode (a lossless PNG or WebP of
 * the master would cost as much to decode as the source; a high-quality JPEG would add a generation
 * of compression to every rendition). The price is size: width × height × channels bytes, at most
 * 2048 × 2048 × 4 = 16 MiB.
 */
import sharp from 'sharp';
import { MAX_PIXELS } from '../core/limits.js';
import type { SourceInfo, TransformPlan } from './plan.js';

/** Longest side of a master. */
export const MASTER_SIDE = 2048;
/** Non-JPEG sources get a master above this longer side (below it a full decode is cheap). */
export const MASTER_MIN_SIDE = 1024;
/** A rendition is made from the master only when it is at least this many times smaller in both axes. */
export const MASTER_FACTOR = 2;
/** Part of a master's cache key: bumped whenever the way masters are made changes. */
export const MASTER_VERSION = 1;

export interface MasterSize {
  width: number;
  height: number;
}

/** A master's pixels: `width × height × channels` bytes, 8-bit sRGB, alpha last when present. */
export interface Master extends MasterSize {
  pixels: Buffer;
  channels: 3 | 4;
}

const DECODED_IN_FULL: ReadonlySet<SourceInfo['format']> = new Set(['png', 'webp', 'avif', 'heic']);
const LOSSY_OUTPUT: ReadonlySet<string> = new Set(['jpeg', 'webp', 'avif']);

/**
 * The size of the master a source would have, or undefined when the source gets none.
 * @example masterSize({ width: 4032, height: 3024, format: 'jpeg', pages: 1, hasAlpha: false }) // { width: 2048, height: 1536 }
 */
export function masterSize(source: SourceInfo): MasterSize | undefined {
  if (source.pages !== 1) return undefined;
  const long = Math.max(source.width, source.height);
  const eligible =
    source.format === 'jpeg'
      ? long > MASTER_SIDE
      : DECODED_IN_FULL.has(source.format) && long > MASTER_MIN_SIDE;
  if (!eligible) return undefined;
  const s = Math.min(1, MASTER_SIDE / long);
  return {
    width: Math.max(1, Math.round(source.width * s)),
    height: Math.max(1, Math.round(source.height * s)),
  };
}

/**
 * The master a plan (made for the full source) may be run on instead of the source, or undefined when
 * it must be made from the source (the rules in this file's header).
 * @example masterFor(source4032x3024, planTransform(source4032x3024, defaults({ width: 512, height: 512 }), 'jpeg')) // { width: 2048, height: 1536 }
 */
export function masterFor(source: SourceInfo, plan: TransformPlan): MasterSize | undefined {
  const size = masterSize(source);
  const r = plan.resize;
  if (!size || !r) return undefined;
  if (!LOSSY_OUTPUT.has(plan.output.format) || plan.output.animated) return undefined;
  if (plan.trim || plan.gamma || plan.keepIcc || plan.exif === 'all') return undefined;
  // The frame the resize sees: the upright source, turned by the plan's rotation.
  const turned = plan.rotate === 90 || plan.rotate === 270;
  const [W, H] = turned ? [source.height, source.width] : [source.width, source.height];
  const sx = r.width / W;
  const sy = r.height / H;
  const scale =
    r.fit === 'cover' ? Math.max(sx, sy) : r.fit === 'contain' ? Math.min(sx, sy) : Math.max(sx, sy);
  const m = Math.min(size.width / source.width, size.height / source.height);
  return scale * MASTER_FACTOR <= m ? size : undefined;
}

/**
 * Decodes the full source once into its master: EXIF orientation applied, colour converted to sRGB
 * from its profile, 8 bits per channel, alpha kept, resized (Lanczos 3, as every rendition) to `size`.
 */
export async function makeMaster(input: Buffer, size: MasterSize, timeoutSeconds: number): Promise<Master> {
  let img = sharp(input, { limitInputPixels: MAX_PIXELS, failOn: 'error' }).autoOrient();
  img = img.resize(size.width, size.height, { fit: 'fill' });
  const { data, info } = await img
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .timeout({ seconds: timeoutSeconds })
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 && info.channels !== 4)
    throw new Error(`A master has 3 or 4 channels, not ${info.channels}`);
  return { pixels: data, width: info.width, height: info.height, channels: info.channels };
}

const TYPE = 'application/x-pictor-master';

/**
 * The content type a master is stored under in the rendition cache: its geometry, which raw pixels
 * do not carry.
 * @example masterContentType({ width: 2048, height: 1536, channels: 3, pixels }) // 'application/x-pictor-master; w=2048; h=1536; c=3'
 */
export function masterContentType(m: Master): string {
  return `${TYPE}; w=${m.width}; h=${m.height}; c=${m.channels}`;
}

/** A master read back from the cache, or undefined when the entry is not one (or not whole). */
export function parseMaster(body: Buffer, contentType: string): Master | undefined {
  const match = /^application\/x-pictor-master; w=(\d+); h=(\d+); c=([34])$/.exec(contentType);
  if (!match) return undefined;
  const width = Number(match[1]);
  const height = Number(match[2]);
  const channels = Number(match[3]) as 3 | 4;
  if (width < 1 || height < 1 || body.length !== width * height * channels) return undefined;
  return { pixels: body, width, height, channels };
}

export function isMaster(input: Buffer | Master): input is Master {
  return !Buffer.isBuffer(input);
}

/**
 * Pixel arithmetic for the option suites (test/e2e/options-*.test.ts): decoded renditions as raw
 * RGBA, pixel and region reads, high-frequency energy, CIE L*a*b* computed here from the sRGB and
 * CIELAB formulas (independently of libvips, so a test compares sharp's output against arithmetic it
 * did not produce), and the JPEG quality estimated from a file's quantisation tables.
 */
import sharp from 'sharp';

export interface Pixels {
  data: Buffer;
  width: number;
  height: number;
  /** Always 4 (RGBA). */
  channels: 4;
}

export type Rgba = [number, number, number, number];
export type Rgb = [number, number, number];

/** Decodes the first frame of an image into RGBA. */
export async function decode(image: Buffer): Promise<Pixels> {
  const { data, info } = await sharp(image, { animated: false })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: 4 };
}

export function at(p: Pixels, x: number, y: number): Rgba {
  if (x < 0 || y < 0 || x >= p.width || y >= p.height)
    throw new Error(`pixel ${x},${y} outside ${p.width}x${p.height}`);
  const i = (y * p.width + x) * 4;
  return [p.data[i]!, p.data[i + 1]!, p.data[i + 2]!, p.data[i + 3]!];
}

/** Mean RGB over a rectangle. */
export function mean(p: Pixels, x0: number, y0: number, w: number, h: number): Rgb {
  const sum = [0, 0, 0];
  for (let y = y0; y < y0 + h; y++) {
    for (let x = x0; x < x0 + w; x++) {
      const px = at(p, x, y);
      for (let c = 0; c < 3; c++) sum[c]! += px[c]!;
    }
  }
  const n = w * h;
  return [sum[0]! / n, sum[1]! / n, sum[2]! / n];
}

/** Largest per-channel difference between two colours. */
export function distance(a: readonly number[], b: readonly number[]): number {
  return Math.max(...[0, 1, 2].map((c) => Math.abs(a[c]! - b[c]!)));
}

/** Mean squared difference of horizontally and vertically adjacent grey values: high-frequency energy. */
export function energy(p: Pixels): number {
  const grey = (x: number, y: number): number => {
    const [r, g, b] = at(p, x, y);
    return 0.299 * r + 0.587 * g + 0.114 * b;
  };
  let e = 0;
  let n = 0;
  for (let y = 1; y < p.height; y++) {
    for (let x = 1; x < p.width; x++) {
      const v = grey(x, y);
      e += (v - grey(x - 1, y)) ** 2 + (v - grey(x, y - 1)) ** 2;
      n += 2;
    }
  }
  return e / n;
}

// ---------------------------------------------------------------------------------------------------
// sRGB ↔ CIE L*a*b* (D65), from the published formulas (IEC 61966-2-1, CIE 15)
// ---------------------------------------------------------------------------------------------------

const WHITE_D65 = [0.95047, 1, 1.08883] as const;

function toLinear(v: number): number {
  const c = v / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

function fromLinear(c: number): number {
  const v = c <= 0.0031308 ? 12.92 * c : 1.055 * c ** (1 / 2.4) - 0.055;
  return Math.max(0, Math.min(255, v * 255));
}

const EPS = 216 / 24389;
const KAPPA = 24389 / 27;

export function rgbToLab([R, G, B]: readonly number[]): Rgb {
  const [r, g, b] = [toLinear(R!), toLinear(G!), toLinear(B!)];
  const xyz = [
    0.4124564 * r + 0.3575761 * g + 0.1804375 * b,
    0.2126729 * r + 0.7151522 * g + 0.072175 * b,
    0.0193339 * r + 0.119192 * g + 0.9503041 * b,
  ];
  const f = xyz.map((v, i) => {
    const t = v / WHITE_D65[i]!;
    return t > EPS ? Math.cbrt(t) : (KAPPA * t + 16) / 116;
  });
  return [116 * f[1]! - 16, 500 * (f[0]! - f[1]!), 200 * (f[1]! - f[2]!)];
}

export function labToRgb([L, a, b]: readonly number[]): Rgb {
  const fy = (L! + 16) / 116;
  const fx = fy + a! / 500;
  const fz = fy - b! / 200;
  const inv = (f: number): number => (f ** 3 > EPS ? f ** 3 : (116 * f - 16) / KAPPA);
  const [x, y, z] = [inv(fx) * WHITE_D65[0], L! > KAPPA * EPS ? fy ** 3 : L! / KAPPA, inv(fz) * WHITE_D65[2]];
  const r = 3.2404542 * x - 1.5371385 * y - 0.4985314 * z;
  const g = -0.969266 * x + 1.8760108 * y + 0.041556 * z;
  const bl = 0.0556434 * x - 0.2040259 * y + 1.0572252 * z;
  return [fromLinear(r), fromLinear(g), fromLinear(bl)];
}

/** Chroma C*ab of an sRGB colour. */
export function chroma(rgb: readonly number[]): number {
  const [, a, b] = rgbToLab(rgb);
  return Math.hypot(a, b);
}

// ---------------------------------------------------------------------------------------------------
// JPEG quality from the quantisation tables
// ---------------------------------------------------------------------------------------------------

/** The IJG standard luminance table (ITU-T T.81 Annex K, table K.1), in natural order. */
const STD_LUMINANCE = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22,
  29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103,
  121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

/** Zig-zag position → natural (row-major) index. */
const ZIGZAG = [
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7,
  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46,
  53, 60, 61, 54, 47, 55, 62, 63,
];

/** The luminance table (id 0) of a JPEG's first DQT segment, in natural order. */
export function luminanceTable(jpeg: Buffer): number[] {
  let i = 2;
  while (i + 4 <= jpeg.length) {
    if (jpeg[i] !== 0xff) throw new Error(`not a marker at ${i}`);
    const marker = jpeg[i + 1]!;
    const len = jpeg.readUInt16BE(i + 2);
    if (marker === 0xdb) {
      let j = i + 4;
      while (j < i + 2 + len) {
        const pq = jpeg[j]! >> 4;
        const tq = jpeg[j]! & 15;
        const values: number[] = [];
        for (let k = 0; k < 64; k++) values.push(pq ? jpeg.readUInt16BE(j + 1 + 2 * k) : jpeg[j + 1 + k]!);
        if (tq === 0) {
          const natural = new Array<number>(64);
          values.forEach((v, k) => {
            natural[ZIGZAG[k]!] = v;
          });
          return natural;
        }
        j += 1 + 64 * (pq ? 2 : 1);
      }
    }
    if (marker === 0xda) break;
    i += 2 + len;
  }
  throw new Error('no luminance quantisation table');
}

/**
 * The IJG quality (1..100) whose scaled standard table equals the file's luminance table exactly, or
 * undefined when none does (libjpeg's `jpeg_quality_scaling` + `jpeg_add_quant_table`, baseline).
 */
export function jpegQuality(jpeg: Buffer): number | undefined {
  const table = luminanceTable(jpeg);
  for (let q = 1; q <= 100; q++) {
    const scale = q < 50 ? Math.floor(5000 / q) : 200 - 2 * q;
    const scaled = STD_LUMINANCE.map((b) => Math.min(255, Math.max(1, Math.floor((b * scale + 50) / 100))));
    if (scaled.every((v, k) => v === table[k])) return q;
  }
  return undefined;
}

/**
 * TransformOptions: the typed result of parsing a stored variant or a flexible-variant string.
 * Nothing after `transform/` sees option strings.
 */
import type { Fit, MetadataMode } from '../core/types.js';

/** Fits: Cloudflare's five, plus `squeeze` and `aspect-crop`, which only transformation URLs accept. */
export type TransformFit = Fit | 'squeeze' | 'aspect-crop';

export type OutputFormat = 'auto' | 'avif' | 'webp' | 'jpeg' | 'png' | 'gif' | 'json' | 'baseline-jpeg';

/** `auto` (saliency), a side, or a focal point as fractions of width and height. */
export type Gravity =
  | { kind: 'auto' }
  | { kind: 'side'; side: 'left' | 'right' | 'top' | 'bottom' | 'center' }
  | { kind: 'point'; x: number; y: number };

/** Pixels cut from each side; `width`/`height` (from `trim.width`/`trim.height`) give the kept size from `left`/`top` instead of `right`/`bottom`. */
export interface Trim {
  top: number;
  right: number;
  bottom: number;
  left: number;
  width?: number;
  height?: number;
}

/** Mirror horizontally, vertically or both (before rotation). */
export type Flip = 'h' | 'v' | 'hv';

export interface TransformOptions {
  width?: number;
  height?: number;
  fit: TransformFit;
  /** Device pixel ratio: multiplies width and height. */
  dpr: number;
  /** 1..100; default 85. */
  quality: number;
  format: OutputFormat;
  metadata: MetadataMode;
  /** Keep animation frames (default true). */
  anim: boolean;
  /** Gaussian blur radius 1..250. */
  blur?: number;
  /** Sharpen strength 0..10. */
  sharpen?: number;
  /** Mirroring, after trim and before rotation. */
  flip?: Flip;
  /** Clockwise rotation after EXIF orientation. */
  rotate?: 90 | 180 | 270;
  gravity: Gravity;
  /** CSS colour for `pad` and for flattening transparency into JPEG; default white. */
  background?: { r: number; g: number; b: number; alpha: number };
  /** Pixels cut from each side of the source before resizing. */
  trim?: Trim;
  brightness?: number;
  contrast?: number;
  gamma?: number;
  /** Transformation URLs: answer a failure with a redirect to the source. */
  onerror?: 'redirect';
  /** Chroma factor: 1 unchanged, 0 greyscale. */
  saturation?: number;
  /** Per-variant browser TTL in seconds (stored variants only). */
  browserTtl?: number;
}

export const DEFAULT_QUALITY = 85;

/**
 * Options with every default filled in.
 * @example defaults({ width: 100 }) // { width: 100, fit: 'scale-down', quality: 85, ... }
 */
export function defaults(partial: Partial<TransformOptions> = {}): TransformOptions {
  return {
    fit: 'scale-down',
    dpr: 1,
    quality: DEFAULT_QUALITY,
    format: 'auto',
    metadata: 'copyright',
    anim: true,
    gravity: { kind: 'side', side: 'center' },
    ...partial,
  };
}

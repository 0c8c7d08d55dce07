/**
 * TransformPlan: everything the sharp calls need, as numbers. Steps in `steps/` fill it in from the
 * source's header and the typed options; `applyPlan` then makes the sharp calls once. Plans are
 * unit-testable without decoding a pixel.
 */
import type { MetadataMode } from '../core/types.js';
import type { TransformOptions } from '../transform/options.js';

export type RasterFormat = 'jpeg' | 'png' | 'webp' | 'avif' | 'gif';

export interface SourceInfo {
  /** Width and height after EXIF orientation. */
  width: number;
  height: number;
  format: RasterFormat | 'svg' | 'heic';
  /** Frames (1 for stills). */
  pages: number;
  hasAlpha: boolean;
}

export interface Region {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface TransformPlan {
  /**
   * Region kept by trim, in the frame sharp extracts from: the oriented source after `flip`/`flop`
   * and `rotate` (steps/rotate-flip.ts re-expresses Cloudflare's trim-first region in that frame).
   */
  trim?: Region;
  /** Mirror top-bottom, before the turn. */
  flip?: boolean;
  /** Mirror left-right, before the turn. */
  flop?: boolean;
  /** Clockwise turn, after mirroring. */
  rotate?: 90 | 180 | 270;
  /** The resize call; absent when the image keeps its size. */
  resize?: {
    width: number;
    height: number;
    fit: 'fill' | 'cover' | 'contain';
    /** sharp position for cover: a side or 'attention'. */
    position?: 'centre' | 'left' | 'right' | 'top' | 'bottom' | 'attention';
    background?: { r: number; g: number; b: number; alpha: number };
  };
  /** Region cut after resizing (focal-point cover). */
  extractAfter?: Region;
  /** Gaussian sigma. */
  blur?: number;
  /** sharp's unsharp-mask parameters. */
  sharpen?: { sigma: number; m1: number; m2: number };
  /** Multipliers of L* and C* (sharp's modulate, in LCh). */
  modulate?: { brightness?: number; saturation?: number };
  /** out = a·in + b per channel. */
  linear?: { a: number; b: number };
  /** sharp's gamma(in, out): raise to `in` before resizing, to 1/`out` after. */
  gamma?: { in: number; out: number };
  /** Background to flatten transparency onto (JPEG output). */
  flatten?: { r: number; g: number; b: number };
  output: {
    format: RasterFormat;
    quality: number;
    progressive: boolean;
    /** Keep every frame. */
    animated: boolean;
    /** AVIF/WebP encoder effort. */
    effort?: number;
  };
  metadata: MetadataMode;
  /** EXIF written: the source's (keep), only its copyright (copyright), or none. */
  exif: 'all' | 'copyright' | 'none';
  /** Keep the source's ICC profile (metadata=keep); otherwise pixels are sRGB with no profile. */
  keepIcc: boolean;
  /** The final output size (per frame). */
  width: number;
  height: number;
}

export interface PlanContext {
  readonly source: SourceInfo;
  readonly options: TransformOptions;
  /** The negotiated output format. */
  readonly format: RasterFormat;
  /** Working size: updated by the steps that change it. */
  width: number;
  height: number;
  plan: TransformPlan;
}

/**
 * A fresh context: the working size is the source's, the plan holds only the output defaults. The
 * steps then fill it in (planTransform in index.ts; unit tests call steps on it one by one).
 * @example planContext({ width: 100, height: 50, format: 'png', pages: 1, hasAlpha: false }, defaults(), 'png')
 */
export function planContext(
  source: SourceInfo,
  options: TransformOptions,
  format: RasterFormat,
): PlanContext {
  return {
    source,
    options,
    format,
    width: source.width,
    height: source.height,
    plan: {
      output: { format, quality: options.quality, progressive: false, animated: false },
      metadata: options.metadata,
      exif: 'none',
      keepIcc: false,
      width: source.width,
      height: source.height,
    },
  };
}

/** A planning error: a client asked for something impossible (e.g. trim larger than the image). */
export class PlanError extends Error {}

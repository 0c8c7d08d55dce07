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
  /** Region cut from the oriented source before anything else (trim). */
  trim?: Region;
  /** Clockwise rotation applied after trim. */
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
  blur?: number;
  sharpen?: number;
  modulate?: { brightness?: number };
  linear?: { a: number; b: number };
  gamma?: number;
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

/** A planning error: a client asked for something impossible (e.g. trim larger than the image). */
export class PlanError extends Error {}

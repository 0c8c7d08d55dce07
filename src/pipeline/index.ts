/**
 * The pipeline's public face: `planTransform` (numbers only) and `runTransform` (sharp), plus the
 * header read used before any decoding.
 */
import exifReader from 'exif-reader';
import sharp from 'sharp';
import type { TransformOptions } from '../transform/options.js';
import { applyPlan } from './apply-plan.js';
import { PlanError, planContext, type RasterFormat, type SourceInfo, type TransformPlan } from './plan.js';
import { steps } from './steps/index.js';

export { PlanError } from './plan.js';
export type { RasterFormat, SourceInfo, TransformPlan } from './plan.js';

/**
 * Plans a transform from the source's header and typed options.
 * @example planTransform({ width: 1080, height: 720, format: 'jpeg', pages: 1, hasAlpha: false }, defaults({ width: 500, height: 500 }), 'jpeg')
 */
export function planTransform(source: SourceInfo, options: TransformOptions, format: RasterFormat): TransformPlan {
  const ctx = planContext(source, options, format);
  for (const step of steps) step(ctx);
  ctx.plan.width = ctx.width;
  ctx.plan.height = ctx.height;
  return ctx.plan;
}

/** Reads a source's header (no pixel decoding): oriented size, frames, alpha. */
export async function readSource(input: Buffer): Promise<SourceInfo & { copyright?: string }> {
  const m = await sharp(input, { limitInputPixels: false, pages: -1 }).metadata();
  const oriented = m.autoOrient ?? { width: m.width ?? 0, height: m.height ?? 0 };
  const pages = m.pages ?? 1;
  const pageHeight = m.pageHeight ?? oriented.height;
  const swapped = (m.orientation ?? 1) >= 5;
  const format = (m.format === 'heif' ? (m.compression === 'av1' ? 'avif' : 'heic') : m.format) as SourceInfo['format'];
  let copyright: string | undefined;
  if (m.exif) {
    try {
      const c = exifReader(m.exif).Image?.Copyright;
      if (typeof c === 'string' && c.trim()) copyright = c;
    } catch {
      // Unreadable EXIF: nothing to keep.
    }
  }
  return {
    width: oriented.width,
    height: pages > 1 && !swapped ? pageHeight : oriented.height,
    format,
    pages,
    hasAlpha: m.hasAlpha ?? false,
    ...(copyright ? { copyright } : {}),
  };
}

/** Runs a plan and returns the encoded bytes. */
export async function runTransform(input: Buffer, plan: TransformPlan, opts: { copyright?: string | undefined; timeoutSeconds?: number } = {}): Promise<Buffer> {
  return applyPlan(input, plan, { copyright: opts.copyright, timeoutSeconds: opts.timeoutSeconds ?? 30 }).toBuffer();
}

export function isPlanError(e: unknown): e is PlanError {
  return e instanceof PlanError;
}

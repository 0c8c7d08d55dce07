/**
 * The pipeline's public face: `planTransform` (numbers only) and `runTransform` (sharp), plus the
 * header read used before any decoding.
 */
import type { ImageFacts } from '../core/types.js';
import type { TransformOptions } from '../transform/options.js';
export { readFacts } from './probe.js';
import { applyPlan } from './apply-plan.js';
import { PlanError, type PlanContext, type RasterFormat, type SourceInfo, type TransformPlan } from './plan.js';
import { steps } from './steps/index.js';

export { PlanError } from './plan.js';
export type { RasterFormat, SourceInfo, TransformPlan } from './plan.js';

/**
 * Plans a transform from the source's header and typed options.
 * @example planTransform({ width: 1080, height: 720, format: 'jpeg', pages: 1, hasAlpha: false }, defaults({ width: 500, height: 500 }), 'jpeg')
 */
export function planTransform(source: SourceInfo, options: TransformOptions, format: RasterFormat): TransformPlan {
  const ctx: PlanContext = {
    source,
    options,
    format,
    width: source.width,
    height: source.height,
    plan: {
      output: { format, quality: options.quality, progressive: false, animated: false },
      metadata: options.metadata,
      width: source.width,
      height: source.height,
    },
  };
  for (const step of steps) step(ctx);
  ctx.plan.width = ctx.width;
  ctx.plan.height = ctx.height;
  return ctx.plan;
}

/**
 * What the planner needs, from a stored image's format and facts.
 * @example sourceOf('png', { width: 640, height: 480, frames: 1, alpha: true, copyright: null })
 */
export function sourceOf(format: SourceInfo['format'], facts: ImageFacts): SourceInfo {
  return { format, width: facts.width, height: facts.height, pages: facts.frames, hasAlpha: facts.alpha };
}

/** Runs a plan and returns the encoded bytes. */
export async function runTransform(input: Buffer, plan: TransformPlan, opts: { copyright?: string | undefined; timeoutSeconds?: number } = {}): Promise<Buffer> {
  return applyPlan(input, plan, { copyright: opts.copyright, timeoutSeconds: opts.timeoutSeconds ?? 30 }).toBuffer();
}

export function isPlanError(e: unknown): e is PlanError {
  return e instanceof PlanError;
}

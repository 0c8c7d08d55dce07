/**
 * The pipeline's public face: `planTransform` (numbers only) and `runTransform` (sharp), plus the
 * header read used before any decoding.
 */
import type { ImageFacts } from '../core/types.js';
import type { TransformOptions } from '../transform/options.js';
import { readFacts } from './probe.js';
export { readFacts };
import { applyPlan } from './apply-plan.js';
import { makeMaster, type Master, type MasterSize } from './master.js';
import { PlanError, planContext, type RasterFormat, type SourceInfo, type TransformPlan } from './plan.js';
import { steps } from './steps/index.js';

export {
  MASTER_VERSION,
  masterContentType,
  masterFor,
  parseMaster,
  type Master,
  type MasterSize,
} from './master.js';
export { PlanError } from './plan.js';
export type { RasterFormat, SourceInfo, TransformPlan } from './plan.js';

/**
 * Plans a transform from the source's header and typed options.
 * @example planTransform({ width: 1080, height: 720, format: 'jpeg', pages: 1, hasAlpha: false }, defaults({ width: 500, height: 500 }), 'jpeg')
 */
export function planTransform(
  source: SourceInfo,
  options: TransformOptions,
  format: RasterFormat,
): TransformPlan {
  const ctx = planContext(source, options, format);
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

/**
 * libvips could not decode (or re-encode) the source: the one failure that delivery may call "could
 * not be decoded" (9412). Anything else thrown around a transform is a bug and is reported as one.
 */
export class DecodeError extends Error {
  constructor(cause: unknown) {
    super(`The image could not be decoded: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.name = 'DecodeError';
  }
}

export function isDecodeError(e: unknown): e is DecodeError {
  return e instanceof DecodeError;
}

/**
 * Runs a plan on the source (or on its master, when masterFor allowed it) and returns the encoded
 * bytes; a failure inside libvips rejects with DecodeError.
 */
export async function runTransform(
  input: Buffer | Master,
  plan: TransformPlan,
  opts: { copyright?: string | undefined; timeoutSeconds?: number } = {},
): Promise<Buffer> {
  // Building the pipeline is our code (its errors are bugs); running it is libvips reading the bytes.
  const pipeline = applyPlan(input, plan, {
    copyright: opts.copyright,
    timeoutSeconds: opts.timeoutSeconds ?? 30,
  });
  try {
    return await pipeline.toBuffer();
  } catch (e) {
    throw new DecodeError(e);
  }
}

/** Makes a source's intermediate master (master.ts); a failure inside libvips rejects with DecodeError. */
export async function runMaster(input: Buffer, size: MasterSize, timeoutSeconds = 30): Promise<Master> {
  try {
    return await makeMaster(input, size, timeoutSeconds);
  } catch (e) {
    throw new DecodeError(e);
  }
}

/**
 * The header read of a stored original (readFacts) with its failure named as a decode failure.
 * @example const { format, facts } = await decodeFacts(bytes);
 */
export async function decodeFacts(input: Buffer): ReturnType<typeof readFacts> {
  try {
    return await readFacts(input);
  } catch (e) {
    throw new DecodeError(e);
  }
}

export function isPlanError(e: unknown): e is PlanError {
  return e instanceof PlanError;
}

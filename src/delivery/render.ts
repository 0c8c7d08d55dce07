/**
 * Render: a resolved rendition from the cache, or produced once (single-flight) behind the gate:
 * the original read, its facts taken from the row (a row from before facts were kept reads the
 * header once and records them), the limits checked, the format negotiated, the transform planned
 * and run. SVGs are sanitised, never rasterised.
 */
import { AppError } from '../core/errors.js';
import { exceedsDimensions } from '../core/limits.js';
import type { ImageFacts, ImageRecord } from '../core/types.js';
import { decodeFacts, planTransform, runTransform, sourceOf, type RasterFormat } from '../pipeline/index.js';
import { negotiate } from '../pipeline/negotiate.js';
import { sanitizeSvg } from '../pipeline/svg-sanitize.js';
import type { TransformOptions } from '../transform/options.js';
import type { Rendition } from './cache.js';
import type { DeliveryContext } from './context.js';

export const MIME: Record<RasterFormat | 'svg', string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  avif: 'image/avif',
  gif: 'image/gif',
  svg: 'image/svg+xml',
};

/** The rendition for `digest`: from memory or disk, or produced once however many ask at the same time. */
export async function render(
  ctx: DeliveryContext,
  digest: string,
  produce: () => Promise<Rendition>,
): Promise<{ rendition: Rendition; hit: boolean }> {
  const out = await ctx.cache.getOrProduce(digest, produce);
  ctx.metrics.cache.inc({ result: out.hit ? 'hit' : 'miss' });
  return out;
}

/** A stored image's facts: from its row, or read once from the original and recorded. */
async function factsOf(ctx: DeliveryContext, image: ImageRecord, original: Buffer): Promise<ImageFacts> {
  if (image.facts) return image.facts;
  const { facts } = await decodeFacts(original);
  await ctx.images.recordFacts(image, facts);
  return facts;
}

/** Produces a hosted image's rendition: reads the original, plans from the row, transforms in a gate slot. */
export async function produceHosted(
  ctx: DeliveryContext,
  image: ImageRecord,
  options: TransformOptions,
  accept: string | undefined,
): Promise<Rendition> {
  const original = await ctx.images.original(image);
  if (image.format === 'svg') return svgRendition(ctx, original);
  return ctx.gate.run(async () => {
    const facts = await factsOf(ctx, image, original);
    if (!image.format) throw new AppError('unsupportedSource');
    return transform(ctx, original, image.format, facts, options, accept);
  });
}

/** The sanitised SVG (delivery never rasterises SVG). */
export function svgRendition(ctx: DeliveryContext, original: Buffer): Rendition {
  const clean = sanitizeSvg(original);
  if (!clean) throw new AppError('unsupportedSource', { detail: 'The SVG could not be sanitised' });
  ctx.metrics.transforms.inc({ format: 'svg' });
  return { body: clean, contentType: MIME.svg };
}

/** Checks the limits, negotiates, plans and runs one transform (the caller holds a gate slot). */
export async function transform(
  ctx: DeliveryContext,
  original: Buffer,
  format: NonNullable<ImageRecord['format']>,
  facts: ImageFacts,
  options: TransformOptions,
  accept: string | undefined,
): Promise<Rendition> {
  if (format === 'svg') throw new AppError('unsupportedSource');
  if (exceedsDimensions(facts.width, facts.height, facts.frames)) throw new AppError('sourceTooLarge');
  const source = sourceOf(format, facts);
  const out = negotiate(accept, options.format, source, options.anim);
  const plan = planTransform(source, options, out);
  const started = performance.now();
  const body = await runTransform(original, plan, {
    copyright: facts.copyright ?? undefined,
    timeoutSeconds: ctx.transformTimeout,
  });
  ctx.metrics.transforms.inc({ format: out });
  ctx.metrics.transformSeconds.observe({ format: out }, (performance.now() - started) / 1000);
  return { body, contentType: MIME[out] };
}

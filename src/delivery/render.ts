/**
 * Render: a resolved rendition from the cache, or produced once (single-flight) behind the gate:
 * the original read, its facts taken from the row (a row from before facts were kept reads the
 * header once and records them), the limits checked, the format negotiated, the transform planned
 * and run. SVGs are sanitised, never rasterised.
 */
import { BufferPool } from '../core/buffer-pool.js';
import { AppError } from '../core/errors.js';
import { exceedsDimensions } from '../core/limits.js';
import type { ImageFacts, ImageRecord } from '../core/types.js';
import {
  decodeFacts,
  MASTER_VERSION,
  masterContentType,
  masterFor,
  parseMaster,
  planTransform,
  runMaster,
  runTransform,
  sourceOf,
  type Master,
  type MasterSize,
  type RasterFormat,
} from '../pipeline/index.js';
import { negotiate } from '../pipeline/negotiate.js';
import { sanitizeSvg } from '../pipeline/svg-sanitize.js';
import type { TransformOptions } from '../transform/options.js';
import { digestKey, type Rendition } from './cache.js';
import type { DeliveryContext } from './context.js';

/** Bumped with pipeline/master.ts's MASTER_VERSION: part of every master's cache key. */
const MASTER_KEY_VERSION = `v${MASTER_VERSION}`;

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

/**
 * Produces a hosted image's rendition: reads the original, plans from the row, transforms in a gate
 * slot. A rendition that will come from the image's master (its facts are on the row and masterFor
 * allows it) reads the original only if the master has to be made: a 10 MB original is not read (from
 * disk, or S3 in scale-out) for every thumbnail. Any other reads it before taking a slot, as I/O.
 */
export async function produceHosted(
  ctx: DeliveryContext,
  image: ImageRecord,
  options: TransformOptions,
  accept: string | undefined,
): Promise<Rendition> {
  if (image.format === 'svg') return svgRendition(ctx, await ctx.images.original(image));
  // The original is read into a pooled buffer, given back once the rendition (and any master) is
  // made; after a failure (a transform cut by its timeout may still be reading it) it is left to GC.
  let lease: Buffer | undefined;
  const into = (size: number) => {
    lease = ORIGINALS.take(size);
    return lease;
  };
  let read: Promise<Buffer> | undefined;
  const original = () => (read ??= ctx.images.original(image, into));
  if (!fromMaster(image, options, accept)) await original();
  const rendition = await ctx.gate.run(async () => {
    const facts = image.facts ?? (await factsOf(ctx, image, await original()));
    if (!image.format) throw new AppError('unsupportedSource');
    // A master depends on the stored bytes alone: the blob key names them (a new upload gets a new one).
    const masterKey = `${image.accountId}\n${image.id}\n${image.blobKey}`;
    return transform(ctx, original, image.format, facts, options, accept, masterKey);
  });
  if (lease) ORIGINALS.give(lease);
  return rendition;
}

/** Buffers originals are read into (core/buffer-pool.ts): at most 32 MiB kept between transforms. */
const ORIGINALS = new BufferPool(32 * 1024 * 1024);

/** Bytes of pooled original buffers kept now (for tests). */
export const pooledOriginalBytes = (): number => ORIGINALS.bytes;

/** Whether the rendition would be made from the image's master, judged from the row alone (planning is numbers only). */
function fromMaster(image: ImageRecord, options: TransformOptions, accept: string | undefined): boolean {
  const { format, facts } = image;
  if (!facts || !format || format === 'svg' || exceedsDimensions(facts.width, facts.height, facts.frames))
    return false;
  const source = sourceOf(format, facts);
  try {
    return (
      masterFor(
        source,
        planTransform(source, options, negotiate(accept, options.format, source, options.anim)),
      ) !== undefined
    );
  } catch {
    // A plan error is answered by transform(), in the slot, as before.
    return false;
  }
}

/** The sanitised SVG (delivery never rasterises SVG). */
export function svgRendition(ctx: DeliveryContext, original: Buffer): Rendition {
  const clean = sanitizeSvg(original);
  if (!clean) throw new AppError('unsupportedSource', { detail: 'The SVG could not be sanitised' });
  ctx.metrics.transforms.inc({ format: 'svg' });
  return { body: clean, contentType: MIME.svg };
}

/**
 * Checks the limits, negotiates, plans and runs one transform (the caller holds a gate slot). With a
 * `masterKey` (what names the source's bytes), a plan that masterFor allows runs on the source's
 * intermediate master, made on the first such miss and kept in the rendition cache.
 */
export async function transform(
  ctx: DeliveryContext,
  original: Buffer | (() => Promise<Buffer>),
  format: NonNullable<ImageRecord['format']>,
  facts: ImageFacts,
  options: TransformOptions,
  accept: string | undefined,
  masterKey?: string,
): Promise<Rendition> {
  if (format === 'svg') throw new AppError('unsupportedSource');
  if (exceedsDimensions(facts.width, facts.height, facts.frames)) throw new AppError('sourceTooLarge');
  const source = sourceOf(format, facts);
  const out = negotiate(accept, options.format, source, options.anim);
  const plan = planTransform(source, options, out);
  const started = performance.now();
  const bytes = typeof original === 'function' ? original : async () => original;
  const size = masterKey === undefined ? undefined : masterFor(source, plan);
  const master = size ? await masterOf(ctx, masterKey!, bytes, size) : undefined;
  const body = await runTransform(master ?? (await bytes()), plan, {
    copyright: facts.copyright ?? undefined,
    timeoutSeconds: ctx.transformTimeout,
  });
  ctx.metrics.transforms.inc({ format: out });
  ctx.metrics.transformSeconds.observe({ format: out }, (performance.now() - started) / 1000);
  return { body, contentType: MIME[out] };
}

/**
 * The source's intermediate master of `size`: from the rendition cache, or made once (single-flight:
 * concurrent renditions of one image wait for the same one) and stored there like a rendition.
 */
async function masterOf(
  ctx: DeliveryContext,
  key: string,
  original: () => Promise<Buffer>,
  size: MasterSize,
): Promise<Master | undefined> {
  const digest = digestKey(['master', MASTER_KEY_VERSION, size.width, size.height, key].join('\n'));
  const { rendition } = await ctx.cache.getOrProduce(digest, async () => {
    const m = await runMaster(await original(), size, ctx.transformTimeout);
    ctx.metrics.masters.inc({ event: 'made' });
    return { body: m.pixels, contentType: masterContentType(m) };
  });
  // An entry that is not a whole master (a damaged disk file) costs only the shortcut.
  const master = parseMaster(rendition.body, rendition.contentType);
  if (master) ctx.metrics.masters.inc({ event: 'used' });
  return master;
}

/**
 * One delivery request: resolve account, image and variant; check the signature; negotiate the
 * format; answer 304 from the ETag, or the rendition from cache, or transform it once behind the gate.
 * Errors are short text bodies with `Cf-Resized: err=<code>`, like Cloudflare's.
 */
import { AppError, isAppError } from '../core/errors.js';
import { isBackendUnavailable } from '../core/backend-errors.js';
import type { Clock } from '../core/clock.js';
import type { Account, ImageRecord, VariantRecord } from '../core/types.js';
import { Gate, GateFullError } from '../pipeline/gate.js';
import { isPlanError, planTransform, runTransform, sourceOf, type RasterFormat } from '../pipeline/index.js';
import { exceedsDimensions } from '../core/limits.js';
import { accepts, negotiate } from '../pipeline/negotiate.js';
import { sanitizeSvg } from '../pipeline/svg-sanitize.js';
import { expiryOf, verify } from '../security/signing.js';
import { SVG_RESPONSE_HEADERS } from '../security/svg-headers.js';
import type { AccountsService } from '../services/accounts.js';
import type { ImagesService } from '../services/images.js';
import type { KeysService } from '../services/keys.js';
import type { VariantsService } from '../services/variants.js';
import { isOptionList, parseFlexible } from '../transform/flexible.js';
import { defaults, type TransformOptions } from '../transform/options.js';
import { digestKey, type Rendition, RenditionCache } from './cache.js';
import type { ResolutionMemo } from './memo.js';
import type { Generation } from '../core/generation.js';
import type { DeliveryMetrics } from './metrics.js';
import { CDN_PREFIX, parseDeliveryUrl, type DeliveryPath } from './url.js';

export interface DeliveryContext {
  accounts: AccountsService;
  images: ImagesService;
  variants: VariantsService;
  keys: KeysService;
  gate: Gate;
  cache: RenditionCache;
  metrics: DeliveryMetrics;
  clock: Clock;
  transformTimeout: number;
  generation: Generation;
  memo: ResolutionMemo;
  /**
   * Memoise public resolutions in this process. Only when this process is the only writer (the
   * embedded SQLite store): with a shared database another node's change would not bump our generation.
   */
  memoise: boolean;
}

export interface DeliveryRequest {
  url: string;
  accept: string | undefined;
  ifNoneMatch: string | undefined;
}

export interface DeliveryResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer | string;
}

const SWR = 7200;
const MIME: Record<RasterFormat | 'svg', string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  avif: 'image/avif',
  gif: 'image/gif',
  svg: 'image/svg+xml',
};

export interface Resolved {
  account: Account;
  image: ImageRecord;
  variant: VariantRecord | undefined;
  options: TransformOptions;
  /** Part of the cache key that names the variant or the option list. */
  variantKey: string;
  cacheControl: string;
  /** Whether a signature was checked (such resolutions are never memoised). */
  signed: boolean;
  /** renditionKey() results by Accept class. */
  keys?: Map<string, RenditionKey>;
}

/** The cache digest, ETag and shared headers of the rendition a resolution and Accept header select. */
export function renditionKey(r: Resolved, accept: string | undefined): RenditionKey {
  const svg = r.image.format === 'svg';
  const ok = accepts(accept);
  const acceptClass = svg ? 'svg' : r.options.format !== 'auto' ? 'fixed' : ok.avif ? 'avif' : ok.webp ? 'webp' : 'none';
  // Computed once per resolution and Accept class: the fast path then hashes nothing.
  const known = r.keys?.get(acceptClass);
  if (known) return known;
  const key = [r.account.id, r.image.id, r.image.blobKey, r.image.version, r.variantKey, acceptClass].join('\n');
  const digest = digestKey(key);
  const headers: Record<string, string> = {
    etag: `"${digest.slice(0, 32)}"`,
    'cache-control': r.cacheControl,
    vary: 'Accept',
    'x-content-type-options': 'nosniff',
    // SVG: the CSP rides on every answer (200, 304, and the fast path, which writes these same headers).
    ...(svg ? SVG_RESPONSE_HEADERS : {}),
  };
  const result: RenditionKey = { digest, headers, flat: Object.entries(headers).flat() };
  (r.keys ??= new Map()).set(acceptClass, result);
  return result;
}

export interface RenditionKey {
  digest: string;
  headers: Record<string, string>;
  /** The same headers as a flat [name, value, …] list (cheapest form for writeHead). */
  flat: string[];
}

/** Whether an If-None-Match header names this ETag. */
export function matchesEtag(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((t) => {
    const tag = t.trim();
    return tag === etag || tag === `W/${etag}` || tag === '*';
  });
}

/** A text error response. */
export function errorResponse(err: AppError): DeliveryResponse {
  return {
    status: err.status,
    headers: {
      'content-type': 'text/plain; charset=utf-8',
      'cf-resized': `err=${err.code}`,
      'cache-control': 'no-store',
      ...err.headers,
    },
    body: `ERROR ${err.code}: ${err.detail ?? err.spec.message}\n`,
  };
}

export async function deliver(ctx: DeliveryContext, req: DeliveryRequest): Promise<DeliveryResponse> {
  try {
    return await deliverOrThrow(ctx, req);
  } catch (e) {
    if (isAppError(e)) return errorResponse(e);
    if (e instanceof GateFullError) {
      ctx.metrics.rejected.inc();
      return errorResponse(new AppError('busy'));
    }
    if (isPlanError(e)) return errorResponse(new AppError('invalidResizing', { detail: e.message }));
    if (isBackendUnavailable(e)) return errorResponse(new AppError('unavailable', { cause: e }));
    // sharp failures on stored bytes: a corrupt or undecodable source, never a 500.
    return errorResponse(new AppError('unsupportedSource', { cause: e }));
  }
}

async function deliverOrThrow(ctx: DeliveryContext, req: DeliveryRequest): Promise<DeliveryResponse> {
  const path = parseDeliveryUrl(req.url);
  if (!path) throw new AppError('deliveryBadRequest');
  const r = await resolveMemoised(ctx, path);
  const { digest, headers } = renditionKey(r, req.accept);
  if (matchesEtag(req.ifNoneMatch, headers.etag!)) return { status: 304, headers, body: '' };
  const { rendition, hit } = await ctx.cache.getOrProduce(digest, () => produce(ctx, r, req.accept, r.image.format === 'svg'));
  ctx.metrics.cache.inc({ result: hit ? 'hit' : 'miss' });
  return {
    status: 200,
    headers: { ...headers, 'content-type': rendition.contentType, 'cf-cache-status': hit ? 'HIT' : 'MISS' },
    body: rendition.body,
  };
}

/** resolve(), through the memo for public images (the generation is read before the database is). */
async function resolveMemoised(ctx: DeliveryContext, path: DeliveryPath): Promise<Resolved> {
  const generation = ctx.generation.value;
  const memoised = ctx.memo.get(path.rawPath, generation) as Resolved | undefined;
  if (memoised) return memoised;
  const r = await resolve(ctx, path);
  if (!r.signed && ctx.memoise) ctx.memo.set(path.rawPath, generation, r);
  return r;
}

/** Account, image, variant or options, signature and Cache-Control for a parsed URL. */
async function resolve(ctx: DeliveryContext, path: DeliveryPath): Promise<Resolved> {
  const account = await ctx.accounts.getByHash(path.accountHash);
  if (!account) throw new AppError('wrongAccount');
  const image = await ctx.images.find(account.id, path.imageId);
  if (!image || image.draft || !image.blobKey) throw new AppError('deliveryNotFound');
  let variant: VariantRecord | undefined;
  let options: TransformOptions;
  let variantKey: string;
  if (isOptionList(path.last)) {
    if (!account.flexibleVariants) throw new AppError('flexibleVariantsDisabled');
    if (image.requireSignedURLs) throw new AppError('accessDenied', { detail: 'Flexible variants cannot serve images that require signed URLs' });
    const parsed = parseFlexible(path.last);
    if (!parsed.ok) throw new AppError('invalidResizing', { detail: parsed.error });
    options = parsed.value;
    variantKey = `f:${JSON.stringify(options)}`;
  } else {
    variant = (await ctx.variants.find(account.id, path.last)) ?? undefined;
    if (!variant) throw new AppError('deliveryNotFound');
    const o = variant.options;
    options = defaults({
      fit: o.fit,
      metadata: o.metadata,
      ...(o.width !== undefined ? { width: o.width } : {}),
      ...(o.height !== undefined ? { height: o.height } : {}),
    });
    variantKey = `v:${variant.id}:${variant.version}:${variant.createdAt}`;
  }
  const ttl = variant?.options.browser_ttl ?? account.browserTtl;
  let cacheControl = `public, max-age=${ttl}, stale-while-revalidate=${SWR}`;
  const signed = image.requireSignedURLs && !variant?.neverRequireSignedURLs;
  if (signed) {
    const keys = (await ctx.keys.list(account.id)).map((k) => k.value);
    const now = Math.floor(ctx.clock.now() / 1000);
    const paths = [path.barePath, `${CDN_PREFIX}${path.barePath}`];
    const verdict = verify(paths, path.rawQuery, keys, now);
    if (verdict !== 'ok') throw new AppError('accessDenied', { detail: `Image access denied: ${verdict.replace('-', ' ')}` });
    const exp = expiryOf(path.rawQuery);
    const maxAge = exp === undefined ? ttl : Math.max(0, Math.min(ttl, exp - now));
    cacheControl = `private, max-age=${maxAge}`;
  }
  return { account, image, variant, options, variantKey, cacheControl, signed };
}

/** Reads the original, checks limits from the header, plans and runs the transform in a gate slot. */
async function produce(ctx: DeliveryContext, r: Resolved, accept: string | undefined, svg: boolean): Promise<Rendition> {
  const original = await ctx.images.original(r.image);
  if (svg) {
    const clean = sanitizeSvg(original);
    if (!clean) throw new AppError('unsupportedSource', { detail: 'The SVG could not be sanitised' });
    ctx.metrics.transforms.inc({ format: 'svg' });
    return { body: clean, contentType: MIME.svg };
  }
  return ctx.gate.run(async () => {
    // Planned from the facts stored with the row; a row from before they were kept reads the header once.
    const facts = await ctx.images.factsOf(r.image, original);
    if (!r.image.format || r.image.format === 'svg') throw new AppError('unsupportedSource');
    if (exceedsDimensions(facts.width, facts.height, facts.frames)) throw new AppError('sourceTooLarge');
    const source = sourceOf(r.image.format, facts);
    const format = negotiate(accept, r.options.format, source, r.options.anim);
    const plan = planTransform(source, r.options, format);
    const started = performance.now();
    const body = await runTransform(original, plan, { copyright: facts.copyright ?? undefined, timeoutSeconds: ctx.transformTimeout });
    ctx.metrics.transforms.inc({ format });
    ctx.metrics.transformSeconds.observe({ format }, (performance.now() - started) / 1000);
    return { body, contentType: MIME[format] };
  });
}

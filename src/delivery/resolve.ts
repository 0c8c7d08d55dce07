/**
 * Resolve: a delivery URL → account, image, variant or option list, signature verdict and
 * Cache-Control, through the memo for public images; and the rendition key (cache digest, ETag)
 * that a resolution and an Accept header select.
 */
import fresh from 'fresh';
import { AppError } from '../core/errors.js';
import type { Account, ImageRecord, VariantRecord } from '../core/types.js';
import { accepts } from '../pipeline/negotiate.js';
import { expiryOf, verify } from '../security/signing.js';
import { isOptionList, parseFlexible } from '../transform/flexible.js';
import { defaults, type TransformOptions } from '../transform/options.js';
import { digestKey } from './cache.js';
import type { DeliveryContext } from './context.js';
import type { RenditionKey } from './respond.js';
import { CDN_PREFIX, type DeliveryPath } from './url.js';

/** Cloudflare's stale-while-revalidate on public deliveries (digest §5.6). */
const SWR = 7200;

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

/** The cache digest and validators of the rendition a resolution and Accept header select. */
export function renditionKey(r: Resolved, accept: string | undefined): RenditionKey {
  const svg = r.image.format === 'svg';
  const ok = accepts(accept);
  const acceptClass = svg
    ? 'svg'
    : r.options.format !== 'auto'
      ? 'fixed'
      : ok.avif
        ? 'avif'
        : ok.webp
          ? 'webp'
          : 'none';
  // Computed once per resolution and Accept class: the fast path then hashes nothing.
  const known = r.keys?.get(acceptClass);
  if (known) return known;
  const digest = digestKey(
    [r.account.id, r.image.id, r.image.blobKey, r.image.version, r.variantKey, acceptClass].join('\n'),
  );
  const key: RenditionKey = { digest, etag: `"${digest.slice(0, 32)}"`, cacheControl: r.cacheControl, svg };
  r.keys ??= new Map();
  r.keys.set(acceptClass, key);
  return key;
}

/**
 * Whether an If-None-Match header names this ETag (weak comparison, or `*`), by `fresh`, the matcher
 * express uses. Only If-None-Match is handed to it: when it is present If-Modified-Since is ignored
 * (RFC 9110 §13.1.3), and renditions carry no Last-Modified.
 */
export function matchesEtag(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return fresh({ 'if-none-match': ifNoneMatch }, { etag });
}

/** resolve(), through the memo for public images (the generation is read before the database is). */
export async function resolveMemoised(ctx: DeliveryContext, path: DeliveryPath): Promise<Resolved> {
  const generation = ctx.generation.value;
  const memoised = ctx.memo.get(path.rawPath, generation) as Resolved | undefined;
  if (memoised) return memoised;
  const r = await resolve(ctx, path);
  if (!r.signed && ctx.memoise) ctx.memo.set(path.rawPath, generation, r);
  return r;
}

/** The options of a variant or of a flexible option list, and the part of the cache key naming them. */
async function optionsOf(
  ctx: DeliveryContext,
  account: Account,
  image: ImageRecord,
  last: string,
): Promise<{ variant?: VariantRecord; options: TransformOptions; variantKey: string }> {
  if (isOptionList(last)) {
    if (!account.flexibleVariants) throw new AppError('flexibleVariantsDisabled');
    if (image.requireSignedURLs)
      throw new AppError('accessDenied', {
        detail: 'Flexible variants cannot serve images that require signed URLs',
      });
    const parsed = parseFlexible(last);
    if (!parsed.ok) throw new AppError('invalidResizing', { detail: parsed.error });
    return { options: parsed.value, variantKey: `f:${JSON.stringify(parsed.value)}` };
  }
  const variant = await ctx.variants.find(account.id, last);
  if (!variant) throw new AppError('deliveryNotFound');
  const o = variant.options;
  const options = defaults({
    fit: o.fit,
    metadata: o.metadata,
    ...(o.width !== undefined ? { width: o.width } : {}),
    ...(o.height !== undefined ? { height: o.height } : {}),
  });
  return { variant, options, variantKey: `v:${variant.id}:${variant.version}:${variant.createdAt}` };
}

/** Account, image, variant or options, signature and Cache-Control for a parsed URL. */
async function resolve(ctx: DeliveryContext, path: DeliveryPath): Promise<Resolved> {
  const account = await ctx.accounts.getByHash(path.accountHash);
  if (!account) throw new AppError('wrongAccount');
  const image = await ctx.images.find(account.id, path.imageId);
  if (!image || image.draft || !image.blobKey) throw new AppError('deliveryNotFound');
  const { variant, options, variantKey } = await optionsOf(ctx, account, image, path.last);
  const ttl = variant?.options.browser_ttl ?? account.browserTtl;
  let cacheControl = `public, max-age=${ttl}, stale-while-revalidate=${SWR}`;
  const signed = image.requireSignedURLs && !variant?.neverRequireSignedURLs;
  if (signed) {
    const keys = (await ctx.keys.list(account.id)).map((k) => k.value);
    const now = Math.floor(ctx.clock.now() / 1000);
    const paths = [path.barePath, `${CDN_PREFIX}${path.barePath}`];
    const verdict = verify(paths, path.rawQuery, keys, now);
    if (verdict !== 'ok')
      throw new AppError('accessDenied', { detail: `Image access denied: ${verdict.replace('-', ' ')}` });
    const exp = expiryOf(path.rawQuery);
    const maxAge = exp === undefined ? ttl : Math.max(0, Math.min(ttl, exp - now));
    cacheControl = `private, max-age=${maxAge}`;
  }
  return { account, image, variant, options, variantKey, cacheControl, signed };
}

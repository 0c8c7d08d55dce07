/**
 * Transformation URLs, `/cdn-cgi/image/<options>/<source>` (Cloudflare's "transform via URL"): the
 * source is a path on PICTOR_TRANSFORM_ORIGIN or an absolute http(s) URL whose origin is listed in
 * PICTOR_TRANSFORM_SOURCES. Options are the flexible-variant option list (one parser, one table) plus
 * what only transformation URLs have (`fit=squeeze`, `fit=aspect-crop`, `onerror=redirect`,
 * `format=json`). The original is fetched through the address guard (origin-cache.ts: cached on disk,
 * revalidated), the rendition is cached, single-flighted and gated like a hosted one, and the answer
 * is built by the same `head()`. Off (404) until configured.
 */
import { AppError, type ErrorName } from '../core/errors.js';
import type { ImageFacts } from '../core/types.js';
import { accepts } from '../pipeline/negotiate.js';
import { planTransform, sourceOf } from '../pipeline/index.js';
import { FetchUrlError } from '../security/fetch-url.js';
import { parseFlexible } from '../transform/flexible.js';
import type { TransformOptions } from '../transform/options.js';
import { digestKey } from './cache.js';
import type { DeliveryContext } from './context.js';
import type { OriginCache, SourceRecord } from './origin-cache.js';
import { MIME, render, svgRendition, transform } from './render.js';
import { matchesEtag } from './resolve.js';
import {
  errorBody,
  head,
  toDeliveryError,
  type DeliveryLog,
  type DeliveryResponse,
  type RenditionKey,
} from './respond.js';

export const TRANSFORM_PREFIX = '/cdn-cgi/image';

/** Cloudflare marks its own fetches with this `Via` token; a request carrying it is a loop. */
export const VIA_TOKEN = 'image-resizing';

export interface TransformUrls {
  /** PICTOR_TRANSFORM_ORIGIN (`http(s)://host[:port]`), for the path form. */
  origin: string | undefined;
  /** PICTOR_TRANSFORM_SOURCES: origins an absolute source may come from. */
  sources: ReadonlySet<string>;
  cache: OriginCache;
}

export interface TransformRequest {
  url: string;
  accept: string | undefined;
  ifNoneMatch: string | undefined;
  origin: string | undefined;
  via: string | undefined;
  log?: DeliveryLog | undefined;
}

/** Cache-Control when the origin sends none (Cloudflare's default edge lifetime for images is longer). */
const DEFAULT_CACHE_CONTROL = 'public, max-age=3600';

/**
 * Splits `/cdn-cgi/image/<options>/<source>`; null when either part is missing.
 * @example splitTransformUrl('/cdn-cgi/image/width=640,quality=75/uploads/a.jpg') // { options: 'width=640,quality=75', source: 'uploads/a.jpg' }
 */
export function splitTransformUrl(url: string): { options: string; source: string } | null {
  if (!url.startsWith(`${TRANSFORM_PREFIX}/`)) return null;
  const rest = url.slice(TRANSFORM_PREFIX.length + 1);
  const slash = rest.indexOf('/');
  if (slash <= 0) return null;
  const source = rest.slice(slash + 1);
  return source === '' ? null : { options: rest.slice(0, slash), source };
}

/** Why a URL may not be fetched as a source, or undefined when it may. */
export function sourceRefusal(t: Pick<TransformUrls, 'origin' | 'sources'>, url: URL): string | undefined {
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return `only http and https sources are fetched (received ${url.protocol.replace(':', '')})`;
  if (url.origin !== t.origin && !t.sources.has(url.origin))
    return `${url.origin} is not in PICTOR_TRANSFORM_SOURCES`;
  return undefined;
}

/**
 * The absolute source URL: a path resolved against PICTOR_TRANSFORM_ORIGIN, or an absolute URL from
 * an allowed origin; a source that is itself a transformation URL is a loop.
 */
export function resolveSource(t: TransformUrls, raw: string): URL {
  let url: URL;
  if (/^https?:\/\//i.test(raw)) {
    try {
      url = new URL(raw);
    } catch {
      throw new AppError('sourceUrlInvalid');
    }
  } else {
    if (!t.origin)
      throw new AppError('sourceNotAllowed', { detail: 'Relative sources need PICTOR_TRANSFORM_ORIGIN' });
    url = new URL(`/${raw.replace(/^\/+/, '')}`, t.origin);
  }
  if (url.pathname.startsWith(`${TRANSFORM_PREFIX}/`)) throw new AppError('transformLoop');
  const why = sourceRefusal(t, url);
  if (why) throw new AppError('sourceNotAllowed', { detail: `The source is not allowed: ${why}` });
  return url;
}

/** Origin failures as Cloudflare's transformation errors. */
function fetchError(e: FetchUrlError): AppError {
  const f = e.failure;
  const name: ErrorName =
    f.kind === 'refused'
      ? 'sourceNotAllowed'
      : f.kind === 'too-large'
        ? 'sourceFetchTooLarge'
        : f.reason === 'status' && f.status === 404
          ? 'originNotFound'
          : f.reason === 'status' && f.status !== undefined && f.status < 500
            ? 'originError'
            : f.reason === 'timeout'
              ? 'originTimeout'
              : f.reason === 'redirects'
                ? 'originRedirectLoop'
                : f.reason === 'redirect-invalid' || f.reason === 'redirect-refused'
                  ? 'originRedirectInvalid'
                  : 'originUnreachable';
  return new AppError(name, { detail: e.message });
}

/** The response's Cache-Control: the origin's as it sent it (so no-store and private carry over), else the default. */
function cacheControlOf(record: SourceRecord): string {
  return record.cacheControl ?? DEFAULT_CACHE_CONTROL;
}

function keyOf(
  url: URL,
  record: SourceRecord,
  options: TransformOptions,
  accept: string | undefined,
): RenditionKey {
  const svg = record.format === 'svg';
  const ok = accepts(accept);
  const acceptClass = svg
    ? 'svg'
    : options.format !== 'auto'
      ? 'fixed'
      : ok.avif
        ? 'avif'
        : ok.webp
          ? 'webp'
          : 'none';
  const digest = digestKey(['t', url.href, record.version, JSON.stringify(options), acceptClass].join('\n'));
  return { digest, etag: `"${digest.slice(0, 32)}"`, cacheControl: cacheControlOf(record), svg };
}

/** `format=json`: the source's size and format, and the size the options would produce. */
function jsonOf(record: SourceRecord, facts: ImageFacts, options: TransformOptions): Buffer {
  const source = sourceOf(record.format === 'svg' || record.format === null ? 'png' : record.format, facts);
  const plan = planTransform(source, options, 'png');
  return Buffer.from(
    JSON.stringify({
      width: plan.width,
      height: plan.height,
      original: {
        file_size: record.size,
        width: facts.width,
        height: facts.height,
        format: record.format ? (MIME[record.format as keyof typeof MIME] ?? `image/${record.format}`) : null,
      },
    }),
  );
}

/** Answers one transformation URL; never throws. */
export async function transformUrl(ctx: DeliveryContext, req: TransformRequest): Promise<DeliveryResponse> {
  let redirectTo: URL | undefined;
  try {
    const t = ctx.transformUrls;
    if (!t)
      throw new AppError('deliveryNotFound', {
        detail:
          'Transformation URLs are not enabled (set PICTOR_TRANSFORM_ORIGIN or PICTOR_TRANSFORM_SOURCES)',
      });
    if ((req.via ?? '').toLowerCase().includes(VIA_TOKEN)) throw new AppError('transformLoop');
    const parts = splitTransformUrl(req.url);
    if (!parts)
      throw new AppError('invalidResizing', { detail: 'Expected /cdn-cgi/image/<options>/<source image>' });
    const parsed = parseFlexible(parts.options, { transformation: true });
    if (!parsed.ok) throw new AppError('invalidResizing', { detail: parsed.error });
    const options = parsed.value;
    const onerror = options.onerror;
    const url = resolveSource(t, parts.source);
    // From here on a failure is "fatal to the transformation": onerror=redirect sends the source instead.
    if (onerror === 'redirect') redirectTo = url;
    return await answer(ctx, t, url, options, req);
  } catch (e) {
    const err =
      e instanceof FetchUrlError
        ? fetchError(e)
        : toDeliveryError(e, req.log, () => ctx.metrics.rejected.inc());
    if (redirectTo)
      return {
        ...head({ kind: 'redirect', location: redirectTo.href, error: err }, ctx.cors, req.origin),
        body: '',
      };
    const body = errorBody(err);
    return {
      ...head({ kind: 'error', error: err, length: Buffer.byteLength(body) }, ctx.cors, req.origin),
      body,
    };
  }
}

async function answer(
  ctx: DeliveryContext,
  t: TransformUrls,
  url: URL,
  options: TransformOptions,
  req: TransformRequest,
): Promise<DeliveryResponse> {
  const { record } = await t.cache.fresh(url.href);
  if (!record.format || !record.facts)
    throw new AppError('unsupportedSource', { detail: 'The source is not an image Pictor can decode' });
  const facts = record.facts;
  if (options.format === 'json') {
    const body = jsonOf(record, facts, options);
    const key = { ...keyOf(url, record, options, req.accept), svg: false };
    return {
      ...head(
        { kind: 'rendition', key, contentType: 'application/json', length: body.length, cache: 'MISS' },
        ctx.cors,
        req.origin,
      ),
      body,
    };
  }
  const key = keyOf(url, record, options, req.accept);
  if (matchesEtag(req.ifNoneMatch, key.etag))
    return { ...head({ kind: 'not-modified', key }, ctx.cors, req.origin), body: '' };
  const format = record.format;
  const { rendition, hit } = await render(ctx, key.digest, async () => {
    const original = await t.cache.bytes(record);
    if (format === 'svg') return svgRendition(ctx, original);
    // A master depends on the bytes alone (the record's version is their sha256); a `no-store` origin's
    // bytes are not kept, so neither is a master of them.
    const masterKey = record.noStore ? undefined : `t\n${record.version}`;
    return ctx.gate.run(() => transform(ctx, original, format, facts, options, req.accept, masterKey));
  });
  const h = head(
    {
      kind: 'rendition',
      key,
      contentType: rendition.contentType,
      length: rendition.body.length,
      cache: hit ? 'HIT' : 'MISS',
    },
    ctx.cors,
    req.origin,
  );
  return { ...h, body: rendition.body };
}

/**
 * /images/v1: upload, list, details, edit, delete and the original blob. Image ids travel
 * percent-encoded (custom ids contain `/`), so the `{image_id}` routes read the raw path.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { appError } from '../core/errors.js';
import { invalid, is } from '../core/check.js';
import type { ImagePatch } from '../services/images.js';
import { isSvgContentType, SVG_RESPONSE_HEADERS } from '../security/svg-headers.js';
import { noRoute } from './auth.js';
import type { ApiContext } from './context.js';
import { ok } from './envelope.js';
import { toImageJson } from './image-json.js';
import { readUploadForm } from './multipart.js';

/** v1 list paging: SPEC says per_page 10..10000, default 1000; out-of-range values are clamped. */
export const V1_PER_PAGE = { min: 10, max: 10_000, default: 1000 } as const;

function intParam(name: string, raw: unknown, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  // Safe integers only: 1e30 or 2^53+1 would reach the database as a float or a rounded value.
  if (typeof raw !== 'string' || !Number.isSafeInteger(n)) throw appError('badRequest', invalid(name, 'integer', raw));
  return n;
}

/** `{image_id}` and whether `/blob` follows, from the raw (still percent-encoded) path. */
export function parseImagePath(req: FastifyRequest): { id: string; blob: boolean } {
  const raw = req.raw.url ?? '';
  const path = raw.split('?')[0] ?? '';
  const marker = '/images/v1/';
  const rest = path.slice(path.indexOf(marker) + marker.length);
  const segments = rest.split('/');
  let blob = false;
  if (segments.length >= 2 && segments[segments.length - 1] === 'blob') {
    blob = true;
    segments.pop();
  }
  let id: string;
  try {
    id = segments.map(decodeURIComponent).join('/');
  } catch {
    throw noRoute();
  }
  if (id === '') throw noRoute();
  return { id, blob };
}

/**
 * The blob's Content-Disposition: `?disposition=inline` or `?disposition=attachment` when asked; else
 * `attachment` for an SVG (opened from a link it is a download, not a document on our origin) and
 * none for a raster image (docs/compat.md).
 */
function blobDisposition(asked: unknown, contentType: string): string | undefined {
  if (asked !== undefined && asked !== 'inline' && asked !== 'attachment') {
    throw appError('badRequest', invalid('disposition', '"inline" or "attachment"', asked));
  }
  return asked ?? (isSvgContentType(contentType) ? 'attachment' : undefined);
}

export async function imagesRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const serialise = async (req: FastifyRequest, image: Parameters<typeof toImageJson>[0]) =>
    toImageJson(image, req.account, await ctx.variants.list(req.account.id), ctx.publicUrl);

  app.post('/images/v1', async (req) => {
    const form = await readUploadForm(req, ctx.maxUploadBytes);
    if (form.url !== undefined && form.file !== undefined) {
      throw appError('badRequest', 'The file and url fields are mutually exclusive');
    }
    const file = form.url !== undefined ? { url: form.url } : form.file;
    if (file === undefined) throw appError('badRequest', 'A file or url field with the image is required');
    const image = await ctx.images.upload({
      accountId: req.account.id,
      file,
      id: form.id,
      metadata: form.metadata,
      requireSignedURLs: form.requireSignedURLs,
      creator: form.creator,
    });
    return ok(await serialise(req, image));
  });

  app.get('/images/v1', async (req) => {
    const q = req.query as Record<string, unknown>;
    const page = Math.max(1, intParam('page', q.page, 1));
    const perPage = Math.min(V1_PER_PAGE.max, Math.max(V1_PER_PAGE.min, intParam('per_page', q.per_page, V1_PER_PAGE.default)));
    // The row offset must stay a safe integer too (page 2^50 of 10,000 would not).
    if (!Number.isSafeInteger((page - 1) * perPage)) throw appError('badRequest', invalid('page', `integer at most ${Math.floor(Number.MAX_SAFE_INTEGER / perPage)}`, q.page));
    const creator = typeof q.creator === 'string' ? (q.creator === '' ? null : q.creator) : undefined;
    const rows = await ctx.images.list(req.account.id, page, perPage, creator);
    const variants = await ctx.variants.list(req.account.id);
    return ok({ images: rows.map((r) => toImageJson(r, req.account, variants, ctx.publicUrl)) });
  });

  app.get('/images/v2', async (req) => {
    const page = await ctx.images.listV2(req.account.id, req.query as Record<string, unknown>);
    const variants = await ctx.variants.list(req.account.id);
    return ok({
      images: page.images.map((r) => toImageJson(r, req.account, variants, ctx.publicUrl)),
      continuation_token: page.continuationToken,
    });
  });

  app.get('/images/v1/*', async (req, reply) => {
    const { id, blob } = parseImagePath(req);
    if (!blob) return ok(await serialise(req, await ctx.images.get(req.account.id, id)));
    const b = await ctx.images.blob(req.account.id, id);
    const disposition = blobDisposition((req.query as Record<string, unknown>).disposition, b.contentType);
    reply.header('content-type', b.contentType).header('etag', b.etag).header('cache-control', 'private, no-store').header('x-content-type-options', 'nosniff');
    if (isSvgContentType(b.contentType)) reply.headers(SVG_RESPONSE_HEADERS);
    if (disposition) reply.header('content-disposition', disposition);
    return reply.send(b.data);
  });

  app.patch('/images/v1/*', async (req) => {
    const { id, blob } = parseImagePath(req);
    if (blob) throw noRoute();
    const body = (req.body === undefined ? {} : req.body) as unknown;
    if (!is.plainObject(body)) throw appError('badRequest', invalid('body', 'JSON object', body));
    const patch: ImagePatch = {};
    if (body.metadata !== undefined) {
      if (!is.plainObject(body.metadata)) throw appError('badRequest', 'Metadata must be a JSON object');
      patch.meta = body.metadata;
    }
    if (body.requireSignedURLs !== undefined) {
      if (typeof body.requireSignedURLs !== 'boolean') throw appError('badRequest', invalid('requireSignedURLs', 'boolean', body.requireSignedURLs));
      patch.requireSignedURLs = body.requireSignedURLs;
    }
    if (body.creator !== undefined) {
      if (body.creator !== null && typeof body.creator !== 'string') throw appError('badRequest', invalid('creator', 'string or null', body.creator));
      patch.creator = body.creator;
    }
    return ok(await serialise(req, await ctx.images.update(req.account.id, id, patch)));
  });

  app.delete('/images/v1/*', async (req) => {
    const { id, blob } = parseImagePath(req);
    if (blob) throw noRoute();
    await ctx.images.delete(req.account.id, id);
    return ok({});
  });
}

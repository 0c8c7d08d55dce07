/**
 * /images/v1: upload, list, details, edit, delete and the original blob. Image ids travel
 * percent-encoded (custom ids contain `/`), so the `{image_id}` routes read the raw path.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import fresh from 'fresh';
import { appError } from '../core/errors.js';
import { invalid } from '../core/check.js';
import type { ImagePatch } from '../services/images.js';
import { isSvgContentType, SVG_RESPONSE_HEADERS } from '../security/svg-headers.js';
import { noRoute } from './auth.js';
import type { ApiContext } from './context.js';
import { ok } from './envelope.js';
import { toImageJson } from './image-json.js';
import { clampPerPage, encodeToken, parseListV2Query } from './list-query.js';
import { withUploadForm } from './multipart.js';
import { envelope, ImageJson, ListV1Query, ListV2Query, PatchImageBody, UploadForm } from './schemas.js';

/** v1 list paging: SPEC says per_page 10..10000, default 1000; out-of-range values are clamped. */
export const V1_PER_PAGE = { min: 10, max: 10_000, default: 1000 } as const;

const tags = ['images'];
const image = envelope(ImageJson, 'The image.');
const deleted = envelope(Type.Object({}), 'Deleted.');

/**
 * Pictor extension (docs/compat.md): an upload may carry its original `uploaded` time (ISO 8601, as
 * the Image JSON gives it) so a migrated account keeps its list order.
 */
export function uploadedField(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const t = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/.test(raw)
    ? Date.parse(raw)
    : NaN;
  if (!Number.isFinite(t) || t < 0)
    throw appError('badRequest', invalid('uploaded', 'ISO 8601 time such as 2024-05-01T12:00:00.000Z', raw));
  return t;
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
function blobDisposition(
  asked: 'inline' | 'attachment' | undefined,
  contentType: string,
): string | undefined {
  return asked ?? (isSvgContentType(contentType) ? 'attachment' : undefined);
}

const BlobQuery = Type.Object({
  disposition: Type.Optional(
    Type.String({
      enum: ['inline', 'attachment'],
      'x-expected': '"inline" or "attachment"',
      description: 'Blob only: Content-Disposition.',
    }),
  ),
});

/** Upload, list (v1 and v2), details, edit, delete and the original blob: one plugin. */
export const imagesRoutes: FastifyPluginAsync<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const serialise = async (req: FastifyRequest, record: Parameters<typeof toImageJson>[0]) =>
    toImageJson(record, req.account, await ctx.variants.list(req.account.id), ctx.publicUrl);

  app.post(
    '/images/v1',
    {
      schema: {
        tags,
        summary: 'Upload an image (a file or a url)',
        consumes: ['multipart/form-data'],
        'x-multipart': UploadForm,
        response: image,
      },
    },
    async (req) => {
      const record = await withUploadForm(req, ctx.maxUploadBytes, (form) =>
        ctx.images.upload({
          accountId: req.account.id,
          file: form.file,
          url: form.url,
          id: form.id,
          metadata: form.metadata,
          requireSignedURLs: form.requireSignedURLs,
          creator: form.creator,
          uploaded: uploadedField(form.fields.get('uploaded')),
        }),
      );
      return ok(await serialise(req, record));
    },
  );

  app.get<{ Querystring: Static<typeof ListV1Query> }>(
    '/images/v1',
    {
      schema: {
        tags,
        summary: 'List images (pages)',
        querystring: ListV1Query,
        response: envelope(Type.Object({ images: Type.Array(ImageJson) }), 'A page of images.'),
      },
    },
    async (req) => {
      const q = req.query;
      // The schema allows at most 11 digits, so the row offset stays a safe integer.
      const page = Math.max(1, q.page ? Number(q.page) : 1);
      const perPage = q.per_page ? clampPerPage(Number(q.per_page), V1_PER_PAGE) : V1_PER_PAGE.default;
      const creator = q.creator === undefined ? undefined : q.creator === '' ? null : q.creator;
      const rows = await ctx.images.list(req.account.id, page, perPage, creator);
      const variants = await ctx.variants.list(req.account.id);
      return ok({ images: rows.map((r) => toImageJson(r, req.account, variants, ctx.publicUrl)) });
    },
  );

  app.get<{ Querystring: Static<typeof ListV2Query> }>(
    '/images/v2',
    {
      schema: {
        tags,
        summary: 'List images (continuation tokens, metadata filters)',
        querystring: ListV2Query,
        response: envelope(
          Type.Object({
            images: Type.Array(ImageJson),
            continuation_token: Type.Optional(Type.Union([Type.String(), Type.Null()])),
          }),
          'A page of images.',
        ),
      },
    },
    async (req) => {
      const query = parseListV2Query(req.query);
      const page = await ctx.images.listV2(req.account.id, query);
      const variants = await ctx.variants.list(req.account.id);
      return ok({
        images: page.images.map((r) => toImageJson(r, req.account, variants, ctx.publicUrl)),
        continuation_token: page.next === null ? null : encodeToken(query.order, page.next),
      });
    },
  );

  // `{image_id}` may contain `/`, so these routes take the rest of the path (the document names
  // them /images/v1/{image_id} and /images/v1/{image_id}/blob, see openapi.ts).
  app.get<{ Querystring: Static<typeof BlobQuery> }>(
    '/images/v1/*',
    {
      schema: {
        tags,
        summary: 'Image details (or /blob: the original)',
        'x-path': '/images/v1/{image_id}',
        querystring: BlobQuery,
        response: image,
      },
    },
    async (req, reply) => {
      const { id, blob } = parseImagePath(req);
      if (!blob) return ok(await serialise(req, await ctx.images.get(req.account.id, id)));
      const b = await ctx.images.blob(req.account.id, id);
      const disposition = blobDisposition(
        req.query.disposition as 'inline' | 'attachment' | undefined,
        b.contentType,
      );
      reply
        .header('content-type', b.contentType)
        .header('etag', b.etag)
        .header('cache-control', 'private, no-store')
        .header('x-content-type-options', 'nosniff');
      if (isSvgContentType(b.contentType)) reply.headers(SVG_RESPONSE_HEADERS);
      if (disposition) reply.header('content-disposition', disposition);
      // A conditional GET naming the stored ETag gets a 304 with the same headers. Only If-None-Match
      // is compared: the blob has no Last-Modified, and RFC 9110 ignores If-Modified-Since beside it.
      const inm = req.headers['if-none-match'];
      if (inm && fresh({ 'if-none-match': inm }, { etag: b.etag })) return reply.code(304).send();
      return reply.send(b.data);
    },
  );

  app.patch<{ Body: Static<typeof PatchImageBody> }>(
    '/images/v1/*',
    {
      schema: {
        tags,
        summary: 'Edit metadata, creator or requireSignedURLs',
        'x-path': '/images/v1/{image_id}',
        body: PatchImageBody,
        response: image,
      },
    },
    async (req) => {
      const { id, blob } = parseImagePath(req);
      if (blob) throw noRoute();
      const { metadata, requireSignedURLs, creator } = req.body;
      const patch: ImagePatch = {};
      if (metadata !== undefined) patch.meta = metadata;
      if (requireSignedURLs !== undefined) patch.requireSignedURLs = requireSignedURLs;
      if (creator !== undefined) patch.creator = creator;
      return ok(await serialise(req, await ctx.images.update(req.account.id, id, patch)));
    },
  );

  app.delete(
    '/images/v1/*',
    { schema: { tags, summary: 'Delete an image', 'x-path': '/images/v1/{image_id}', response: deleted } },
    async (req) => {
      const { id, blob } = parseImagePath(req);
      if (blob) throw noRoute();
      await ctx.images.delete(req.account.id, id);
      return ok({});
    },
  );
};

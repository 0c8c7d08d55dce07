/**
 * Direct creator upload: `POST /images/v2/direct_upload` (authenticated; multipart, JSON or empty
 * body) creates a draft and answers `{id, uploadURL}`; `POST /upload/<account_hash>/<image_id>` (the
 * one-time URL, no credentials) takes one multipart `file`. The upload URL answers errors as plain
 * text `ERROR <code>: <message>`, as upload.imagedelivery.net does (digest §1.2).
 */
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, appError, isAppError } from '../core/errors.js';
import { backendErrorName } from '../core/backend-errors.js';
import { is, jsonDepth, MAX_JSON_DEPTH, parseBool } from '../core/check.js';
import type { DraftInput } from '../services/direct-upload.js';
import type { ApiContext } from './context.js';
import { ok } from './envelope.js';
import { encodeImageIdPath, toImageJson } from './image-json.js';
import { withUploadForm } from './multipart.js';
import { DirectUploadBody, envelope, ImageJson } from './schemas.js';

/** The one-time upload URL of a draft. */
export function uploadUrl(ctx: ApiContext, accountHash: string, imageId: string): string {
  return `${ctx.uploadBase ?? `${ctx.publicUrl}/upload`}/${accountHash}/${encodeImageIdPath(imageId)}`;
}

async function readDraftInput(
  req: FastifyRequest<{ Body: Static<typeof DirectUploadBody> }>,
  ctx: ApiContext,
): Promise<DraftInput> {
  if (req.isMultipart()) {
    const form = await withUploadForm(req, ctx.maxUploadBytes, async (f) => f);
    if (form.file)
      throw appError(
        'badRequest',
        'A direct upload request takes no file; upload it to the returned uploadURL',
      );
    return {
      id: form.id,
      metadata: form.metadata,
      requireSignedURLs: form.requireSignedURLs,
      creator: form.creator,
      expiry: form.fields.get('expiry'),
    };
  }
  // The schema has checked every field's type; metadata may still be JSON text of an object.
  const body = req.body;
  let metadata: unknown = body.metadata ?? undefined;
  if (typeof metadata === 'string') {
    if (jsonDepth(metadata) > MAX_JSON_DEPTH)
      throw appError('badRequest', `Metadata nests deeper than ${MAX_JSON_DEPTH} levels`);
    try {
      metadata = JSON.parse(metadata);
    } catch {
      throw appError('badRequest', 'Metadata must be a JSON object');
    }
    if (!is.plainObject(metadata)) throw appError('badRequest', 'Metadata must be a JSON object');
  }
  const rsu = body.requireSignedURLs;
  return {
    id: body.id ?? undefined,
    metadata: metadata as Record<string, unknown> | undefined,
    requireSignedURLs: rsu === undefined || rsu === null ? undefined : parseBool(rsu),
    creator: body.creator ?? undefined,
    expiry: body.expiry ?? undefined,
  };
}

/** The authenticated half, mounted inside the account scope. */
export const directUploadRoutes: FastifyPluginAsync<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.post<{ Body: Static<typeof DirectUploadBody> }>(
    '/images/v2/direct_upload',
    {
      schema: {
        tags: ['direct creator upload'],
        summary: 'Create a draft and its one-time upload URL (JSON or multipart body)',
        body: DirectUploadBody,
        response: envelope(
          Type.Object({ id: Type.String(), uploadURL: Type.String({ format: 'uri' }) }),
          'The draft id and its upload URL.',
          { result_info: Type.Optional(Type.Null()) },
        ),
      },
    },
    async (req) => {
      const draft = await ctx.directUploads.create(req.account.id, await readDraftInput(req, ctx));
      return {
        ...ok({ id: draft.id, uploadURL: uploadUrl(ctx, req.account.hash, draft.id) }),
        result_info: null,
      };
    },
  );
};

function textError(reply: FastifyReply, e: AppError) {
  return reply
    .code(e.status)
    .headers(e.headers)
    .header('content-type', 'text/plain; charset=utf-8')
    .send(`ERROR ${e.code}: ${e.detail ?? e.spec.message}`);
}

/** The public one-time upload URL, mounted at the root. */
export const uploadUrlRoutes: FastifyPluginAsync<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const schema = {
    tags: ['direct creator upload'],
    summary:
      'The one-time upload URL: one multipart file, no credentials (errors are text: ERROR <code>: <message>)',
    'x-path': '/upload/{account_hash}/{image_id}',
    consumes: ['multipart/form-data'],
    'x-multipart': Type.Object({ file: Type.String({ format: 'binary' }) }),
    response: { 200: envelope(ImageJson, 'The stored image.')[200] },
  };
  app.post<{ Params: { hash: string } }>('/upload/:hash/*', { schema }, async (req, reply) => {
    try {
      const account = await ctx.accounts.getByHash(req.params.hash);
      if (!account) throw appError('imageNotFound', 'Unknown upload URL');
      const raw = (req.raw.url ?? '').split('?')[0]!;
      const rest = raw.slice(
        raw.indexOf(`/upload/${req.params.hash}/`) + `/upload/${req.params.hash}/`.length,
      );
      let id: string;
      try {
        id = rest.split('/').map(decodeURIComponent).join('/');
      } catch {
        throw appError('badRequest', 'Malformed upload URL');
      }
      const image = await withUploadForm(req, ctx.maxUploadBytes, (form) => {
        if (!form.file) throw appError('badRequest', 'A file field with the image is required');
        return ctx.directUploads.complete(account.id, id, form.file);
      });
      return ok(toImageJson(image, account, await ctx.variants.list(account.id), ctx.publicUrl));
    } catch (e) {
      if (isAppError(e)) return textError(reply, e);
      req.log.error({ err: e }, 'direct upload failed');
      return textError(reply, new AppError(backendErrorName(e) ?? 'internal', { cause: e }));
    }
  });
};

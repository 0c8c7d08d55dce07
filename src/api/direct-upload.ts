/**
 * Direct creator upload: `POST /images/v2/direct_upload` (authenticated; multipart, JSON or empty
 * body) creates a draft and answers `{id, uploadURL}`; `POST /upload/<account_hash>/<image_id>` (the
 * one-time URL, no credentials) takes one multipart `file`. The upload URL answers errors as plain
 * text `ERROR <code>: <message>`, as upload.imagedelivery.net does (digest §1.2).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, appError, isAppError } from '../core/errors.js';
import { isBackendUnavailable } from '../core/backend-errors.js';
import { invalid, is, jsonDepth, MAX_JSON_DEPTH, parseBool } from '../core/check.js';
import type { DraftInput } from '../services/direct-upload.js';
import type { ApiContext } from './context.js';
import { ok } from './envelope.js';
import { encodeImageIdPath, toImageJson } from './image-json.js';
import { readUploadForm } from './multipart.js';

/** The one-time upload URL of a draft. */
export function uploadUrl(ctx: ApiContext, accountHash: string, imageId: string): string {
  return `${ctx.uploadBase ?? `${ctx.publicUrl}/upload`}/${accountHash}/${encodeImageIdPath(imageId)}`;
}

async function readDraftInput(req: FastifyRequest, ctx: ApiContext): Promise<DraftInput> {
  if (req.isMultipart()) {
    const form = await readUploadForm(req, ctx.maxUploadBytes);
    if (form.file) throw appError('badRequest', 'A direct upload request takes no file; upload it to the returned uploadURL');
    return { id: form.id, metadata: form.metadata, requireSignedURLs: form.requireSignedURLs, creator: form.creator, expiry: form.fields.get('expiry') };
  }
  const body = req.body === undefined ? {} : req.body;
  if (!is.plainObject(body)) throw appError('badRequest', invalid('body', 'JSON object or multipart form', body));
  const str = (name: string): string | undefined => {
    const v = body[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw appError('badRequest', invalid(name, 'string', v));
    return v;
  };
  let metadata = body.metadata;
  if (typeof metadata === 'string') {
    if (jsonDepth(metadata) > MAX_JSON_DEPTH) throw appError('badRequest', `Metadata nests deeper than ${MAX_JSON_DEPTH} levels`);
    try {
      metadata = JSON.parse(metadata);
    } catch {
      throw appError('badRequest', 'Metadata must be a JSON object');
    }
  }
  if (metadata !== undefined && metadata !== null && !is.plainObject(metadata)) throw appError('badRequest', 'Metadata must be a JSON object');
  const rsu = body.requireSignedURLs;
  const requireSignedURLs = rsu === undefined || rsu === null ? undefined : parseBool(rsu);
  if (rsu !== undefined && rsu !== null && requireSignedURLs === undefined) throw appError('badRequest', invalid('requireSignedURLs', 'boolean', rsu));
  return { id: str('id'), metadata: (metadata ?? undefined) as Record<string, unknown> | undefined, requireSignedURLs, creator: str('creator'), expiry: str('expiry') };
}

/** The authenticated half, mounted inside the account scope. */
export async function directUploadRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  app.post('/images/v2/direct_upload', async (req) => {
    const draft = await ctx.directUploads.create(req.account.id, await readDraftInput(req, ctx));
    return { ...ok({ id: draft.id, uploadURL: uploadUrl(ctx, req.account.hash, draft.id) }), result_info: null };
  });
}

function textError(reply: FastifyReply, e: AppError) {
  return reply
    .code(e.status)
    .headers(e.headers)
    .header('content-type', 'text/plain; charset=utf-8')
    .send(`ERROR ${e.code}: ${e.detail ?? e.spec.message}`);
}

/** The public one-time upload URL, mounted at the root. */
export async function uploadUrlRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  app.post<{ Params: { hash: string } }>('/upload/:hash/*', async (req, reply) => {
    try {
      const account = await ctx.accounts.getByHash(req.params.hash);
      if (!account) throw appError('imageNotFound', 'Unknown upload URL');
      const raw = (req.raw.url ?? '').split('?')[0]!;
      const rest = raw.slice(raw.indexOf(`/upload/${req.params.hash}/`) + `/upload/${req.params.hash}/`.length);
      let id: string;
      try {
        id = rest.split('/').map(decodeURIComponent).join('/');
      } catch {
        throw appError('badRequest', 'Malformed upload URL');
      }
      const form = await readUploadForm(req, ctx.maxUploadBytes);
      if (!form.file) throw appError('badRequest', 'A file field with the image is required');
      const image = await ctx.directUploads.complete(account.id, id, form.file);
      return ok(toImageJson(image, account, await ctx.variants.list(account.id), ctx.publicUrl));
    } catch (e) {
      if (isAppError(e)) return textError(reply, e);
      req.log.error({ err: e }, 'direct upload failed');
      return textError(reply, new AppError(isBackendUnavailable(e) ? 'unavailable' : 'internal', { cause: e }));
    }
  });
}

/**
 * Batch API (digest §2.13): `GET /images/v1/batch_token` issues a token; with it, the image
 * operations answer on paths without `/accounts/{id}` (`POST /images/v1`, `GET|PATCH|DELETE
 * /images/v1/{id}`, `GET /images/v2`, `POST /images/v2/direct_upload`, as on batch.imagedelivery.net),
 * with the same bodies. Pictor serves them at the root of the main port.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.js';
import { readCredential } from '../security/credentials.js';
import type { ApiContext } from './context.js';
import { directUploadRoutes } from './direct-upload.js';
import { ok } from './envelope.js';
import { imagesRoutes } from './images.js';
import { envelope } from './schemas.js';

/** The token endpoint, mounted inside the account scope. */
export const batchTokenRoutes: FastifyPluginAsync<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const schema = {
    tags: ['batch'],
    summary: 'Issue a batch token (needs Images Write)',
    response: envelope(
      Type.Object({ token: Type.String(), expiresAt: Type.String({ format: 'date-time' }) }),
      'The token and when it expires.',
    ),
  };
  // A batch token can write, so only a credential that can write may issue one.
  app.get('/images/v1/batch_token', { schema, config: { permission: 'write' } }, async (req) => {
    const { token, expiresAt } = await ctx.accounts.issueBatchToken(req.account.id);
    return ok({ token, expiresAt: new Date(expiresAt).toISOString() });
  });
};

function batchAuth(ctx: ApiContext) {
  return async (req: FastifyRequest): Promise<void> => {
    const presented = readCredential(req.headers);
    if (presented.kind !== 'token')
      throw new AppError('invalidToken', {
        detail: 'The batch API takes a batch token (Authorization: Bearer)',
      });
    const credential = await ctx.accounts.findToken(presented.token);
    if (credential?.kind !== 'batch' || ctx.accounts.expired(credential)) throw new AppError('invalidToken');
    const account = await ctx.accounts.get(credential.accountIds[0] ?? '');
    if (!account) throw new AppError('invalidToken');
    req.account = account;
  };
}

/** The batch image operations, mounted at the root. */
export const batchRoutes: FastifyPluginAsync<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.decorateRequest('account', null as never);
  app.addHook('onRequest', batchAuth(ctx));
  await app.register(imagesRoutes, { ctx });
  await app.register(directUploadRoutes, { ctx });
};

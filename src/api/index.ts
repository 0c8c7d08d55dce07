/**
 * The Cloudflare REST wire layer, mounted at `/client/v4`: the account-scoped resources behind the
 * auth hook. One module per resource.
 */
import type { FastifyInstance } from 'fastify';
import { authHook } from './auth.js';
import { batchRoutes, batchTokenRoutes } from './batch.js';
import { configRoutes } from './config.js';
import { directUploadRoutes, uploadUrlRoutes } from './direct-upload.js';
import type { ApiContext } from './context.js';
import { imagesRoutes } from './images.js';
import { keysRoutes } from './keys.js';
import { statsRoutes } from './stats.js';
import { variantsRoutes } from './variants.js';

export async function apiRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  await app.register(
    async (scoped) => {
      scoped.decorateRequest('account', null as never);
      scoped.addHook('onRequest', authHook(ctx));
      await imagesRoutes(scoped, ctx);
      await variantsRoutes(scoped, ctx);
      await keysRoutes(scoped, ctx);
      await statsRoutes(scoped, ctx);
      await configRoutes(scoped, ctx);
      await directUploadRoutes(scoped, ctx);
      await batchTokenRoutes(scoped, ctx);
    },
    { prefix: '/client/v4/accounts/:account_id' },
  );
  await uploadUrlRoutes(app, ctx);
  await batchRoutes(app, ctx);
}

export type { ApiContext } from './context.js';

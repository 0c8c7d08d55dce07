/**
 * The Cloudflare REST wire layer, mounted at `/client/v4`: the account-scoped resources behind the
 * auth hook. One module per resource.
 */
import type { FastifyInstance } from 'fastify';
import { openapiRoutes } from './openapi.js';
import { authHook } from './auth.js';
import { batchRoutes, batchTokenRoutes } from './batch.js';
import { configRoutes } from './config.js';
import { directUploadRoutes, uploadUrlRoutes } from './direct-upload.js';
import type { ApiContext } from './context.js';
import { imagesRoutes } from './images.js';
import { keysRoutes } from './keys.js';
import { statsRoutes } from './stats.js';
import { variantsRoutes } from './variants.js';

/**
 * Mounts the API: the account scope (auth hook, then one plugin per resource), the one-time upload
 * URL and the batch API at the root, and the OpenAPI document with its reader. Call it before any
 * other route is added: the document is collected from the routes registered after it.
 */
export async function apiRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  await openapiRoutes(app);
  await app.register(
    async (scoped) => {
      scoped.decorateRequest('account', null as never);
      scoped.addHook('onRequest', authHook(ctx));
      for (const plugin of [
        imagesRoutes,
        variantsRoutes,
        keysRoutes,
        statsRoutes,
        configRoutes,
        directUploadRoutes,
        batchTokenRoutes,
      ]) {
        await scoped.register(plugin, { ctx });
      }
    },
    { prefix: '/client/v4/accounts/:account_id' },
  );
  await app.register(uploadUrlRoutes, { ctx });
  await app.register(batchRoutes, { ctx });
}

export type { ApiContext } from './context.js';

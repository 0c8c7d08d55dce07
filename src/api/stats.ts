/** /images/v1/stats: image count against the account's allowance. */
import type { FastifyPluginAsync } from 'fastify';
import type { ApiContext } from './context.js';
import { ok } from './envelope.js';
import { envelope, StatsJson } from './schemas.js';

export const statsRoutes: FastifyPluginAsync<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.get(
    '/images/v1/stats',
    {
      schema: {
        tags: ['images'],
        summary: 'Image count and allowance',
        response: envelope(StatsJson, 'The count.'),
      },
    },
    async (req) => ok(await ctx.images.stats(req.account.id, req.account.allowance)),
  );
};

/** /images/v1/stats: image count against the account's allowance. */
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from './context.js';
import { ok } from './envelope.js';

export async function statsRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  app.get('/images/v1/stats', async (req) => ok(await ctx.images.stats(req.account.id, req.account.allowance)));
}

/** /images/v1/variants: the list is a map keyed by variant id (digest §2.10). */
import type { FastifyInstance } from 'fastify';
import type { VariantRecord } from '../core/types.js';
import type { ApiContext } from './context.js';
import { ok } from './envelope.js';

export function toVariantJson(v: VariantRecord) {
  return { id: v.id, options: v.options, neverRequireSignedURLs: v.neverRequireSignedURLs };
}

export async function variantsRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  app.get('/images/v1/variants', async (req) => {
    const list = await ctx.variants.list(req.account.id);
    return ok({ variants: Object.fromEntries(list.map((v) => [v.id, toVariantJson(v)])) });
  });

  app.post('/images/v1/variants', async (req) => {
    const v = await ctx.variants.create(req.account.id, req.body === undefined ? {} : req.body);
    return ok({ variant: toVariantJson(v) });
  });

  app.get<{ Params: { variant_id: string } }>('/images/v1/variants/:variant_id', async (req) => {
    return ok({ variant: toVariantJson(await ctx.variants.get(req.account.id, req.params.variant_id)) });
  });

  app.patch<{ Params: { variant_id: string } }>('/images/v1/variants/:variant_id', async (req) => {
    const v = await ctx.variants.update(req.account.id, req.params.variant_id, req.body === undefined ? {} : req.body);
    return ok({ variant: toVariantJson(v) });
  });

  app.delete<{ Params: { variant_id: string } }>('/images/v1/variants/:variant_id', async (req) => {
    await ctx.variants.delete(req.account.id, req.params.variant_id);
    return ok({});
  });
}

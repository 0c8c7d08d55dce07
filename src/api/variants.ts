/** /images/v1/variants: the list is a map keyed by variant id (digest §2.10). */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { VariantRecord } from '../core/types.js';
import type { ApiContext } from './context.js';
import { ok } from './envelope.js';
import { envelope, VariantBody, VariantJson, VariantParams, VariantPatchBody } from './schemas.js';

export function toVariantJson(v: VariantRecord) {
  return { id: v.id, options: v.options, neverRequireSignedURLs: v.neverRequireSignedURLs };
}

const tags = ['variants'];
const one = envelope(Type.Object({ variant: VariantJson }), 'The variant.');

export const variantsRoutes: FastifyPluginAsync<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.get(
    '/images/v1/variants',
    {
      schema: {
        tags,
        summary: 'List variants',
        response: envelope(
          Type.Object({ variants: Type.Record(Type.String(), VariantJson) }),
          'Every variant, by id.',
        ),
      },
    },
    async (req) => {
      const list = await ctx.variants.list(req.account.id);
      return ok({ variants: Object.fromEntries(list.map((v) => [v.id, toVariantJson(v)])) });
    },
  );

  // The schema checks the body's shape; the options themselves are parsed by transform/variant-options.ts.
  app.post(
    '/images/v1/variants',
    { schema: { tags, summary: 'Create a variant', body: VariantBody, response: one } },
    async (req) => {
      const v = await ctx.variants.create(req.account.id, req.body);
      return ok({ variant: toVariantJson(v) });
    },
  );

  app.get<{ Params: { variant_id: string } }>(
    '/images/v1/variants/:variant_id',
    { schema: { tags, summary: 'Variant details', params: VariantParams, response: one } },
    async (req) =>
      ok({ variant: toVariantJson(await ctx.variants.get(req.account.id, req.params.variant_id)) }),
  );

  app.patch<{ Params: { variant_id: string } }>(
    '/images/v1/variants/:variant_id',
    {
      schema: {
        tags,
        summary: 'Edit a variant',
        params: VariantParams,
        body: VariantPatchBody,
        response: one,
      },
    },
    async (req) => {
      const v = await ctx.variants.update(req.account.id, req.params.variant_id, req.body);
      return ok({ variant: toVariantJson(v) });
    },
  );

  app.delete<{ Params: { variant_id: string } }>(
    '/images/v1/variants/:variant_id',
    {
      schema: {
        tags,
        summary: 'Delete a variant',
        params: VariantParams,
        response: envelope(Type.Object({}), 'Deleted.'),
      },
    },
    async (req) => {
      await ctx.variants.delete(req.account.id, req.params.variant_id);
      return ok({});
    },
  );
};

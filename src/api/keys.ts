/** /images/v1/keys: signing keys for delivery URLs. Every call answers with all keys. */
import type { FastifyInstance } from 'fastify';
import type { SigningKey } from '../core/types.js';
import type { ApiContext } from './context.js';
import { ok } from './envelope.js';

const toJson = (keys: SigningKey[]) => ({ keys: keys.map((k) => ({ name: k.name, value: k.value })) });

export async function keysRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  app.get('/images/v1/keys', async (req) => ok(toJson(await ctx.keys.list(req.account.id))));

  app.put<{ Params: { name: string } }>('/images/v1/keys/:name', async (req) =>
    ok(toJson(await ctx.keys.put(req.account.id, req.params.name))),
  );

  app.delete<{ Params: { name: string } }>('/images/v1/keys/:name', async (req) =>
    ok(toJson(await ctx.keys.delete(req.account.id, req.params.name))),
  );
}

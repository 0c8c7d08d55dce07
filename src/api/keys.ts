/** /images/v1/keys: signing keys for delivery URLs. Every call answers with all keys. */
import type { FastifyInstance } from 'fastify';
import { appError } from '../core/errors.js';
import { invalid, is } from '../core/check.js';
import type { SigningKey } from '../core/types.js';
import type { ApiContext } from './context.js';
import { ok } from './envelope.js';

const toJson = (keys: SigningKey[]) => ({ keys: keys.map((k) => ({ name: k.name, value: k.value })) });

export async function keysRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  app.get('/images/v1/keys', async (req) => ok(toJson(await ctx.keys.list(req.account.id))));

  // Pictor extension (docs/compat.md): a JSON body {"value": "<secret>"} sets the key's value.
  app.put<{ Params: { name: string } }>('/images/v1/keys/:name', async (req) =>
    ok(toJson(await ctx.keys.put(req.account.id, req.params.name, keyValue(req.body)))),
  );

  app.delete<{ Params: { name: string } }>('/images/v1/keys/:name', async (req) =>
    ok(toJson(await ctx.keys.delete(req.account.id, req.params.name))),
  );
}

/** The optional `value` of a PUT body; no body (Cloudflare's form) or `{}` gives a random value. */
function keyValue(body: unknown): string | undefined {
  if (body === undefined || body === null || body === '') return undefined;
  if (!is.plainObject(body)) throw appError('badRequest', invalid('body', 'JSON object', body));
  if (body.value === undefined) return undefined;
  if (typeof body.value !== 'string') throw appError('badRequest', invalid('value', 'string', body.value));
  return body.value;
}

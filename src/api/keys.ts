/** /images/v1/keys: signing keys for delivery URLs. Every call answers with all keys. */
import type { FastifyPluginAsync } from 'fastify';
import { appError } from '../core/errors.js';
import { invalid, is } from '../core/check.js';
import type { SigningKey } from '../core/types.js';
import type { ApiContext } from './context.js';
import { ok } from './envelope.js';
import { envelope, KeyParams, KeysJson } from './schemas.js';

const toJson = (keys: SigningKey[]) => ({ keys: keys.map((k) => ({ name: k.name, value: k.value })) });

const tags = ['signing keys'];
const keys = envelope(KeysJson, 'Every signing key of the account.');

export const keysRoutes: FastifyPluginAsync<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.get(
    '/images/v1/keys',
    { schema: { tags, summary: 'List signing keys', response: keys } },
    async (req) => ok(toJson(await ctx.keys.list(req.account.id))),
  );

  app.put<{ Params: { signing_key_name: string } }>(
    '/images/v1/keys/:signing_key_name',
    { schema: { tags, summary: 'Add a signing key (idempotent)', params: KeyParams, response: keys } },
    // Pictor extension (docs/compat.md): a JSON body {"value": "<secret>"} sets the key's value.
    async (req) =>
      ok(toJson(await ctx.keys.put(req.account.id, req.params.signing_key_name, keyValue(req.body)))),
  );

  app.delete<{ Params: { signing_key_name: string } }>(
    '/images/v1/keys/:signing_key_name',
    { schema: { tags, summary: 'Delete a signing key', params: KeyParams, response: keys } },
    async (req) => ok(toJson(await ctx.keys.delete(req.account.id, req.params.signing_key_name))),
  );
};

/** The optional `value` of a PUT body; no body (Cloudflare's form) or `{}` gives a random value. */
function keyValue(body: unknown): string | undefined {
  if (body === undefined || body === null || body === '') return undefined;
  if (!is.plainObject(body)) throw appError('badRequest', invalid('body', 'JSON object', body));
  if (body.value === undefined) return undefined;
  if (typeof body.value !== 'string') throw appError('badRequest', invalid('value', 'string', body.value));
  return body.value;
}

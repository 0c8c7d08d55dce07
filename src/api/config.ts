/** /images/v1/config: account settings (flexible variants, browser TTL); digest §2.14. A Pictor extension. */
import type { Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Account } from '../core/types.js';
import type { ApiContext } from './context.js';
import { ok } from './envelope.js';
import { ConfigBody, ConfigJson, envelope } from './schemas.js';

const toJson = (a: Account) => ({ flexible_variants: a.flexibleVariants, browser_ttl: a.browserTtl });

const tags = ['account settings'];
const config = envelope(ConfigJson, 'The settings.');

export const configRoutes: FastifyPluginAsync<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.get(
    '/images/v1/config',
    { schema: { tags, summary: 'Account settings', response: config } },
    async (req) => ok(toJson(req.account)),
  );

  app.patch<{ Body: Static<typeof ConfigBody> }>(
    '/images/v1/config',
    {
      schema: { tags, summary: 'Edit flexible_variants and browser_ttl', body: ConfigBody, response: config },
    },
    async (req) => {
      const patch: { flexibleVariants?: boolean; browserTtl?: number } = {};
      if (req.body.flexible_variants !== undefined) patch.flexibleVariants = req.body.flexible_variants;
      if (req.body.browser_ttl !== undefined) patch.browserTtl = req.body.browser_ttl;
      const updated = await ctx.accounts.updateSettings(req.account.id, patch);
      return ok(toJson(updated ?? req.account));
    },
  );
};

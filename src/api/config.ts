/** /images/v1/config: account settings (flexible variants, browser TTL); digest §2.14. */
import type { FastifyInstance } from 'fastify';
import { appError } from '../core/errors.js';
import { invalid, is } from '../core/check.js';
import type { Account } from '../core/types.js';
import { MAX_BROWSER_TTL, MIN_BROWSER_TTL } from '../transform/variant-options.js';
import type { ApiContext } from './context.js';
import { ok } from './envelope.js';

const toJson = (a: Account) => ({ flexible_variants: a.flexibleVariants, browser_ttl: a.browserTtl });

export async function configRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  app.get('/images/v1/config', async (req) => ok(toJson(req.account)));

  app.patch('/images/v1/config', async (req) => {
    const body = (req.body === undefined ? {} : req.body) as unknown;
    if (!is.plainObject(body)) throw appError('badRequest', invalid('body', 'JSON object', body));
    const patch: { flexibleVariants?: boolean; browserTtl?: number } = {};
    if (body.flexible_variants !== undefined) {
      if (typeof body.flexible_variants !== 'boolean') throw appError('badRequest', invalid('flexible_variants', 'boolean', body.flexible_variants));
      patch.flexibleVariants = body.flexible_variants;
    }
    if (body.browser_ttl !== undefined) {
      const t = body.browser_ttl;
      if (!is.integer(t) || !is.inRange(t, MIN_BROWSER_TTL, MAX_BROWSER_TTL)) {
        throw appError('badRequest', invalid('browser_ttl', `integer between ${MIN_BROWSER_TTL} and ${MAX_BROWSER_TTL}`, t));
      }
      patch.browserTtl = t;
    }
    const updated = await ctx.accounts.updateSettings(req.account.id, patch);
    return ok(toJson(updated ?? req.account));
  });
}

/**
 * Delivery routes: `/cdn-cgi/imagedelivery/<account_hash>/<image_id>/<variant>` and transformation
 * URLs `/cdn-cgi/image/<options>/<source>` (GET, HEAD, and an OPTIONS preflight). The bare
 * imagedelivery.net form reaches the same route through the server's URL rewrite for delivery hosts
 * and the delivery port. Every answer is written by `writeResponse`, as the fast path's are.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DeliveryContext } from './context.js';
import { deliver } from './handler.js';
import { head, writeResponse } from './respond.js';
import { TRANSFORM_PREFIX, transformUrl } from './transform-url.js';
import { CDN_PREFIX } from './url.js';

export type { DeliveryContext } from './context.js';
export { CDN_PREFIX } from './url.js';
export { TRANSFORM_PREFIX } from './transform-url.js';

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v.join(',') : v);

function common(req: FastifyRequest) {
  return {
    url: req.url,
    accept: req.headers.accept,
    ifNoneMatch: one(req.headers['if-none-match']),
    origin: req.headers.origin,
    log: req.log,
  };
}

export async function deliveryRoutes(app: FastifyInstance, ctx: DeliveryContext): Promise<void> {
  app.get(`${CDN_PREFIX}/*`, async (req, reply) => {
    const res = await deliver(ctx, common(req));
    reply.hijack();
    writeResponse(reply.raw, res, res.body, req.method);
  });

  app.get(`${TRANSFORM_PREFIX}/*`, async (req, reply) => {
    const res = await transformUrl(ctx, { ...common(req), via: one(req.headers.via) });
    reply.hijack();
    writeResponse(reply.raw, res, res.body, req.method);
  });

  for (const prefix of [CDN_PREFIX, TRANSFORM_PREFIX]) {
    app.options(`${prefix}/*`, async (req, reply) => {
      const h = head(
        { kind: 'preflight', requestHeaders: one(req.headers['access-control-request-headers']) },
        ctx.cors,
        req.headers.origin,
      );
      reply.hijack();
      writeResponse(reply.raw, h, '', req.method);
    });
  }
}

/**
 * Delivery routes: `/cdn-cgi/imagedelivery/<account_hash>/<image_id>/<variant>` (GET and HEAD). The
 * bare imagedelivery.net form reaches the same route through the server's URL rewrite for delivery
 * hosts and the delivery port.
 */
import type { FastifyInstance } from 'fastify';
import { deliver, type DeliveryContext } from './handler.js';
import { CDN_PREFIX } from './url.js';

export type { DeliveryContext } from './handler.js';
export { CDN_PREFIX } from './url.js';

export async function deliveryRoutes(app: FastifyInstance, ctx: DeliveryContext): Promise<void> {
  app.get(`${CDN_PREFIX}/*`, async (req, reply) => {
    const accept = req.headers.accept;
    const inm = req.headers['if-none-match'];
    const res = await deliver(ctx, { url: req.url, accept, ifNoneMatch: Array.isArray(inm) ? inm.join(',') : inm });
    return reply.code(res.status).headers(res.headers).send(res.body);
  });
}

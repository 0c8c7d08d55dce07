/**
 * The fast route for hot renditions: a request whose resolution is memoised and whose rendition is
 * in memory is answered straight on the raw Node response, before Fastify routes it. Anything else
 * (first request, signed image, disk tier, error) returns false and takes the full route.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { matchesEtag, renditionKey, type DeliveryContext, type Resolved } from './handler.js';

const HIT = { result: 'hit' } as const;

export function tryFastPath(ctx: DeliveryContext, url: string, req: IncomingMessage, res: ServerResponse): boolean {
  const method = req.method;
  if (method !== 'GET' && method !== 'HEAD') return false;
  const q = url.indexOf('?');
  const rawPath = q === -1 ? url : url.slice(0, q);
  const r = ctx.memo.get(rawPath, ctx.generation.value) as Resolved | undefined;
  if (!r) return false;
  const { digest, headers, flat } = renditionKey(r, req.headers.accept);
  const inm = req.headers['if-none-match'];
  if (inm !== undefined && matchesEtag(inm, headers.etag!)) {
    res.writeHead(304, flat);
    res.end();
    return true;
  }
  const hit = ctx.cache.peek(digest);
  if (!hit) return false;
  ctx.metrics.cache.inc(HIT);
  res.writeHead(200, [...flat, 'content-type', hit.contentType, 'content-length', String(hit.body.length), 'cf-cache-status', 'HIT']);
  res.end(method === 'HEAD' ? undefined : hit.body);
  return true;
}

/**
 * The fast route for hot renditions: a request whose resolution is memoised and whose rendition is
 * in memory is answered straight on the raw Node response, before Fastify routes it. Anything else
 * (first request, signed image, disk tier, error) returns false and takes the full route. The head
 * comes from the same `head()` as the full route's (kept whole per rendition by `hitHead()`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DeliveryContext } from './context.js';
import { matchesEtag, renditionKey, type Resolved } from './resolve.js';
import { head, hitHead, writeResponse } from './respond.js';

export function tryFastPath(
  ctx: DeliveryContext,
  url: string,
  req: IncomingMessage,
  res: ServerResponse,
  /** Echoed as `X-Request-Id` (server/observe.ts), in the one header array `writeHead` is given. */
  requestId?: string,
): boolean {
  const method = req.method;
  if (method !== 'GET' && method !== 'HEAD') return false;
  const q = url.indexOf('?');
  const rawPath = q === -1 ? url : url.slice(0, q);
  const r = ctx.memo.get(rawPath, ctx.generation.value) as Resolved | undefined;
  if (!r) return false;
  // One read of the lazy `headers` getter, not three.
  const headers = req.headers;
  const key = renditionKey(r, headers.accept);
  const origin = headers.origin;
  const inm = headers['if-none-match'];
  if (inm !== undefined && matchesEtag(inm, key.etag)) {
    const h = head({ kind: 'not-modified', key }, ctx.cors, origin);
    if (requestId !== undefined) h.headers.push('x-request-id', requestId);
    writeResponse(res, h, '', method);
    return true;
  }
  const hit = ctx.cache.peek(key.digest);
  if (!hit) return false;
  ctx.metrics.hit();
  const hot =
    requestId === undefined ? undefined : hitHead(key, hit.contentType, hit.body.length, ctx.cors, requestId);
  if (hot !== undefined) {
    writeResponse(res, hot, hit.body, method);
    return true;
  }
  const h = head(
    { kind: 'rendition', key, contentType: hit.contentType, length: hit.body.length, cache: 'HIT' },
    ctx.cors,
    origin,
  );
  if (requestId !== undefined) h.headers.push('x-request-id', requestId);
  writeResponse(res, h, hit.body, method);
  return true;
}

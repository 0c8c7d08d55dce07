/**
 * The fast route for hot renditions: a request whose resolution is memoised and whose rendition is
 * in memory is answered straight on the raw Node response, before Fastify routes it. Anything else
 * (first request, signed image, disk tier, error) returns false and takes the full route. The head
 * comes from the same `head()` as the full route's (kept whole per rendition by `hitHead()`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DeliveryContext } from './context.js';
import { matchesEtag, renditionKey, type Resolved } from './resolve.js';
import { type Head, head, hitHead, writeResponse } from './respond.js';

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
    writeResponse(res, withId(head({ kind: 'not-modified', key }, ctx.cors, origin), requestId), '', method);
    return true;
  }
  const hit = ctx.cache.peek(key.digest);
  if (!hit) return false;
  ctx.metrics.hit();
  // The head kept whole per rendition when it can be (any origin allowed, an id to echo); else built.
  const h =
    (requestId === undefined
      ? undefined
      : hitHead(key, hit.contentType, hit.body.length, ctx.cors, requestId)) ??
    withId(
      head(
        { kind: 'rendition', key, contentType: hit.contentType, length: hit.body.length, cache: 'HIT' },
        ctx.cors,
        origin,
      ),
      requestId,
    );
  writeResponse(res, h, hit.body, method);
  return true;
}

/** `h` with `X-Request-Id` last, when there is an id to echo. */
function withId(h: Head, requestId: string | undefined): Head {
  if (requestId !== undefined) h.headers.push('x-request-id', requestId);
  return h;
}

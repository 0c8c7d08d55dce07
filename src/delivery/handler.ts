/**
 * One delivery request, in three stages: resolve (resolve.ts: URL → account, image, options,
 * signature, memo), render (render.ts: cache, single-flight, gate, plan, transform) and respond
 * (respond.ts: the one head builder, shared with the fast path). Errors are short text bodies with
 * `Cf-Resized: err=<code>`, like Cloudflare's.
 */
import { AppError } from '../core/errors.js';
import type { DeliveryContext } from './context.js';
import { produceHosted, render } from './render.js';
import { matchesEtag, renditionKey, resolveMemoised } from './resolve.js';
import { errorResponse, head, toDeliveryError, type DeliveryLog, type DeliveryResponse } from './respond.js';
import { parseDeliveryUrl } from './url.js';

export type { DeliveryContext } from './context.js';
export type { DeliveryResponse } from './respond.js';

export interface DeliveryRequest {
  url: string;
  accept: string | undefined;
  ifNoneMatch: string | undefined;
  /** The request's Origin header (CORS). */
  origin?: string | undefined;
  log?: DeliveryLog | undefined;
}

/** Answers one delivery request; never throws. */
export async function deliver(ctx: DeliveryContext, req: DeliveryRequest): Promise<DeliveryResponse> {
  try {
    return await deliverOrThrow(ctx, req);
  } catch (e) {
    return errorResponse(
      toDeliveryError(e, req.log, () => ctx.metrics.rejected.inc()),
      ctx.cors,
      req.origin,
    );
  }
}

async function deliverOrThrow(ctx: DeliveryContext, req: DeliveryRequest): Promise<DeliveryResponse> {
  const path = parseDeliveryUrl(req.url);
  if (!path) throw new AppError('deliveryBadRequest');
  const r = await resolveMemoised(ctx, path);
  const key = renditionKey(r, req.accept);
  if (matchesEtag(req.ifNoneMatch, key.etag))
    return { ...head({ kind: 'not-modified', key }, ctx.cors, req.origin), body: '' };
  const { rendition, hit } = await render(ctx, key.digest, () =>
    produceHosted(ctx, r.image, r.options, req.accept),
  );
  const h = head(
    {
      kind: 'rendition',
      key,
      contentType: rendition.contentType,
      length: rendition.body.length,
      cache: hit ? 'HIT' : 'MISS',
    },
    ctx.cors,
    req.origin,
  );
  return { ...h, body: rendition.body };
}

/**
 * Respond: the one function that builds every delivery response head (a rendition's 200, its 304,
 * an error, a preflight, a redirect), used by the full route, the hot-rendition fast path and
 * transformation URLs alike, so their heads cannot drift apart. Also the mapping of any failure onto
 * a delivery error: an `AppError` as it is, a full gate as 9503, a plan error as 9401, a decode
 * failure as 9412, a backend outage as 503, and anything else logged with its stack and answered as
 * an internal error (never 9412).
 */
import type { ServerResponse } from 'node:http';
import { AppError, isAppError } from '../core/errors.js';
import { backendErrorName } from '../core/backend-errors.js';
import { GateFullError } from '../pipeline/gate.js';
import { isDecodeError, isPlanError } from '../pipeline/index.js';
import { SVG_CONTENT_SECURITY_POLICY } from '../security/svg-headers.js';

/** The Content-Security-Policy of every SVG Pictor serves (security/svg-headers.ts). */
export const SVG_CSP = SVG_CONTENT_SECURITY_POLICY;

/** Which origins get `Access-Control-Allow-Origin` (PICTOR_CORS_ORIGINS). */
export interface CorsPolicy {
  /** `*` for any origin; otherwise the listed origins, echoed back when they ask. */
  allow: '*' | ReadonlySet<string>;
}

export const ANY_ORIGIN: CorsPolicy = { allow: '*' };

/**
 * A CORS policy from the configured list (`['*']` or origins like `https://app.example`).
 * @example corsPolicy(['https://a.test', 'https://b.test'])
 */
export function corsPolicy(origins: readonly string[]): CorsPolicy {
  return origins.length === 0 || origins.includes('*') ? ANY_ORIGIN : { allow: new Set(origins) };
}

/** The validators and caching headers of one rendition (computed once per resolution and Accept class). */
export interface RenditionKey {
  /** sha256 of the cache key: the rendition cache's key. */
  digest: string;
  etag: string;
  cacheControl: string;
  /** Whether the rendition is an SVG (it then carries the CSP). */
  svg: boolean;
  /** The shared part of the head, built once by `head()` and reused. */
  base?: string[];
  /** A cached 200's whole head with a slot for the request id, built once by `hitHead()` and reused. */
  hit?: { contentType: string; length: number; head: Head };
}

export type HeadInput =
  | { kind: 'rendition'; key: RenditionKey; contentType: string; length: number; cache: 'HIT' | 'MISS' }
  | { kind: 'not-modified'; key: RenditionKey }
  | { kind: 'error'; error: AppError; length: number }
  | { kind: 'redirect'; location: string; error: AppError }
  | { kind: 'preflight'; requestHeaders: string | undefined };

export interface Head {
  status: number;
  /** Flat `[name, value, name, value, …]`: the cheapest form for `writeHead`. */
  headers: string[];
}

/** `Access-Control-Allow-Origin` (and `Vary: Origin` for a list) for one request's Origin. */
function cors(policy: CorsPolicy, origin: string | undefined, out: string[]): void {
  if (policy.allow === '*') {
    out.push('access-control-allow-origin', '*');
    return;
  }
  if (origin !== undefined && policy.allow.has(origin)) out.push('access-control-allow-origin', origin);
}

/** The part of a rendition's head shared by its 200 and 304. */
function base(key: RenditionKey, policy: CorsPolicy): string[] {
  if (key.base) return key.base;
  const h = [
    'etag',
    key.etag,
    'cache-control',
    key.cacheControl,
    'vary',
    policy.allow === '*' ? 'Accept' : 'Accept, Origin',
    'x-content-type-options',
    'nosniff',
  ];
  if (key.svg) h.push('content-security-policy', SVG_CSP);
  key.base = h;
  return h;
}

/**
 * Every delivery response head.
 * @example head({ kind: 'not-modified', key }, ANY_ORIGIN, undefined) // { status: 304, headers: ['etag', …] }
 */
export function head(input: HeadInput, policy: CorsPolicy, origin: string | undefined): Head {
  switch (input.kind) {
    case 'rendition': {
      // slice + push, not an array spread: this runs on every cached delivery.
      const h = base(input.key, policy).slice();
      h.push(
        'content-type',
        input.contentType,
        'content-length',
        String(input.length),
        'cf-cache-status',
        input.cache,
      );
      cors(policy, origin, h);
      return { status: 200, headers: h };
    }
    case 'not-modified': {
      const h = base(input.key, policy).slice();
      cors(policy, origin, h);
      return { status: 304, headers: h };
    }
    case 'error': {
      const e = input.error;
      const h = [
        'content-type',
        'text/plain; charset=utf-8',
        'content-length',
        String(input.length),
        'cf-resized',
        `err=${e.code}`,
        'cache-control',
        'no-store',
        'x-content-type-options',
        'nosniff',
      ];
      for (const [name, value] of Object.entries(e.headers)) h.push(name, value);
      if (policy.allow !== '*') h.push('vary', 'Origin');
      cors(policy, origin, h);
      return { status: e.status, headers: h };
    }
    case 'redirect': {
      // onerror=redirect: the failure is still named, as Cloudflare's Cf-Resized does.
      const h = [
        'location',
        input.location,
        'cf-resized',
        `err=${input.error.code}`,
        'cache-control',
        'no-store',
        'content-length',
        '0',
      ];
      cors(policy, origin, h);
      return { status: 302, headers: h };
    }
    case 'preflight': {
      const h = [
        'access-control-allow-methods',
        'GET, HEAD, OPTIONS',
        'access-control-max-age',
        '86400',
        'content-length',
        '0',
      ];
      if (input.requestHeaders) h.push('access-control-allow-headers', input.requestHeaders);
      if (policy.allow !== '*') h.push('vary', 'Origin');
      cors(policy, origin, h);
      return { status: 204, headers: h };
    }
  }
}

/**
 * The head of a rendition answered from memory, `X-Request-Id` last: `head()`'s head for it, built
 * once per rendition key (and content type and length) and then reused, only the id's slot written
 * again. On the fast path this replaced a copy of the shared part, six pushes and a number formatted
 * per request. The head is shared, so it is valid until the next call: `writeHead` serialises it
 * before it returns. Undefined unless any origin is allowed (a list's answer depends on the Origin).
 */
export function hitHead(
  key: RenditionKey,
  contentType: string,
  length: number,
  policy: CorsPolicy,
  requestId: string,
): Head | undefined {
  if (policy.allow !== '*') return undefined;
  let hit = key.hit;
  if (hit === undefined || hit.contentType !== contentType || hit.length !== length) {
    const h = head({ kind: 'rendition', key, contentType, length, cache: 'HIT' }, policy, undefined);
    h.headers.push('x-request-id', requestId);
    hit = { contentType, length, head: h };
    key.hit = hit;
  }
  const headers = hit.head.headers;
  headers[headers.length - 1] = requestId;
  return hit.head;
}

/** The short text body of a delivery error, as Cloudflare writes it. */
export function errorBody(e: AppError): string {
  return `ERROR ${e.code}: ${e.detail ?? e.spec.message}\n`;
}

/** A response: its head and its body. */
export interface DeliveryResponse {
  status: number;
  headers: string[];
  body: Buffer | string;
}

/** An error's full response. */
export function errorResponse(e: AppError, policy: CorsPolicy, origin: string | undefined): DeliveryResponse {
  const body = errorBody(e);
  const h = head({ kind: 'error', error: e, length: Buffer.byteLength(body) }, policy, origin);
  return { ...h, body };
}

/** Where delivery logs the failures it did not expect. */
export interface DeliveryLog {
  error(obj: object, msg: string): void;
}

/**
 * Any failure during a delivery as the error it is answered with. Only an `AppError`, a full gate, a
 * plan error, a decode failure and a backend outage have names; anything else is a bug or an
 * unexpected condition: it is logged with its stack and answered as an internal error.
 */
export function toDeliveryError(e: unknown, log: DeliveryLog | undefined, onBusy?: () => void): AppError {
  if (isAppError(e)) {
    if (e.status >= 500 && e.cause !== undefined) log?.error({ err: e.cause }, 'delivery failed');
    return e;
  }
  if (e instanceof GateFullError) {
    onBusy?.();
    return new AppError('busy');
  }
  if (isPlanError(e)) return new AppError('invalidResizing', { detail: e.message });
  if (isDecodeError(e)) return new AppError('unsupportedSource', { cause: e.cause });
  const backend = backendErrorName(e);
  if (backend) {
    log?.error({ err: e }, 'delivery failed: backend unavailable');
    return new AppError(backend, { cause: e });
  }
  log?.error({ err: e }, 'delivery failed with an unexpected error');
  return new AppError('internal', { cause: e });
}

/**
 * Writes a response on the raw Node response: the full route, the fast path and every other
 * delivery answer go through here, so what reaches the wire is `head()`'s head and nothing else.
 * The head and the body come apart (a `DeliveryResponse` is passed as both): on the fast path,
 * joining them into one object cost a quarter of the requests/s (an object spread per request).
 */
export function writeResponse(
  res: ServerResponse,
  h: Head,
  body: Buffer | string,
  method: string | undefined,
): void {
  res.writeHead(h.status, h.headers);
  res.end(method === 'HEAD' || h.status === 304 || h.status === 204 ? undefined : body);
}

/**
 * Fetches an image for upload by URL, safely: http and https only; basic auth from the URL honoured
 * (and dropped when a redirect leaves the origin); at most `maxRedirects` redirects, each checked
 * again; literal addresses checked before connecting and DNS answers checked by the lookup that the
 * connection uses; connect and total timeouts; the size cap applied while streaming.
 * Hand-written on node:http because fetch() (undici) offers no per-connection lookup hook in Node 20's
 * public API, and the guard must see the address actually connected to.
 *
 * `fetchOrigin` is the same fetch for transformation URLs: extra request headers (conditional
 * validators, `Via`), a check on every redirect target, a 304 answered as such, and the response
 * headers returned with the bytes.
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import ipaddr from 'ipaddr.js';
import {
  AddressRefusedError,
  guardedLookup,
  refusal,
  type AddressPolicy,
  type LookupFn,
} from './address-guard.js';

export interface FetchUrlOptions {
  policy: AddressPolicy;
  maxBytes: number;
  maxRedirects: number;
  connectTimeoutMs: number;
  totalTimeoutMs: number;
  /** DNS resolver (tests inject one); default node:dns lookup. */
  resolve?: LookupFn;
  /** Extra request headers (sent on every hop). */
  headers?: Record<string, string>;
  /** Why a redirect target may not be followed, or undefined when it may (checked on every hop). */
  checkRedirect?: (url: URL) => string | undefined;
  /** User-Agent of the requests. */
  userAgent?: string;
}

/** Why an origin failure happened, for callers that answer each differently (transformation URLs). */
export type OriginReason =
  | 'status'
  | 'timeout'
  | 'unreachable'
  | 'redirects'
  | 'redirect-invalid'
  | 'redirect-refused'
  | 'other';

export type FetchFailure =
  | { kind: 'refused'; message: string }
  | { kind: 'too-large'; message: string }
  | { kind: 'origin'; message: string; reason?: OriginReason; status?: number };

export class FetchUrlError extends Error {
  constructor(readonly failure: FetchFailure) {
    super(failure.message);
  }
}

export interface Fetched {
  data: Buffer;
  /** Last path segment of the final URL, or null. */
  filename: string | null;
}

function fail(kind: FetchFailure['kind'], message: string, reason?: OriginReason): never {
  throw new FetchUrlError(kind === 'origin' && reason ? { kind, message, reason } : { kind, message });
}

/** What one GET answered. */
type Hop =
  | { redirect: string }
  | { data: Buffer; headers: IncomingHttpHeaders }
  | { notModified: true; headers: IncomingHttpHeaders };

/** Checks scheme and literal host of one URL (before any connection). */
function checkTarget(url: URL, policy: AddressPolicy): void {
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    fail('refused', `Only http and https URLs can be fetched (received ${url.protocol.replace(':', '')})`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (ipaddr.isValid(host)) {
    const why = refusal(host, policy);
    if (why) fail('refused', `The URL's address is not allowed: ${why}`);
  }
}

function filenameOf(url: URL): string | null {
  const last = url.pathname.split('/').filter(Boolean).pop();
  if (!last) return null;
  try {
    return decodeURIComponent(last).slice(0, 255);
  } catch {
    return last.slice(0, 255);
  }
}

/** One GET; resolves with the response or a redirect target. */
function getOnce(
  url: URL,
  opts: FetchUrlOptions,
  signal: AbortSignal,
  auth: string | undefined,
): Promise<Hop> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(
      {
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        headers: {
          'user-agent': opts.userAgent ?? 'Pictor (+upload by URL)',
          accept: 'image/*,*/*;q=0.8',
          ...opts.headers,
        },
        ...(auth ? { auth } : {}),
        lookup: guardedLookup(opts.policy, opts.resolve),
        signal,
        agent: false,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && res.headers.location) {
          res.resume();
          return resolve({ redirect: res.headers.location });
        }
        if (status === 304) {
          res.resume();
          return resolve({ notModified: true, headers: res.headers });
        }
        if (status < 200 || status >= 300) {
          res.resume();
          return reject(
            new FetchUrlError({
              kind: 'origin',
              message: `The origin answered HTTP ${status}`,
              reason: 'status',
              status,
            }),
          );
        }
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > opts.maxBytes) {
          res.destroy();
          return reject(
            new FetchUrlError({
              kind: 'too-large',
              message: `The image at the URL is larger than ${opts.maxBytes} bytes`,
            }),
          );
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > opts.maxBytes) {
            res.destroy();
            reject(
              new FetchUrlError({
                kind: 'too-large',
                message: `The image at the URL is larger than ${opts.maxBytes} bytes`,
              }),
            );
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => resolve({ data: Buffer.concat(chunks), headers: res.headers }));
        res.on('error', reject);
      },
    );
    const connectTimer = setTimeout(
      () =>
        req.destroy(
          new FetchUrlError({
            kind: 'origin',
            message: `Connecting to ${url.host} timed out`,
            reason: 'timeout',
          }),
        ),
      opts.connectTimeoutMs,
    );
    req.on('socket', (socket) => {
      if (!socket.connecting) clearTimeout(connectTimer);
      socket.once('connect', () => clearTimeout(connectTimer));
    });
    req.on('close', () => clearTimeout(connectTimer));
    req.on('error', (err) => {
      clearTimeout(connectTimer);
      reject(err);
    });
    req.end();
  });
}

/** Maps low-level errors onto a failure that names the cause. */
function explain(err: unknown, url: URL, timedOut: boolean): FetchUrlError {
  if (err instanceof FetchUrlError) return err;
  if (err instanceof AddressRefusedError)
    return new FetchUrlError({ kind: 'refused', message: `The URL's address is not allowed: ${err.reason}` });
  if (timedOut)
    return new FetchUrlError({
      kind: 'origin',
      message: 'Fetching the URL took too long',
      reason: 'timeout',
    });
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return new FetchUrlError({
      kind: 'origin',
      message: `The host ${url.hostname} could not be resolved`,
      reason: 'unreachable',
    });
  if (code === 'ECONNREFUSED')
    return new FetchUrlError({
      kind: 'origin',
      message: `The origin ${url.host} refused the connection`,
      reason: 'unreachable',
    });
  if (code === 'ECONNRESET' || code === 'EPIPE')
    return new FetchUrlError({
      kind: 'origin',
      message: `The origin ${url.host} closed the connection`,
      reason: 'unreachable',
    });
  return new FetchUrlError({
    kind: 'origin',
    message: `Fetching the URL failed (${code ?? (err as Error).message})`,
    reason: 'other',
  });
}

/** What `fetchOrigin` answers: the bytes (200) or "not modified" (304), with the final URL and headers. */
export type OriginResponse =
  | { status: 200; data: Buffer; headers: IncomingHttpHeaders; url: URL }
  | { status: 304; headers: IncomingHttpHeaders; url: URL };

/**
 * Fetches `raw` with every rule above.
 * @example const { data, filename } = await fetchUrl('https://example.com/cat.jpg', opts);
 */
export async function fetchUrl(raw: string, opts: FetchUrlOptions): Promise<Fetched> {
  const got = await fetchOrigin(raw, opts);
  // Without conditional headers an origin has no reason to answer 304; treat one as a failure.
  if (got.status === 304)
    return fail('origin', 'The origin answered HTTP 304 to an unconditional request', 'status');
  return { data: got.data, filename: filenameOf(got.url) };
}

/**
 * Fetches `raw` with every rule above, plus `opts.headers` and `opts.checkRedirect`; a 304 resolves.
 * @example const got = await fetchOrigin('http://127.0.0.1:8080/a.png', { ...opts, headers: { 'if-none-match': '"x"' } });
 */
export async function fetchOrigin(raw: string, opts: FetchUrlOptions): Promise<OriginResponse> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fail('refused', 'The url field is not a valid URL');
  }
  const firstOrigin = url.origin;
  let auth: string | undefined;
  try {
    auth =
      url.username || url.password
        ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`
        : undefined;
  } catch {
    // WHATWG URL keeps a malformed escape such as `%zz` in the user info; decoding it throws URIError.
    return fail('refused', 'The url field is not a valid URL (malformed percent-escape in the user info)');
  }
  const controller = new AbortController();
  let timedOut = false;
  const total = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, opts.totalTimeoutMs);
  try {
    for (let hop = 0; ; hop++) {
      checkTarget(url, opts.policy);
      let got: Hop;
      try {
        got = await getOnce(url, opts, controller.signal, url.origin === firstOrigin ? auth : undefined);
      } catch (err) {
        throw explain(err, url, timedOut);
      }
      if ('data' in got) return { status: 200, data: got.data, headers: got.headers, url };
      if ('notModified' in got) return { status: 304, headers: got.headers, url };
      if (hop >= opts.maxRedirects)
        fail('origin', `The URL redirected more than ${opts.maxRedirects} times`, 'redirects');
      try {
        url = new URL(got.redirect, url);
      } catch {
        fail('origin', 'The origin redirected to an invalid URL', 'redirect-invalid');
      }
      const why = opts.checkRedirect?.(url);
      if (why)
        fail(
          'origin',
          `The origin redirected to ${url.origin}, which is not allowed: ${why}`,
          'redirect-refused',
        );
    }
  } finally {
    clearTimeout(total);
  }
}

/**
 * Fetches an image for upload by URL, safely: http and https only; basic auth from the URL honoured
 * (and dropped when a redirect leaves the origin); at most `maxRedirects` redirects, each checked
 * again; literal addresses checked before connecting and DNS answers checked by the lookup that the
 * connection uses; connect and total timeouts; the size cap applied while streaming.
 * Hand-written on node:http because fetch() (undici) offers no per-connection lookup hook in Node 20's
 * public API, and the guard must see the address actually connected to.
 */
import http from 'node:http';
import https from 'node:https';
import ipaddr from 'ipaddr.js';
import { AddressRefusedError, guardedLookup, refusal, type AddressPolicy, type LookupFn } from './address-guard.js';

export interface FetchUrlOptions {
  policy: AddressPolicy;
  maxBytes: number;
  maxRedirects: number;
  connectTimeoutMs: number;
  totalTimeoutMs: number;
  /** DNS resolver (tests inject one); default node:dns lookup. */
  resolve?: LookupFn;
}

export type FetchFailure =
  | { kind: 'refused'; message: string }
  | { kind: 'too-large'; message: string }
  | { kind: 'origin'; message: string };

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

function fail(kind: FetchFailure['kind'], message: string): never {
  throw new FetchUrlError({ kind, message });
}

/** Checks scheme and literal host of one URL (before any connection). */
function checkTarget(url: URL, policy: AddressPolicy): void {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail('refused', `Only http and https URLs can be fetched (received ${url.protocol.replace(':', '')})`);
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
function getOnce(url: URL, opts: FetchUrlOptions, signal: AbortSignal, auth: string | undefined): Promise<{ redirect: string } | { data: Buffer }> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(
      {
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        headers: { 'user-agent': 'Pictor (+upload by URL)', accept: 'image/*,*/*;q=0.8' },
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
        if (status < 200 || status >= 300) {
          res.resume();
          return reject(new FetchUrlError({ kind: 'origin', message: `The origin answered HTTP ${status}` }));
        }
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > opts.maxBytes) {
          res.destroy();
          return reject(new FetchUrlError({ kind: 'too-large', message: `The image at the URL is larger than ${opts.maxBytes} bytes` }));
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > opts.maxBytes) {
            res.destroy();
            reject(new FetchUrlError({ kind: 'too-large', message: `The image at the URL is larger than ${opts.maxBytes} bytes` }));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => resolve({ data: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    const connectTimer = setTimeout(() => req.destroy(new FetchUrlError({ kind: 'origin', message: `Connecting to ${url.host} timed out` })), opts.connectTimeoutMs);
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
  if (err instanceof AddressRefusedError) return new FetchUrlError({ kind: 'refused', message: `The URL's address is not allowed: ${err.reason}` });
  if (timedOut) return new FetchUrlError({ kind: 'origin', message: 'Fetching the URL took too long' });
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new FetchUrlError({ kind: 'origin', message: `The host ${url.hostname} could not be resolved` });
  if (code === 'ECONNREFUSED') return new FetchUrlError({ kind: 'origin', message: `The origin ${url.host} refused the connection` });
  if (code === 'ECONNRESET' || code === 'EPIPE') return new FetchUrlError({ kind: 'origin', message: `The origin ${url.host} closed the connection` });
  return new FetchUrlError({ kind: 'origin', message: `Fetching the URL failed (${code ?? (err as Error).message})` });
}

/**
 * Fetches `raw` with every rule above.
 * @example const { data, filename } = await fetchUrl('https://example.com/cat.jpg', opts);
 */
export async function fetchUrl(raw: string, opts: FetchUrlOptions): Promise<Fetched> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fail('refused', 'The url field is not a valid URL');
  }
  const firstOrigin = url.origin;
  let auth: string | undefined;
  try {
    auth = url.username || url.password ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` : undefined;
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
      let got;
      try {
        got = await getOnce(url, opts, controller.signal, url.origin === firstOrigin ? auth : undefined);
      } catch (err) {
        throw explain(err, url, timedOut);
      }
      if ('data' in got) return { data: got.data, filename: filenameOf(url) };
      if (hop >= opts.maxRedirects) fail('origin', `The URL redirected more than ${opts.maxRedirects} times`);
      try {
        url = new URL(got.redirect, url);
      } catch {
        fail('origin', 'The origin redirected to an invalid URL');
      }
    }
  } finally {
    clearTimeout(total);
  }
}

/**
 * One place every request passes, on the raw Node server (so the delivery fast path, which answers
 * before Fastify routes, is seen too): the request id (`X-Request-Id` when sent and sane, else a fresh
 * one in UUID form, kept in the request's `RequestMark`; the route echoes it in the response), the
 * HTTP metrics, the access log line, and the count of requests in flight that shutdown waits for.
 *
 * It runs on every cached delivery, so it allocates little: no header is set here (a `setHeader`
 * before the fast path's `writeHead(status, array)` sends Node down its slow path, every header
 * validated and copied again), times are `performance.now()` numbers, not BigInts, and a
 * connection's byte counts so far are properties on the socket rather than WeakMap entries.
 * What the route learns (its template, the account, the cache result) goes into one `RequestMark`
 * handed to the handler, not into properties added to the request: in a process as large as the
 * server, adding a property to an object per request took V8's slow path (a runtime call each), and
 * so did `once` (a bound function per request); a cached delivery adds no property at all.
 *
 * The access line carries the route TEMPLATE, never the URL: query strings hold signatures
 * (`?sig=`), and paths hold one-time upload ids. No header, no body field, no metadata is logged.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { statusClass, type ServerMetrics } from './metrics.js';

/** What the observer knows of one request: its id, and what the route fills in. */
export class RequestMark {
  /** The route template (set by the app's onRequest hook, or the fast path). */
  route: string | undefined = undefined;
  /** The account id in the path, when it is one. */
  account: string | undefined = undefined;
  /** `CF-Cache-Status` of an answer whose head `getHeader` cannot see (the fast path's `writeHead(array)`). */
  cache: string | undefined = undefined;
  constructor(readonly id: string) {}
}

/** Where a request that goes on to Fastify carries its mark (Fastify's hooks see only the request). */
const MARK = Symbol('pictor.mark');
type Marked = IncomingMessage & { [MARK]?: RequestMark };

/** Hands a request's mark on to the hooks that see only the request (the full route's). */
export function attachMark(req: IncomingMessage, mark: RequestMark): void {
  (req as Marked)[MARK] = mark;
}

/** The request's mark, once attached (undefined when no observer runs). */
export const markOf = (req: IncomingMessage): RequestMark | undefined => (req as Marked)[MARK];

/** Bytes read and written on a connection up to the end of its previous request. */
const READ_UP_TO = Symbol('pictor.readUpTo');
const WRITTEN_UP_TO = Symbol('pictor.writtenUpTo');
type Counted = IncomingMessage['socket'] & { [READ_UP_TO]?: number; [WRITTEN_UP_TO]?: number };

/** Routes probed by load balancers: their lines are logged at debug, not info. */
const QUIET = new Set(['/healthz', '/readyz']);
/** Upload routes (template → method) measured by pictor_upload_*. */
const UPLOADS = new Map([
  ['/client/v4/accounts/:account_id/images/v1', 'POST'],
  ['/upload/:hash/*', 'POST'],
]);
const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * A fresh request id in UUID form: a random v4 UUID's first 24 characters, drawn once per process,
 * then a 48-bit counter in hex. Unique across processes and restarts (74 random bits per process),
 * ordered within one. `randomUUID()` per request cost 1 µs of user CPU per cached delivery (its
 * string is built in 20 pieces, then flattened and validated as a header), 7% of the total.
 */
export function requestIds(): () => string {
  const prefix = randomUUID().slice(0, 24);
  let next = 0;
  return () => prefix + (next++).toString(16).padStart(12, '0');
}

export interface RequestObserver {
  /** Wraps the server's request handler, which is given the request's mark to fill in. */
  wrap(
    handler: (req: IncomingMessage, res: ServerResponse, mark: RequestMark) => void,
  ): (req: IncomingMessage, res: ServerResponse) => void;
  /** Requests that have arrived and not yet ended. */
  inFlight(): number;
}

export function createRequestObserver(opts: {
  metrics: ServerMetrics;
  accessLog: Logger | undefined;
}): RequestObserver {
  let inFlight = 0;
  const freshId = requestIds();
  // Bytes in and out are counted on the connection from where the previous request on it ended
  // (headers included): by the 'request' event the socket may already have read the whole body.
  const { metrics, accessLog } = opts;
  return {
    inFlight: () => inFlight,
    wrap: (handler) => (req, res) => {
      const started = performance.now();
      const sent = req.headers['x-request-id'];
      const id = typeof sent === 'string' && SANE_ID.test(sent) ? sent : freshId();
      const mark = new RequestMark(id);
      const socket = req.socket as Counted;
      inFlight++;
      // 'close' comes once per response: `on`, not `once` (which binds a wrapper per request).
      res.on('close', () => {
        inFlight--;
        const seconds = (performance.now() - started) / 1000;
        const route = mark.route ?? '(no route)';
        const method = req.method ?? 'GET';
        const status = res.statusCode;
        const completed = res.writableFinished;
        metrics.requests.record(route, method, completed ? statusClass(status) : 'aborted', seconds);
        const read = socket.bytesRead;
        const bytesIn = read - (socket[READ_UP_TO] ?? 0);
        socket[READ_UP_TO] = read;
        if (completed && status < 300 && UPLOADS.get(route) === method) {
          metrics.uploadBytes.observe(bytesIn);
          metrics.uploadSeconds.observe(seconds);
        }
        if (!accessLog) return;
        // Bytes out are for the access line only, and whether there is one is fixed for the
        // observer's life: without it, the socket's bytesWritten (a getter that sums the queued
        // writes, then a call into C++) is not read on every request.
        const written = socket.bytesWritten;
        const bytesOut = written - (socket[WRITTEN_UP_TO] ?? 0);
        socket[WRITTEN_UP_TO] = written;
        const cache = mark.cache ?? res.getHeader('cf-cache-status');
        const line = {
          reqId: id,
          method,
          route,
          status,
          ...(completed ? {} : { aborted: true }),
          ms: Math.round(seconds * 10_000) / 10,
          bytesIn,
          bytesOut,
          ...(mark.account ? { account: mark.account } : {}),
          ...(typeof cache === 'string' ? { cache } : {}),
        };
        if (QUIET.has(route)) accessLog.debug(line, 'request');
        else accessLog.info(line, 'request');
      });
      handler(req, res, mark);
    },
  };
}

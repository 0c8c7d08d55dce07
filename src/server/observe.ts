/**
 * One place every request passes, on the raw Node server (so the delivery fast path, which answers
 * before Fastify routes, is seen too): the request id (`X-Request-Id` when sent and sane, else a fresh
 * UUID; the route echoes it in the response, see `requestIdOf`), the HTTP metrics, the access log
 * line, and the count of requests in flight that shutdown waits for.
 *
 * It runs on every cached delivery, so it allocates little: no header is set here (a `setHeader`
 * before the fast path's `writeHead(status, array)` sends Node down its slow path, every header
 * validated and copied again), times are `performance.now()` numbers, not BigInts, and a
 * connection's byte counts so far are properties on the socket rather than WeakMap entries.
 *
 * The access line carries the route TEMPLATE, never the URL: query strings hold signatures
 * (`?sig=`), and paths hold one-time upload ids. No header, no body field, no metadata is logged.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { statusClass, type ServerMetrics } from './metrics.js';

/** Set on the raw request by the app's onRequest hook (route template, account id) or the fast path. */
export const ROUTE = Symbol('pictor.route');
export const ACCOUNT = Symbol('pictor.account');
export const REQUEST_ID = Symbol('pictor.requestId');
/** `CF-Cache-Status` of an answer whose head `getHeader` cannot see (the fast path's `writeHead(array)`). */
export const CACHE_STATUS = Symbol('pictor.cacheStatus');

type Marked = IncomingMessage & {
  [ROUTE]?: string;
  [ACCOUNT]?: string;
  [REQUEST_ID]?: string;
  [CACHE_STATUS]?: string;
};

/** The request's id, for the route to echo as `X-Request-Id` (undefined when no observer runs). */
export const requestIdOf = (req: IncomingMessage): string | undefined => (req as Marked)[REQUEST_ID];

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

export interface RequestObserver {
  /** Wraps the server's request handler. */
  wrap(
    handler: (req: IncomingMessage, res: ServerResponse) => void,
  ): (req: IncomingMessage, res: ServerResponse) => void;
  /** Requests that have arrived and not yet ended. */
  inFlight(): number;
}

export function createRequestObserver(opts: {
  metrics: ServerMetrics;
  accessLog: Logger | undefined;
}): RequestObserver {
  let inFlight = 0;
  // Bytes in and out are counted on the connection from where the previous request on it ended
  // (headers included): by the 'request' event the socket may already have read the whole body.
  const { metrics, accessLog } = opts;
  return {
    inFlight: () => inFlight,
    wrap: (handler) => (req, res) => {
      const started = performance.now();
      const sent = req.headers['x-request-id'];
      const id = typeof sent === 'string' && SANE_ID.test(sent) ? sent : randomUUID();
      (req as Marked)[REQUEST_ID] = id;
      const socket = req.socket as Counted;
      inFlight++;
      res.once('close', () => {
        inFlight--;
        const seconds = (performance.now() - started) / 1000;
        const marked = req as Marked;
        const route = marked[ROUTE] ?? '(no route)';
        const method = req.method ?? 'GET';
        const status = res.statusCode;
        const completed = res.writableFinished;
        metrics.requests.record(route, method, completed ? statusClass(status) : 'aborted', seconds);
        const bytesIn = socket.bytesRead - (socket[READ_UP_TO] ?? 0);
        const bytesOut = socket.bytesWritten - (socket[WRITTEN_UP_TO] ?? 0);
        socket[READ_UP_TO] = socket.bytesRead;
        socket[WRITTEN_UP_TO] = socket.bytesWritten;
        if (completed && status < 300 && UPLOADS.get(route) === method) {
          metrics.uploadBytes.observe(bytesIn);
          metrics.uploadSeconds.observe(seconds);
        }
        if (!accessLog) return;
        const cache = marked[CACHE_STATUS] ?? res.getHeader('cf-cache-status');
        const line = {
          reqId: id,
          method,
          route,
          status,
          ...(completed ? {} : { aborted: true }),
          ms: Math.round(seconds * 10_000) / 10,
          bytesIn,
          bytesOut,
          ...(marked[ACCOUNT] ? { account: marked[ACCOUNT] } : {}),
          ...(typeof cache === 'string' ? { cache } : {}),
        };
        if (QUIET.has(route)) accessLog.debug(line, 'request');
        else accessLog.info(line, 'request');
      });
      handler(req, res);
    },
  };
}

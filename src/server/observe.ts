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
import { type IncomingMessage, ServerResponse } from 'node:http';
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
  constructor(
    readonly id: string,
    /** `performance.now()` when the request arrived. */
    readonly started: number,
  ) {}
}

/** What the observer does once a response has closed (ended or aborted). */
type OnClosed = (mark: RequestMark, req: IncomingMessage, res: ServerResponse) => void;

/**
 * The server's response class when an observer runs (`createServer({ ServerResponse: ObservedResponse })`):
 * the request's mark and the observer's close handler sit on fields every response is created with,
 * and its 'close' is seen as it is emitted. `res.on('close', closure)` per request cost a closure
 * over the request's state, an `addListener` (a new key in the emitter's dictionary of events) and
 * a listener call. With this, the fast path's reused head (delivery/respond.ts `hitHead`) and the
 * request id from ready strings, a cached delivery took 22.6 instead of 22.9 ms of CPU per 1,000
 * (four alternating starts of each build; bench/README.md, benchmark 1).
 */
export class ObservedResponse<Req extends IncomingMessage = IncomingMessage> extends ServerResponse<Req> {
  observedAs: RequestMark | undefined = undefined;
  onClosed: OnClosed | undefined = undefined;

  // biome-ignore lint/suspicious/noExplicitAny: the signature of EventEmitter's own emit, which this overrides.
  override emit(event: string | symbol, ...args: any[]): boolean {
    // Node emits 'close' once per response (emitCloseNT, guarded by `_closed`), whether it ended or
    // the connection went first; the handler is cleared before it runs all the same.
    if (event === 'close' && this.onClosed !== undefined && this.observedAs !== undefined) {
      const onClosed = this.onClosed;
      this.onClosed = undefined;
      onClosed(this.observedAs, this.req, this);
    }
    return super.emit(event, ...args);
  }
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
/** The upload routes measured by pictor_upload_* (both POST): compared, not looked up in a Map (a hash per request). */
const UPLOAD_ROUTE = '/client/v4/accounts/:account_id/images/v1';
const DIRECT_UPLOAD_ROUTE = '/upload/:hash/*';
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
  let high = '';
  // The counter's top 9 hex digits change every 4,096 ids (the first id, 0, sets them); an id is then one concatenation of two
  // ready strings (no number formatting, no padding per request).
  return () => {
    const n = next++;
    const low = n % 4096;
    if (low === 0)
      high =
        prefix +
        Math.floor(n / 4096)
          .toString(16)
          .padStart(9, '0');
    return high + LOW_DIGITS[low]!;
  };
}

/** `000` … `fff`: the counter's low three hex digits. */
const LOW_DIGITS = Array.from({ length: 4096 }, (_, i) => i.toString(16).padStart(3, '0'));

export interface RequestObserver {
  /**
   * Wraps the server's request handler, which is given the request's mark to fill in. The server must
   * create its responses as `ObservedResponse`s (`createServer({ ServerResponse: ObservedResponse }, …)`).
   */
  wrap(
    handler: (req: IncomingMessage, res: ObservedResponse, mark: RequestMark) => void,
  ): (req: IncomingMessage, res: ObservedResponse) => void;
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
  const closed: OnClosed = (mark, req, res) => {
    inFlight--;
    const seconds = (performance.now() - mark.started) / 1000;
    const route = mark.route ?? '(no route)';
    const method = req.method ?? 'GET';
    const status = res.statusCode;
    const completed = res.writableFinished;
    metrics.requests.record(route, method, completed ? statusClass(status) : 'aborted', seconds);
    const socket = req.socket as Counted;
    const read = socket.bytesRead;
    const bytesIn = read - (socket[READ_UP_TO] ?? 0);
    socket[READ_UP_TO] = read;
    if (
      completed &&
      status < 300 &&
      method === 'POST' &&
      (route === UPLOAD_ROUTE || route === DIRECT_UPLOAD_ROUTE)
    ) {
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
      reqId: mark.id,
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
  };
  return {
    inFlight: () => inFlight,
    wrap: (handler) => (req, res) => {
      const started = performance.now();
      const sent = req.headers['x-request-id'];
      const id = typeof sent === 'string' && SANE_ID.test(sent) ? sent : freshId();
      const mark = new RequestMark(id, started);
      inFlight++;
      res.observedAs = mark;
      res.onClosed = closed;
      handler(req, res, mark);
    },
  };
}

/**
 * buildApp(deps): the Fastify instance with every route mounted, apart from `listen` so tests inject
 * requests in process. All errors leave through one handler as Cloudflare envelopes.
 */
import Fastify, {
  LogController,
  type FastifyReply,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
} from 'fastify';
import multipart from '@fastify/multipart';
import { AppError, appError, isAppError } from '../core/errors.js';
import { backendErrorName } from '../core/backend-errors.js';
import { jsonDepth, MAX_JSON_DEPTH } from '../core/check.js';
import { apiRoutes, type ApiContext } from '../api/index.js';
import { noRoute } from '../api/auth.js';
import { failure } from '../api/envelope.js';
import { JSON_NULL, SchemaValidationError, validatorCompiler } from '../api/validation.js';
import { CDN_PREFIX, deliveryRoutes, TRANSFORM_PREFIX, type DeliveryContext } from '../delivery/index.js';
import { errorResponse, writeResponse } from '../delivery/respond.js';
import { tryFastPath } from '../delivery/fast-path.js';
import { attachMark, markOf, ObservedResponse, type RequestMark, type RequestObserver } from './observe.js';
import { healthRoutes, type HealthDeps } from './health.js';
import { dashboardRoutes } from './dashboard.js';
import { createServer, STATUS_CODES, type IncomingMessage } from 'node:http';

/** Marks requests that arrive on the delivery port (see main.ts). */
export const DELIVERY_REQUEST = Symbol('pictor.delivery');

export interface AppDeps {
  api: ApiContext;
  delivery: DeliveryContext;
  /** Host names whose requests use the bare imagedelivery.net URL form. */
  deliveryHosts?: string[];
  logger?: FastifyBaseLogger | boolean;
  /** Request ids, access log and HTTP metrics (observe.ts); none in bare tests. */
  observer?: RequestObserver;
  /** /healthz and /readyz; not mounted when absent. */
  health?: HealthDeps;
  /** Shown by `/` and `/client/v4`. */
  version?: string;
}

/** Maps anything thrown by a route, a hook or Fastify itself onto the error catalogue. */
export function toAppError(err: FastifyError | Error): AppError {
  if (isAppError(err)) return err;
  // A route schema refused the request; the message is already the validation sentence.
  if (err instanceof SchemaValidationError) return new AppError('badRequest', { detail: err.message });
  const code = (err as FastifyError).code;
  const status = (err as FastifyError).statusCode ?? 500;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return appError('badRequest', 'Request body is too large');
  if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError)
    return appError('badRequest', 'Request body is not valid JSON');
  // A full disk (ENOSPC, EDQUOT, SQLITE_FULL, ...) is checked first: it answers 5540 wherever it surfaces.
  const backend = backendErrorName(err);
  if (backend) return new AppError(backend, { cause: err });
  if (status >= 400 && status < 500) return new AppError('badRequest', { detail: err.message, cause: err });
  return new AppError('internal', { cause: err });
}

/** The route template the fast path's answers are counted and logged under. */
const FAST_ROUTE = `${CDN_PREFIX}/*`;

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const deliveryHosts = new Set((deps.deliveryHosts ?? []).map((h) => h.toLowerCase()));
  /** The bare imagedelivery.net form (`/<hash>/<id>/<variant>`) on delivery hosts and the delivery port. */
  const effectiveUrl = (req: IncomingMessage): string => {
    const url = req.url ?? '/';
    const marked = (req as unknown as Record<symbol, boolean>)[DELIVERY_REQUEST] === true;
    if (!marked && deliveryHosts.size === 0) return url;
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    const bare = marked || deliveryHosts.has(host);
    return bare && !url.startsWith(`${CDN_PREFIX}/`) && !url.startsWith(`${TRANSFORM_PREFIX}/`)
      ? `${CDN_PREFIX}${url}`
      : url;
  };
  /** Delivery paths answer in the delivery error form (text body, `Cf-Resized`), never the API's JSON. */
  const isDeliveryPath = (url: string): boolean =>
    url.startsWith(`${CDN_PREFIX}/`) || url.startsWith(`${TRANSFORM_PREFIX}/`);
  const app = Fastify({
    loggerInstance: typeof deps.logger === 'object' ? deps.logger : undefined,
    logger: typeof deps.logger === 'boolean' ? deps.logger : undefined,
    // Custom ids may be up to 1,024 characters, percent-encoded up to three times that.
    routerOptions: { maxParamLength: 8192 },
    logController: new LogController({ disableRequestLogging: true }),
    rewriteUrl: (req) => effectiveUrl(req),
    genReqId: (req) => markOf(req)?.id ?? 'none',
    // Hot renditions are answered before routing (delivery/fast-path.ts); everything else goes to Fastify.
    serverFactory: (handler) => {
      const route = (req: IncomingMessage, res: Parameters<typeof handler>[1], mark?: RequestMark) => {
        const url = effectiveUrl(req);
        if (url.startsWith(`${CDN_PREFIX}/`) && tryFastPath(deps.delivery, url, req, res, mark?.id)) {
          if (mark) {
            mark.route = FAST_ROUTE;
            // Its head went to writeHead as an array, which getHeader does not see.
            if (res.statusCode === 200) mark.cache = 'HIT';
          }
          return;
        }
        if (mark) {
          attachMark(req, mark);
          res.setHeader('x-request-id', mark.id);
        }
        handler(req, res);
      };
      const server = deps.observer
        ? createServer({ ServerResponse: ObservedResponse }, deps.observer.wrap(route))
        : createServer(route);
      server.keepAliveTimeout = 72_000;
      return server;
    },
    // Requests Node's HTTP parser refuses (headers over the size limit, a malformed request line, a
    // client too slow) get the envelope too, written straight to the socket.
    clientErrorHandler: (err: NodeJS.ErrnoException, socket) => {
      if (err.code === 'ECONNRESET' || socket.destroyed) return;
      const e =
        err.code === 'HPE_HEADER_OVERFLOW'
          ? appError('invalidHeaders', 'Request headers are too large')
          : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? new AppError('uploadTooSlow')
            : appError('badRequest', 'Malformed HTTP request');
      // An answer to HEAD has no body (the parser's raw packet shows the method).
      const head = (err as { rawPacket?: Buffer }).rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD ';
      const body = head ? '' : JSON.stringify(failure(e));
      if (socket.writable) {
        socket.write(
          `HTTP/1.1 ${e.status} ${STATUS_CODES[e.status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
        );
      }
      socket.destroy(err);
    },
    // Errors Fastify raises before routing (a malformed percent-escape, say) get the envelope too.
    frameworkErrors: (err, req, reply) => {
      if (err.code === 'FST_ERR_BAD_URL' && isDeliveryPath(effectiveUrl(req.raw))) {
        const r = errorResponse(
          new AppError('deliveryBadRequest', {
            detail: 'Bad request: the URL has a malformed percent-escape',
          }),
          deps.delivery.cors,
          req.headers.origin,
        );
        reply.hijack();
        writeResponse(reply.raw, r, r.body, req.method);
        return;
      }
      const e = err.code === 'FST_ERR_BAD_URL' ? noRoute() : toAppError(err);
      void (reply as FastifyReply).status(e.status).headers(e.headers).send(failure(e));
    },
  });

  // The route template and account id, for the access log and metrics (observe.ts).
  app.addHook('onRequest', async (req) => {
    const mark = markOf(req.raw);
    if (!mark) return;
    mark.route = req.routeOptions.url;
    const account = (req.params as { account_id?: unknown } | undefined)?.account_id;
    if (typeof account === 'string' && /^[0-9a-f]{32}$/.test(account)) mark.account = account;
  });
  // A change is answered once every other process on the SQLite file sees it (core/generation.ts:
  // their probe of `data_version` is reused for a millisecond), so no request that follows the answer
  // is served a stale memoised resolution anywhere. Only answers within that millisecond of a change wait.
  app.addHook('onSend', (_req, _reply, payload, done) => {
    const visible = deps.delivery.generation.visibleElsewhere();
    if (!visible) return done(null, payload);
    void visible.then(() => done(null, payload));
  });
  app.setValidatorCompiler(validatorCompiler);
  await app.register(multipart);
  // Any other content type reaches the handler unread; the upload route then answers 5415.
  app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    // SDKs send DELETE and PUT without a body but sometimes with a JSON content type.
    if (body === '' || body === undefined) return done(null, undefined);
    // Depth is measured before parsing, so no recursive code ever walks a hostile body.
    if (jsonDepth(body as string) > MAX_JSON_DEPTH)
      return done(
        appError('badRequest', `Request body nests deeper than ${MAX_JSON_DEPTH} levels`),
        undefined,
      );
    json(req, body as string, (err, value) => done(err, value === null ? JSON_NULL : value));
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const e = toAppError(err);
    if (e.status >= 500) req.log.error({ err: e.cause ?? err }, 'request failed');
    return reply.code(e.status).headers(e.headers).send(failure(e));
  });
  app.setNotFoundHandler((_req, reply) => {
    const e = noRoute();
    return reply.code(e.status).send(failure(e));
  });

  if (deps.health) await healthRoutes(app, deps.health);
  // What `/` and `/client/v4` answer: where things are (H10 serves /docs, H13 /dashboard).
  const about = async () => ({
    name: 'pictor',
    ...(deps.version ? { version: deps.version } : {}),
    description: 'Self-hosted image service speaking the Cloudflare Images API',
    api: '/client/v4/accounts/{account_id}/images/v1',
    docs: '/docs',
    dashboard: '/dashboard',
    health: '/healthz',
    ready: '/readyz',
  });
  app.get('/', about);
  app.get('/client/v4', about);
  app.get('/client/v4/', about);
  await apiRoutes(app, deps.api);
  await deliveryRoutes(app, deps.delivery);
  await dashboardRoutes(app, { publicUrl: () => deps.api.publicUrl });
  return app;
}

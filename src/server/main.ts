/**
 * Starts the server: data dir check, compose, bootstrap, listen (API, optional delivery and metrics
 * ports), the banner on stderr; and `serveForever`, which drains and closes on SIGTERM/SIGINT within
 * PICTOR_SHUTDOWN_TIMEOUT.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import pino, { type Logger } from 'pino';
import { loadConfig, type Config } from '../config/index.js';
import { buildApp, DELIVERY_REQUEST } from './app.js';
import { bootstrap } from './bootstrap.js';
import { compose } from './compose.js';
import { collectGarbage } from '../services/gc.js';
import { systemClock } from '../core/clock.js';
import { createRequestObserver } from './observe.js';
import { listenError, prepareDataDir } from './startup.js';

export interface RunningServer {
  url: string;
  /** http://host:port of the bare-form delivery port, when configured. */
  deliveryUrl: string | undefined;
  /** http://host:port of the metrics endpoint (`/metrics`), when PICTOR_METRICS_PORT is set. */
  metricsUrl: string | undefined;
  /** Requests that have arrived and not yet ended. */
  inFlight(): number;
  /** Marks the node as draining: /readyz answers 503 from now on. */
  drain(): void;
  /**
   * Stops accepting, waits up to `timeoutMs` for in-flight requests, cuts the rest, closes the stores.
   * Resolves to how many requests were cut.
   */
  close(timeoutMs?: number): Promise<number>;
}

export interface StartOptions {
  /** No banner. */
  quiet?: boolean;
  /** Where log lines (the access log included) go; default stdout. */
  logStream?: NodeJS.WritableStream;
}

function packageVersion(): string {
  try {
    return (
      JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
    ).version;
  } catch {
    return 'unknown';
  }
}

const hostPort = (host: string, port: number) => `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

function listen(server: Server, port: number, host: string, setting: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: unknown) => reject(listenError(setting, host, port, e));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as { port: number }).port);
    });
  });
}

export async function startServer(
  config: Config = loadConfig(),
  opts: StartOptions = {},
): Promise<RunningServer> {
  const logger: Logger = opts.logStream
    ? pino({ level: config.logLevel }, opts.logStream)
    : pino({ level: config.logLevel });
  prepareDataDir(config.dataDir);
  const composition = await compose(config);
  let started = false;
  const servers: Server[] = [];
  try {
    const boot = await bootstrap(config, composition.api.accounts);
    let draining = false;
    const observer = createRequestObserver({
      metrics: composition.metrics,
      accessLog: config.accessLog ? logger : undefined,
    });
    const version = packageVersion();
    const app = await buildApp({
      api: composition.api,
      delivery: composition.delivery,
      logger,
      deliveryHosts: config.deliveryHosts,
      observer,
      version,
      health: {
        store: composition.store,
        blobs: composition.blobs,
        backends: { metadata: config.databaseUrl ? 'postgres' : 'sqlite', blobs: config.s3 ? 's3' : 'fs' },
        timeoutMs: config.readyTimeoutMs,
        draining: () => draining,
      },
    });
    try {
      await app.listen({ port: config.port, host: config.host });
    } catch (e) {
      await app.close().catch(() => undefined);
      throw listenError('PORT', config.host, config.port, e);
    }
    let deliveryUrl: string | undefined;
    if (config.deliveryPort !== undefined) {
      // The delivery port shares the app's request handler; requests are marked so rewriteUrl adds the prefix.
      const handler = app.server.listeners('request')[0] as (req: unknown, res: unknown) => void;
      const server = createServer((req, res) => {
        (req as unknown as Record<symbol, boolean>)[DELIVERY_REQUEST] = true;
        handler(req, res);
      });
      servers.push(server);
      deliveryUrl = hostPort(
        config.host,
        await listen(server, config.deliveryPort, config.host, 'PICTOR_DELIVERY_PORT'),
      );
    }
    let metricsUrl: string | undefined;
    if (config.metricsPort !== undefined) {
      const registry = composition.metrics.registry;
      const server = createServer((req, res) => {
        if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('metrics are at /metrics\n');
          return;
        }
        registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
          (err: unknown) => {
            logger.error({ err }, 'metrics collection failed');
            res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n');
          },
        );
      });
      servers.push(server);
      metricsUrl = hostPort(
        config.host,
        await listen(server, config.metricsPort, config.host, 'PICTOR_METRICS_PORT'),
      );
    }
    const port = (app.server.address() as { port: number }).port;
    const base = hostPort(config.host, port);
    if (!config.publicUrl) {
      const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
      composition.api.publicUrl = hostPort(host, port);
    }
    if (!opts.quiet) {
      const api = `${base}/client/v4/accounts/${boot.account.id}/images/v1`;
      // The banner goes to stderr (stdout carries the JSON log lines). A token appears only when this
      // start created it; otherwise the banner says where it comes from.
      const tokenLine = boot.tokenCreated
        ? `${boot.token}   (Images Read + Write, created now; kept in ${config.dataDir}/credentials.json)`
        : config.apiToken
          ? '(from PICTOR_API_TOKEN)'
          : `(in ${config.dataDir}/credentials.json)`;
      const shownToken = boot.tokenCreated ? boot.token : '<token>';
      process.stderr.write(
        [
          '',
          `Pictor ${version} is serving the Cloudflare Images API at ${base}/client/v4`,
          `  account id:   ${boot.account.id}${boot.created ? ' (created now)' : ''}`,
          `  account hash: ${boot.account.hash}`,
          `  API token:    ${tokenLine}`,
          `  data:         ${config.databaseUrl ? 'PostgreSQL' : 'SQLite'} metadata, ${config.s3 ? `S3 bucket ${config.s3.bucket}` : 'local'} blobs, ${config.dataDir}`,
          `  dashboard:    ${base}/dashboard/`,
          `  delivery:     ${composition.api.publicUrl}/cdn-cgi/imagedelivery/${boot.account.hash}/<image_id>/<variant>${deliveryUrl ? ` and ${deliveryUrl}/${boot.account.hash}/<image_id>/<variant>` : ''}`,
          `  health:       ${base}/healthz, ${base}/readyz`,
          `  metrics:      ${metricsUrl ? `${metricsUrl}/metrics` : 'off (set PICTOR_METRICS_PORT to serve them)'}`,
          '',
          'Upload an image:',
          `  curl -X POST ${api} -H 'Authorization: Bearer ${shownToken}' -F file=@./image.jpg`,
          '',
          '',
        ].join('\n'),
      );
    }
    logger.debug({ url: base }, 'listening');
    // Expired direct-upload drafts are swept at start and every minute.
    const sweep = () =>
      composition.api.directUploads
        .sweep()
        .catch((err: unknown) => logger.warn({ err }, 'draft sweep failed'));
    void sweep();
    const sweeper = setInterval(sweep, 60_000);
    sweeper.unref();
    // Orphan originals (a node killed between blob and row) are collected every hour.
    const gc = setInterval(() => {
      collectGarbage({ store: composition.store, blobs: composition.blobs, clock: systemClock }).catch(
        (err: unknown) => logger.warn({ err }, 'garbage collection failed'),
      );
    }, 3600_000);
    gc.unref();
    started = true;
    let closing: Promise<number> | undefined;
    return {
      url: base,
      deliveryUrl,
      metricsUrl,
      inFlight: () => observer.inFlight(),
      drain() {
        draining = true;
      },
      close(timeoutMs = config.shutdownTimeout * 1000) {
        closing ??= (async () => {
          draining = true;
          clearInterval(sweeper);
          clearInterval(gc);
          // Stop accepting and close idle keep-alive connections; requests in flight go on (Fastify
          // answers 503 to new requests on connections still open while it closes).
          for (const s of servers) {
            s.close();
            s.closeIdleConnections();
          }
          const appClosed = app.close();
          const deadline = Date.now() + timeoutMs;
          while (observer.inFlight() > 0 && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 25));
            for (const s of [app.server, ...servers]) s.closeIdleConnections();
          }
          const cut = observer.inFlight();
          if (cut > 0) for (const s of [app.server, ...servers]) s.closeAllConnections();
          await appClosed;
          await composition.close();
          return cut;
        })();
        return closing;
      },
    };
  } finally {
    if (!started) {
      for (const s of servers) s.close();
      await composition.close().catch(() => undefined);
    }
  }
}

/** Runs until SIGTERM or SIGINT, then drains within PICTOR_SHUTDOWN_TIMEOUT and exits (0, or 1 when requests were cut). */
export async function serveForever(): Promise<void> {
  const config = loadConfig();
  const server = await startServer(config);
  const log = pino({ level: config.logLevel });
  const stop = (signal: string) => {
    server.drain();
    const inFlight = server.inFlight();
    log.info(
      { signal, inFlight, timeoutSeconds: config.shutdownTimeout },
      'shutting down: no new connections, waiting for requests in flight',
    );
    process.stderr.write(
      `pictor: ${signal}: shutting down, ${inFlight} request(s) in flight, waiting up to ${config.shutdownTimeout} s\n`,
    );
    // A second signal, or the timeout and then some for closing the stores, ends it at once.
    const hard = setTimeout(
      () => {
        process.stderr.write('pictor: shutdown did not finish, exiting\n');
        process.exit(1);
      },
      config.shutdownTimeout * 1000 + 10_000,
    );
    hard.unref();
    server.close().then(
      (cut) => {
        if (cut > 0) {
          log.error({ cut }, 'shutdown timeout cut requests in flight');
          process.stderr.write(
            `pictor: PICTOR_SHUTDOWN_TIMEOUT (${config.shutdownTimeout} s) cut ${cut} request(s) in flight\n`,
          );
          process.exit(1);
        }
        process.stderr.write('pictor: stopped cleanly\n');
        process.exit(0);
      },
      (e: unknown) => {
        process.stderr.write(`pictor: shutdown failed: ${String(e)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

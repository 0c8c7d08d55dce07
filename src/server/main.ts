/**
 * Starts the server: data dir check, compose, bootstrap, listen (API, optional delivery and metrics
 * ports), the banner on stderr; and `serveForever`, which drains and closes on SIGTERM/SIGINT within
 * PICTOR_SHUTDOWN_TIMEOUT.
 */
import cluster from 'node:cluster';
import { createServer, type Server } from 'node:http';
import pino, { type Logger } from 'pino';
import type { Registry } from 'prom-client';
import { loadConfig, type Config } from '../config/index.js';
import { buildApp, DELIVERY_REQUEST } from './app.js';
import { bootstrap } from './bootstrap.js';
import { compose } from './compose.js';
import { collectGarbage } from '../services/gc.js';
import { systemClock } from '../core/clock.js';
import { createRequestObserver } from './observe.js';
import { listen, listenError, prepareDataDir } from './startup.js';
import { hostPort, packageVersion, printBanner } from './banner.js';
import { startCluster } from './cluster.js';
import { createMetricsServer } from './metrics.js';
import { keepTickShape } from './tick-shape.js';

export interface RunningServer {
  url: string;
  /** http://host:port of the bare-form delivery port, when configured. */
  deliveryUrl: string | undefined;
  /** http://host:port of the metrics endpoint (`/metrics`), when PICTOR_METRICS_PORT is set. */
  metricsUrl: string | undefined;
  /** Requests that have arrived and not yet ended (with several processes: as last counted). */
  inFlight(): number;
  /** Requests that have arrived and not yet ended, counted now (across every process). */
  countInFlight(): Promise<number>;
  /** With PICTOR_PROCESSES > 1: the pids of the worker processes serving now; [] otherwise. */
  workers(): number[];
  /** This process's metrics registry (undefined in a primary, which only adds up its workers'). */
  registry: Registry | undefined;
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
  /**
   * Set in a cluster worker (cluster.ts): no bootstrap (the primary ran it before forking) and no
   * metrics port (the primary serves every worker's series on it); `processes` feeds /readyz.
   */
  worker?: { processes(): { up: number; wanted: number } };
}

export async function startServer(
  config: Config = loadConfig(),
  opts: StartOptions = {},
): Promise<RunningServer> {
  // Several processes: this one becomes the primary, which forks the workers (each of which comes
  // back here with `opts.worker`).
  if (config.processes > 1 && !opts.worker && cluster.isPrimary) return startCluster(config, opts);
  keepTickShape();
  const logger: Logger = opts.logStream
    ? pino({ level: config.logLevel }, opts.logStream)
    : pino({ level: config.logLevel });
  prepareDataDir(config.dataDir);
  const composition = await compose(config);
  let started = false;
  const servers: Server[] = [];
  try {
    const boot = opts.worker ? undefined : await bootstrap(config, composition.api.accounts);
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
        processes: opts.worker?.processes,
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
    if (config.metricsPort !== undefined && !opts.worker) {
      const registry = composition.metrics.registry;
      const server = createMetricsServer(() => registry.metrics(), registry.contentType, logger);
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
    if (!opts.quiet && boot) {
      printBanner({
        config,
        boot,
        version,
        base,
        publicUrl: composition.api.publicUrl,
        deliveryUrl,
        metricsUrl,
      });
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
      countInFlight: async () => observer.inFlight(),
      workers: () => [],
      registry: composition.metrics.registry,
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
  const stop = async (signal: string) => {
    server.drain();
    const inFlight = await server.countInFlight();
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
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

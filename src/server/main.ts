/** Starts the server: compose, bootstrap, listen, and close gracefully on SIGTERM/SIGINT. */
import { createServer, type Server } from 'node:http';
import pino from 'pino';
import { loadConfig, type Config } from '../config/index.js';
import { buildApp, DELIVERY_REQUEST } from './app.js';
import { bootstrap } from './bootstrap.js';
import { compose } from './compose.js';
import { collectGarbage } from '../services/gc.js';
import { systemClock } from '../core/clock.js';

export interface RunningServer {
  url: string;
  /** http://host:port of the bare-form delivery port, when configured. */
  deliveryUrl: string | undefined;
  close(): Promise<void>;
}

export async function startServer(config: Config = loadConfig(), opts: { quiet?: boolean } = {}): Promise<RunningServer> {
  const logger = pino({ level: config.logLevel });
  const composition = await compose(config);
  const boot = await bootstrap(config, composition.api.accounts);
  const app = await buildApp({ api: composition.api, delivery: composition.delivery, logger, deliveryHosts: config.deliveryHosts });
  const address = await app.listen({ port: config.port, host: config.host });
  let deliveryServer: Server | undefined;
  let deliveryUrl: string | undefined;
  if (config.deliveryPort !== undefined) {
    // The delivery port shares the app's request handler; requests are marked so rewriteUrl adds the prefix.
    const handler = app.server.listeners('request')[0] as (req: unknown, res: unknown) => void;
    deliveryServer = createServer((req, res) => {
      (req as unknown as Record<symbol, boolean>)[DELIVERY_REQUEST] = true;
      handler(req, res);
    });
    const server = deliveryServer;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.deliveryPort, config.host, () => resolve());
    });
    deliveryUrl = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${(server.address() as { port: number }).port}`;
  }
  const port = (app.server.address() as { port: number }).port;
  const base = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  if (!config.publicUrl) {
    const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    composition.api.publicUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  }
  if (!opts.quiet) {
    const api = `${base}/client/v4/accounts/${boot.account.id}/images/v1`;
    process.stdout.write(
      [
        '',
        `Pictor is serving the Cloudflare Images API at ${base}/client/v4`,
        `  account id:   ${boot.account.id}${boot.created ? ' (created now)' : ''}`,
        `  account hash: ${boot.account.hash}`,
        `  API token:    ${boot.token}   (Images Read + Write)`,
        `  data:         ${config.dataDir}`,
        `  dashboard:    ${base}/dashboard/`,
        `  delivery:     ${composition.api.publicUrl}/cdn-cgi/imagedelivery/${boot.account.hash}/<image_id>/<variant>${deliveryUrl ? ` and ${deliveryUrl}/${boot.account.hash}/<image_id>/<variant>` : ''}`,
        '',
        'Upload an image:',
        `  curl -X POST ${api} -H 'Authorization: Bearer ${boot.token}' -F file=@./image.jpg`,
        '',
      ].join('\n') + '\n',
    );
  }
  logger.debug({ address }, 'listening');
  // Expired direct-upload drafts are swept at start and every minute.
  const sweep = () => composition.api.directUploads.sweep().catch((err: unknown) => logger.warn({ err }, 'draft sweep failed'));
  void sweep();
  const sweeper = setInterval(sweep, 60_000);
  sweeper.unref();
  // Orphan originals (a node killed between blob and row) are collected every hour.
  const gc = setInterval(() => {
    collectGarbage({ store: composition.store, blobs: composition.blobs, clock: systemClock }).catch((err: unknown) =>
      logger.warn({ err }, 'garbage collection failed'),
    );
  }, 3600_000);
  gc.unref();
  let closing: Promise<void> | undefined;
  return {
    url: base,
    deliveryUrl,
    close() {
      closing ??= (async () => {
        clearInterval(sweeper);
        clearInterval(gc);
        if (deliveryServer) {
          const server = deliveryServer;
          await new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          });
        }
        await app.close();
        await composition.close();
      })();
      return closing;
    },
  };
}

/** Runs until SIGTERM or SIGINT, then stops accepting, finishes in-flight requests and exits. */
export async function serveForever(): Promise<void> {
  const server = await startServer();
  const stop = (signal: string) => {
    process.stdout.write(`${signal}: shutting down\n`);
    const timer = setTimeout(() => process.exit(1), 10_000);
    timer.unref();
    server.close().then(
      () => process.exit(0),
      (e) => {
        process.stderr.write(`shutdown failed: ${String(e)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

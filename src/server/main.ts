/** Starts the server: compose, bootstrap, listen, and close gracefully on SIGTERM/SIGINT. */
import pino from 'pino';
import { loadConfig, type Config } from '../config/index.js';
import { buildApp } from './app.js';
import { bootstrap } from './bootstrap.js';
import { compose } from './compose.js';

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

export async function startServer(config: Config = loadConfig(), opts: { quiet?: boolean } = {}): Promise<RunningServer> {
  const logger = pino({ level: config.logLevel });
  const composition = await compose(config);
  const boot = await bootstrap(config, composition.api.accounts);
  const app = await buildApp({ api: composition.api, logger });
  const address = await app.listen({ port: config.port, host: config.host });
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
        '',
        'Upload an image:',
        `  curl -X POST ${api} -H 'Authorization: Bearer ${boot.token}' -F file=@./image.jpg`,
        '',
      ].join('\n') + '\n',
    );
  }
  logger.debug({ address }, 'listening');
  let closing: Promise<void> | undefined;
  return {
    url: base,
    close() {
      closing ??= (async () => {
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

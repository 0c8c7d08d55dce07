/** The start banner (stderr), the package version and the URL of a listening address. */
import { readFileSync } from 'node:fs';
import type { Config } from '../config/index.js';
import type { Bootstrapped } from './bootstrap.js';

export function packageVersion(): string {
  try {
    return (
      JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
    ).version;
  } catch {
    return 'unknown';
  }
}

export const hostPort = (host: string, port: number) =>
  `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

export interface BannerFacts {
  config: Config;
  boot: Bootstrapped;
  version: string;
  /** http://host:port of the API port. */
  base: string;
  publicUrl: string;
  deliveryUrl: string | undefined;
  metricsUrl: string | undefined;
  /** With PICTOR_PROCESSES > 1: how many worker processes serve. */
  processes?: number;
}

export function printBanner(f: BannerFacts): void {
  const { config, boot, base } = f;
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
      `Pictor ${f.version} is serving the Cloudflare Images API at ${base}/client/v4`,
      `  account id:   ${boot.account.id}${boot.created ? ' (created now)' : ''}`,
      `  account hash: ${boot.account.hash}`,
      `  API token:    ${tokenLine}`,
      `  data:         ${config.databaseUrl ? 'PostgreSQL' : 'SQLite'} metadata, ${config.s3 ? `S3 bucket ${config.s3.bucket}` : 'local'} blobs, ${config.dataDir}`,
      `  processes:    ${f.processes ? `${f.processes} workers (PICTOR_PROCESSES) under primary ${process.pid}` : `1 (pid ${process.pid})`}`,
      `  dashboard:    ${base}/dashboard/`,
      `  delivery:     ${f.publicUrl}/cdn-cgi/imagedelivery/${boot.account.hash}/<image_id>/<variant>${f.deliveryUrl ? ` and ${f.deliveryUrl}/${boot.account.hash}/<image_id>/<variant>` : ''}`,
      `  health:       ${base}/healthz, ${base}/readyz`,
      `  metrics:      ${f.metricsUrl ? `${f.metricsUrl}/metrics` : 'off (set PICTOR_METRICS_PORT to serve them)'}`,
      '',
      'Upload an image:',
      `  curl -X POST ${api} -H 'Authorization: Bearer ${shownToken}' -F file=@./image.jpg`,
      '',
      '',
    ].join('\n'),
  );
}

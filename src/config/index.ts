/**
 * The only reader of `process.env`. Each setting is a descriptor (name, default, format, parser);
 * `loadConfig(env)` parses them all and `validate()` fails fast with a sentence naming the variable.
 * docs/config.md is generated from `descriptors`.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import ipaddr from 'ipaddr.js';
import {
  MAX_TRANSFORM_SOURCE_BYTES,
  MAX_UPLOAD_BYTES,
  MAX_UPLOAD_BYTES_CEILING,
  MAX_VARIANTS,
} from '../core/limits.js';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** Base of the delivery URLs handed out; undefined: http://<host>:<listening port>. */
  publicUrl: string | undefined;
  accountId: string | undefined;
  accountHash: string | undefined;
  apiToken: string | undefined;
  authEmail: string | undefined;
  authKey: string | undefined;
  imageAllowance: number;
  maxUploadBytes: number;
  maxVariants: number;
  logLevel: string;
  /** Image-work slots (concurrent sharp jobs). */
  workerSlots: number;
  /** Requests that may wait for a slot before delivery answers 503. */
  queueLimit: number;
  /** Memory for hot renditions, in MiB. */
  cacheMemoryMb: number;
  /** Seconds before a transform is abandoned. */
  transformTimeout: number;
  /** Port serving the bare imagedelivery.net URL form; undefined: none. */
  deliveryPort: number | undefined;
  /** Host names on the main port that serve the bare imagedelivery.net URL form. */
  deliveryHosts: string[];
  /** Base of one-time upload URLs; undefined: `<public URL>/upload`. */
  uploadUrl: string | undefined;
  /** CIDRs that upload by URL may reach although they are not public (trusted internal origins). */
  urlAllowlist: string[];
  /** Upload by URL: connect and total timeouts (ms). */
  urlConnectTimeoutMs: number;
  urlTotalTimeoutMs: number;
  /** Origins that get `Access-Control-Allow-Origin` on delivery responses; `['*']`: any. */
  corsOrigins: string[];
  /** Transformation URLs: the origin relative sources are fetched from; undefined: no path form. */
  transformOrigin: string | undefined;
  /** Transformation URLs: origins absolute sources may come from. */
  transformSources: string[];
  /** Transformation URLs: largest source fetched, in bytes. */
  transformMaxBytes: number;
  /** postgres:// URL of the shared metadata database; undefined: embedded SQLite. */
  databaseUrl: string | undefined;
  /** PostgreSQL schema holding Pictor's tables. */
  databaseSchema: string;
  /** postgres:// URL for the change-listening connection; undefined: DATABASE_URL. */
  databaseListenUrl: string | undefined;
  /** S3-compatible blob storage; undefined: local files in PICTOR_DATA_DIR. */
  s3: S3Config | undefined;
  /** Port of the Prometheus `/metrics` endpoint; undefined: no metrics endpoint. */
  metricsPort: number | undefined;
  /** One JSON line per request on stdout. */
  accessLog: boolean;
  /** Seconds shutdown waits for in-flight requests before cutting them. */
  shutdownTimeout: number;
  /** Milliseconds each /readyz probe may take. */
  readyTimeoutMs: number;
  /** Server processes on this node (node:cluster workers sharing the ports); 1: a single process. */
  processes: number;
  /** Milliseconds one check for other processes' commits to the SQLite file is reused (core/generation.ts). */
  changeWindowMs: number;
}

export interface S3Config {
  endpoint: string | undefined;
  bucket: string;
  region: string;
  accessKeyId: string | undefined;
  secretAccessKey: string | undefined;
  forcePathStyle: boolean;
  prefix: string;
}

interface Descriptor<K extends keyof Config> {
  key: K;
  env: string;
  format: string;
  description: string;
  /** Default as written in the docs. */
  defaultText: string;
  parse(
    raw: string | undefined,
    partial: Partial<Config>,
    env: Record<string, string | undefined>,
  ): Config[K];
}

class ConfigError extends Error {}

function intIn(name: string, min: number, max: number, fallback: number) {
  return (raw: string | undefined): number => {
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new ConfigError(
        `invalid ${name} value (format: integer ${min}..${max}): ${raw}, see docs/config.md#${name}`,
      );
    }
    return n;
  };
}

const optional = (raw: string | undefined): string | undefined =>
  raw === undefined || raw === '' ? undefined : raw;

/** An optional http(s) base URL, returned without trailing slashes. */
function httpBase(name: string) {
  return (raw: string | undefined): string | undefined => {
    const v = optional(raw);
    if (v === undefined) return undefined;
    let u: URL | undefined;
    try {
      u = new URL(v);
    } catch {
      u = undefined;
    }
    if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) {
      throw new ConfigError(`invalid ${name} value (format: http(s) URL): ${v}, see docs/config.md#${name}`);
    }
    return v.replace(/\/+$/, '');
  };
}

/** An http(s) origin (`scheme://host[:port]`, nothing after it), normalised as URL.origin writes it. */
function origin(name: string, v: string): string {
  let u: URL | undefined;
  try {
    u = new URL(v);
  } catch {
    u = undefined;
  }
  if (
    !u ||
    (u.protocol !== 'http:' && u.protocol !== 'https:') ||
    (u.pathname !== '/' && u.pathname !== '') ||
    u.search ||
    u.hash ||
    u.username
  ) {
    throw new ConfigError(
      `invalid ${name} value (format: http(s)://host[:port], no path): ${v}, see docs/config.md#${name}`,
    );
  }
  return u.origin;
}

function originList(name: string) {
  return (raw: string | undefined): string[] =>
    (optional(raw) ?? '')
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean)
      .map((e) => origin(name, e));
}

function d<K extends keyof Config>(x: Descriptor<K>): Descriptor<K> {
  return x;
}

/** Every setting, in the order docs/config.md lists them. */
export const descriptors = [
  d({
    key: 'port',
    env: 'PORT',
    format: 'integer 0..65535',
    defaultText: '8787',
    description: 'Port of the API and /cdn-cgi/imagedelivery delivery.',
    parse: intIn('PORT', 0, 65535, 8787),
  }),
  d({
    key: 'host',
    env: 'HOST',
    format: 'host or IP',
    defaultText: '127.0.0.1',
    description: 'Address to listen on.',
    parse: (r) => optional(r) ?? '127.0.0.1',
  }),
  d({
    key: 'dataDir',
    env: 'PICTOR_DATA_DIR',
    format: 'path',
    defaultText: './data',
    description: 'Where the embedded SQLite database and blob files live.',
    parse: (r) => resolve(optional(r) ?? './data'),
  }),
  d({
    key: 'publicUrl',
    env: 'PICTOR_PUBLIC_URL',
    format: 'http(s) URL without trailing slash',
    defaultText: 'http://<HOST>:<PORT>',
    description:
      'Base of the delivery URLs in Image objects (`<base>/cdn-cgi/imagedelivery/<hash>/<id>/<variant>`).',
    parse: httpBase('PICTOR_PUBLIC_URL'),
  }),
  d({
    key: 'accountId',
    env: 'PICTOR_ACCOUNT_ID',
    format: '32 lowercase hex characters',
    defaultText: '(generated on first start)',
    description: 'A known account id; created on start when missing.',
    parse: (r) => {
      const v = optional(r);
      if (v !== undefined && !/^[0-9a-f]{32}$/.test(v)) {
        throw new ConfigError(
          `invalid PICTOR_ACCOUNT_ID value (format: 32 lowercase hex characters): ${v}, see docs/config.md#PICTOR_ACCOUNT_ID`,
        );
      }
      return v;
    },
  }),
  d({
    key: 'accountHash',
    env: 'PICTOR_ACCOUNT_HASH',
    format: '22 characters of A-Z a-z 0-9 _ -',
    defaultText: '(generated)',
    description:
      "Hash (delivery URLs) of the account created on first start; give the source account's hash when " +
      'migrating so its delivery URLs keep working. Ignored once the account exists.',
    parse: (r) => {
      const v = optional(r);
      if (v !== undefined && !/^[A-Za-z0-9_-]{22}$/.test(v)) {
        throw new ConfigError(
          `invalid PICTOR_ACCOUNT_HASH value (format: 22 characters of A-Z a-z 0-9 _ -): ${v}, see docs/config.md#PICTOR_ACCOUNT_HASH`,
        );
      }
      return v;
    },
  }),
  d({
    key: 'apiToken',
    env: 'PICTOR_API_TOKEN',
    format: '20..200 characters of A-Z a-z 0-9 _ -',
    defaultText: '(generated on first start)',
    description: 'A known Images Write token for the account, for CI users.',
    parse: (r) => {
      const v = optional(r);
      if (v !== undefined && !/^[A-Za-z0-9_-]{20,200}$/.test(v)) {
        throw new ConfigError(
          `invalid PICTOR_API_TOKEN value (format: 20..200 characters of A-Z a-z 0-9 _ -), see docs/config.md#PICTOR_API_TOKEN`,
        );
      }
      return v;
    },
  }),
  d({
    key: 'authEmail',
    env: 'PICTOR_AUTH_EMAIL',
    format: 'e-mail',
    defaultText: '(none)',
    description:
      'With PICTOR_AUTH_KEY: a known X-Auth-Email / X-Auth-Key pair with write access to the account.',
    parse: optional,
  }),
  d({
    key: 'authKey',
    env: 'PICTOR_AUTH_KEY',
    format: 'string',
    defaultText: '(none)',
    description: 'The global API key that goes with PICTOR_AUTH_EMAIL.',
    parse: optional,
  }),
  d({
    key: 'imageAllowance',
    env: 'PICTOR_IMAGE_ALLOWANCE',
    format: 'integer 0..1000000000',
    defaultText: '100000',
    description: 'How many images a new account may hold (stats `allowed`).',
    parse: intIn('PICTOR_IMAGE_ALLOWANCE', 0, 1_000_000_000, 100_000),
  }),
  d({
    key: 'maxUploadBytes',
    env: 'PICTOR_MAX_UPLOAD_BYTES',
    format: 'integer 1..104857600',
    defaultText: '10485760',
    description: 'Largest accepted upload (Cloudflare: 10 MB).',
    parse: intIn('PICTOR_MAX_UPLOAD_BYTES', 1, MAX_UPLOAD_BYTES_CEILING, MAX_UPLOAD_BYTES),
  }),
  d({
    key: 'maxVariants',
    env: 'PICTOR_MAX_VARIANTS',
    format: 'integer 1..10000',
    defaultText: '100',
    description: 'Most variants an account may define (Cloudflare: 100).',
    parse: intIn('PICTOR_MAX_VARIANTS', 1, 10_000, MAX_VARIANTS),
  }),
  d({
    key: 'logLevel',
    env: 'LOG_LEVEL',
    format: 'fatal|error|warn|info|debug|trace|silent',
    defaultText: 'info',
    description: 'pino log level.',
    parse: (r) => {
      const v = optional(r) ?? 'info';
      if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(v))
        throw new ConfigError(
          `invalid LOG_LEVEL value (format: fatal|error|warn|info|debug|trace|silent): ${v}, see docs/config.md#LOG_LEVEL`,
        );
      return v;
    },
  }),
  d({
    key: 'workerSlots',
    env: 'PICTOR_WORKERS',
    format: 'integer 1..256',
    defaultText: '(number of cores)',
    description:
      'Concurrent image jobs (probe and transform) on this node; with PICTOR_PROCESSES > 1 each process gets its share, rounded up.',
    parse: intIn('PICTOR_WORKERS', 1, 256, availableParallelism()),
  }),
  d({
    key: 'queueLimit',
    env: 'PICTOR_QUEUE',
    format: 'integer 0..100000',
    defaultText: '64',
    description:
      'Image jobs (upload inspections and transforms) that may wait for a slot; beyond that delivery and uploads answer 503 with Retry-After.',
    parse: intIn('PICTOR_QUEUE', 0, 100_000, 64),
  }),
  d({
    key: 'cacheMemoryMb',
    env: 'PICTOR_CACHE_MEMORY_MB',
    format: 'integer 0..65536',
    defaultText: '256',
    description:
      'Memory for hot renditions (MiB) on this node, shared out equally among PICTOR_PROCESSES; the rest live on disk in `<PICTOR_DATA_DIR>/cache`.',
    parse: intIn('PICTOR_CACHE_MEMORY_MB', 0, 65_536, 256),
  }),
  d({
    key: 'transformTimeout',
    env: 'PICTOR_TRANSFORM_TIMEOUT',
    format: 'integer 1..600 (seconds)',
    defaultText: '30',
    description: 'Seconds before a transform is abandoned.',
    parse: intIn('PICTOR_TRANSFORM_TIMEOUT', 1, 600, 30),
  }),
  d({
    key: 'deliveryPort',
    env: 'PICTOR_DELIVERY_PORT',
    format: 'integer 0..65535',
    defaultText: '(none)',
    description:
      'A second port that serves the bare imagedelivery.net form `/<account_hash>/<image_id>/<variant>`.',
    parse: (r) => (optional(r) === undefined ? undefined : intIn('PICTOR_DELIVERY_PORT', 0, 65535, 0)(r)),
  }),
  d({
    key: 'deliveryHosts',
    env: 'PICTOR_DELIVERY_HOSTS',
    format: 'comma-separated host names',
    defaultText: '(none)',
    description:
      'Host names (the `Host` header, without port) that get the bare imagedelivery.net URL form on the ' +
      'main port.',
    parse: (r) =>
      (optional(r) ?? '')
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean),
  }),
  d({
    key: 'uploadUrl',
    env: 'PICTOR_UPLOAD_URL',
    format: 'http(s) URL without trailing slash',
    defaultText: '<PICTOR_PUBLIC_URL>/upload',
    description:
      'Base of direct-creator-upload URLs (`<base>/<account_hash>/<image_id>`), like ' +
      'upload.imagedelivery.net.',
    parse: httpBase('PICTOR_UPLOAD_URL'),
  }),
  d({
    key: 'urlAllowlist',
    env: 'PICTOR_URL_ALLOWLIST',
    format: 'comma-separated CIDRs or addresses',
    defaultText: '(none)',
    description:
      'Non-public addresses that upload by URL may fetch from (e.g. `10.1.2.0/24` for a trusted internal ' +
      'origin). Everything else but public unicast is refused.',
    parse: (r) => {
      const list = (optional(r) ?? '')
        .split(',')
        .map((e) => e.trim())
        .filter(Boolean);
      for (const e of list) {
        try {
          // The same parser the address guard uses, so what passes here cannot fail at start-up.
          if (e.includes('/')) ipaddr.parseCIDR(e);
          else ipaddr.parse(e);
        } catch (err) {
          throw new ConfigError(
            `invalid PICTOR_URL_ALLOWLIST value (format: comma-separated CIDRs or addresses): ${e} (${(err as Error).message}), see docs/config.md#PICTOR_URL_ALLOWLIST`,
          );
        }
      }
      return list;
    },
  }),
  d({
    key: 'urlConnectTimeoutMs',
    env: 'PICTOR_URL_CONNECT_TIMEOUT_MS',
    format: 'integer 100..60000',
    defaultText: '5000',
    description: 'Upload by URL: time allowed to connect to the origin.',
    parse: intIn('PICTOR_URL_CONNECT_TIMEOUT_MS', 100, 60_000, 5000),
  }),
  d({
    key: 'urlTotalTimeoutMs',
    env: 'PICTOR_URL_TOTAL_TIMEOUT_MS',
    format: 'integer 100..300000',
    defaultText: '30000',
    description: 'Upload by URL: time allowed for the whole fetch, redirects included.',
    parse: intIn('PICTOR_URL_TOTAL_TIMEOUT_MS', 100, 300_000, 30_000),
  }),
  d({
    key: 'corsOrigins',
    env: 'PICTOR_CORS_ORIGINS',
    format: '* or comma-separated http(s) origins',
    defaultText: '*',
    description:
      'Who may read renditions and transformation-URL answers from scripts: ' +
      '`Access-Control-Allow-Origin: *` by default, or the listed origins (echoed back, with `Vary: ' +
      'Origin`).',
    parse: (r) => {
      const v = optional(r) ?? '*';
      if (v.trim() === '*') return ['*'];
      return originList('PICTOR_CORS_ORIGINS')(v);
    },
  }),
  d({
    key: 'transformOrigin',
    env: 'PICTOR_TRANSFORM_ORIGIN',
    format: 'http(s)://host[:port]',
    defaultText: '(none)',
    description:
      'Transformation URLs, path form: `/cdn-cgi/image/<options>/<path>` fetches `<origin>/<path>`. With ' +
      'neither this nor PICTOR_TRANSFORM_SOURCES, `/cdn-cgi/image/` answers 404. A loopback or private ' +
      'origin must also be in PICTOR_URL_ALLOWLIST. See docs/transformations.md.',
    parse: (r) => {
      const v = optional(r);
      return v === undefined ? undefined : origin('PICTOR_TRANSFORM_ORIGIN', v);
    },
  }),
  d({
    key: 'transformSources',
    env: 'PICTOR_TRANSFORM_SOURCES',
    format: 'comma-separated http(s) origins',
    defaultText: '(none)',
    description:
      'Transformation URLs, absolute form: `/cdn-cgi/image/<options>/<http(s) URL>` is served only for a URL on one of these origins (and PICTOR_TRANSFORM_ORIGIN); any other is refused with 403 (Cloudflare\'s "resize from any origin" unchecked).',
    parse: originList('PICTOR_TRANSFORM_SOURCES'),
  }),
  d({
    key: 'transformMaxBytes',
    env: 'PICTOR_TRANSFORM_MAX_BYTES',
    format: `integer 1..${MAX_TRANSFORM_SOURCE_BYTES * 10}`,
    defaultText: String(MAX_TRANSFORM_SOURCE_BYTES),
    description:
      'Transformation URLs: largest source image fetched (Cloudflare: 100 MB); larger answers 413 with ' +
      'err=9402.',
    parse: intIn(
      'PICTOR_TRANSFORM_MAX_BYTES',
      1,
      MAX_TRANSFORM_SOURCE_BYTES * 10,
      MAX_TRANSFORM_SOURCE_BYTES,
    ),
  }),
  d({
    key: 'databaseUrl',
    env: 'DATABASE_URL',
    format: 'postgres://user:password@host:port/database',
    defaultText: '(none: SQLite in PICTOR_DATA_DIR)',
    description: 'PostgreSQL for metadata, shared by every node. Unset: the embedded SQLite database.',
    parse: (r) => {
      const v = optional(r);
      if (v !== undefined && !/^postgres(ql)?:\/\//.test(v))
        throw new ConfigError(
          'invalid DATABASE_URL value (format: postgres://…), see docs/config.md#DATABASE_URL',
        );
      return v;
    },
  }),
  d({
    key: 'databaseSchema',
    env: 'PICTOR_DATABASE_SCHEMA',
    format: 'lowercase identifier',
    defaultText: 'public',
    description: "With DATABASE_URL: the schema that holds Pictor's tables (created when missing).",
    parse: (r) => {
      const v = optional(r) ?? 'public';
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(v))
        throw new ConfigError(
          `invalid PICTOR_DATABASE_SCHEMA value (format: lowercase identifier): ${v}, see docs/config.md#PICTOR_DATABASE_SCHEMA`,
        );
      return v;
    },
  }),
  d({
    key: 'databaseListenUrl',
    env: 'PICTOR_DATABASE_LISTEN_URL',
    format: 'postgres://user:password@host:port/database',
    defaultText: '(DATABASE_URL)',
    description:
      "With DATABASE_URL: the connection each node keeps open to LISTEN for other nodes' changes " +
      '(memoised delivery is off while it is down). Set it when DATABASE_URL goes through a pooler in ' +
      'transaction mode (pgbouncer), which cannot LISTEN.',
    parse: (r) => {
      const v = optional(r);
      if (v !== undefined && !/^postgres(ql)?:\/\//.test(v))
        throw new ConfigError(
          'invalid PICTOR_DATABASE_LISTEN_URL value (format: postgres://…), see ' +
            'docs/config.md#PICTOR_DATABASE_LISTEN_URL',
        );
      return v;
    },
  }),
  d({
    key: 's3',
    env: 'S3_BUCKET',
    format: 'bucket name',
    defaultText: '(none: files in PICTOR_DATA_DIR/blobs)',
    description:
      'S3-compatible blob storage for originals and renditions, shared by every node. With it: ' +
      '`S3_ENDPOINT` (URL; unset for AWS), `S3_REGION` (default us-east-1), `S3_ACCESS_KEY_ID`, ' +
      '`S3_SECRET_ACCESS_KEY` (unset: the AWS default chain), `S3_FORCE_PATH_STYLE` (true/false, default ' +
      'false; MinIO and s3rver need true), `S3_PREFIX` (key prefix, default none).',
    parse: (r, _p, env) => {
      const bucket = optional(r);
      if (bucket === undefined) {
        if (optional(env.S3_ENDPOINT) !== undefined)
          throw new ConfigError('S3_ENDPOINT is set but S3_BUCKET is not, see docs/config.md#S3_BUCKET');
        return undefined;
      }
      const endpoint = optional(env.S3_ENDPOINT);
      if (endpoint !== undefined && !/^https?:\/\/[^\s]+$/.test(endpoint))
        throw new ConfigError(
          `invalid S3_ENDPOINT value (format: http(s) URL): ${endpoint}, see docs/config.md#S3_BUCKET`,
        );
      const pathStyle = optional(env.S3_FORCE_PATH_STYLE) ?? 'false';
      if (pathStyle !== 'true' && pathStyle !== 'false')
        throw new ConfigError(
          `invalid S3_FORCE_PATH_STYLE value (format: true|false): ${pathStyle}, see docs/config.md#S3_BUCKET`,
        );
      const prefix = optional(env.S3_PREFIX) ?? '';
      return {
        endpoint,
        bucket,
        region: optional(env.S3_REGION) ?? 'us-east-1',
        accessKeyId: optional(env.S3_ACCESS_KEY_ID),
        secretAccessKey: optional(env.S3_SECRET_ACCESS_KEY),
        forcePathStyle: pathStyle === 'true',
        prefix: prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix,
      };
    },
  }),
  d({
    key: 'metricsPort',
    env: 'PICTOR_METRICS_PORT',
    format: 'integer 0..65535',
    defaultText: '(none: no metrics endpoint)',
    description:
      'Port of the Prometheus `/metrics` endpoint, on HOST, apart from the API port. Unset: metrics are ' +
      'not served at all. Every series: docs/operations.md.',
    parse: (r) => (optional(r) === undefined ? undefined : intIn('PICTOR_METRICS_PORT', 0, 65535, 0)(r)),
  }),
  d({
    key: 'accessLog',
    env: 'PICTOR_ACCESS_LOG',
    format: 'on|off',
    defaultText: 'on',
    description:
      'One pino JSON line per request on stdout (request id, method, route template, status, duration, ' +
      'bytes, account, cache result; never a token, key, signature or metadata). Health probes log at ' +
      'debug.',
    parse: (r) => {
      const v = optional(r) ?? 'on';
      if (v !== 'on' && v !== 'off')
        throw new ConfigError(
          `invalid PICTOR_ACCESS_LOG value (format: on|off): ${v}, see docs/config.md#PICTOR_ACCESS_LOG`,
        );
      return v === 'on';
    },
  }),
  d({
    key: 'shutdownTimeout',
    env: 'PICTOR_SHUTDOWN_TIMEOUT',
    format: 'integer 1..3600 (seconds)',
    defaultText: '30',
    description:
      'On SIGTERM/SIGINT: seconds in-flight requests may take to finish before they are cut (then the ' +
      'exit code is 1).',
    parse: intIn('PICTOR_SHUTDOWN_TIMEOUT', 1, 3600, 30),
  }),
  d({
    key: 'processes',
    env: 'PICTOR_PROCESSES',
    format: 'integer 1..256',
    defaultText: '(number of cores)',
    description:
      'Server processes on this node: a primary forks this many workers (node:cluster) that share the ports, the SQLite database and the data directory; a change made through one is seen by every other on its next request, concurrent first requests for a rendition run one transform across all of them, and PICTOR_CACHE_MEMORY_MB is divided among them. A crashed worker is restarted with backoff. 1: one process, no primary.',
    parse: intIn('PICTOR_PROCESSES', 1, 256, availableParallelism()),
  }),
  d({
    key: 'changeWindowMs',
    env: 'PICTOR_CHANGE_WINDOW_MS',
    format: 'integer 1..1000 (milliseconds)',
    defaultText: '1',
    description:
      "SQLite only. How long one check for commits by other processes on the same file (`PRAGMA data_version`) is reused by cached deliveries; in return, an answer to a change waits until this long after it, and a CLI command that changed anything exits this long after its last commit, so the next request anywhere sees the change. Every process on one file must use the same value. The default keeps the check off the hot path; a larger value only lengthens every change's answer.",
    parse: intIn('PICTOR_CHANGE_WINDOW_MS', 1, 1000, 1),
  }),
  d({
    key: 'readyTimeoutMs',
    env: 'PICTOR_READY_TIMEOUT_MS',
    format: 'integer 50..60000',
    defaultText: '2000',
    description:
      '`/readyz`: time each backend probe (metadata store, blob store) may take before the node reports ' +
      'not ready.',
    parse: intIn('PICTOR_READY_TIMEOUT_MS', 50, 60_000, 2000),
  }),
] as const;

/**
 * Reads the configuration from an environment (default `process.env`) and validates it.
 * @example const config = loadConfig({ PORT: '0' });
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const partial: Partial<Config> = {};
  for (const desc of descriptors) {
    (partial as Record<string, unknown>)[desc.key] = desc.parse(env[desc.env], partial, env);
  }
  const config = partial as Config;
  validate(config);
  return config;
}

/** Cross-field checks. */
export function validate(config: Config): void {
  if ((config.authEmail === undefined) !== (config.authKey === undefined)) {
    throw new ConfigError(
      'PICTOR_AUTH_EMAIL and PICTOR_AUTH_KEY go together: set both or neither, see ' +
        'docs/config.md#PICTOR_AUTH_EMAIL',
    );
  }
}

export { ConfigError };

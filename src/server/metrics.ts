/**
 * Prometheus metrics for a node (prom-client): HTTP requests by route template, uploads, the stores'
 * operations, and the delivery series (delivery/metrics.ts) in the same registry, plus prom-client's
 * default process and Node.js metrics. Served only on PICTOR_METRICS_PORT (see main.ts); every series
 * is listed in docs/operations.md.
 */
import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { BlobStore, MetadataStore } from '../storage/types.js';
import { RequestSeries } from './request-series.js';

/** Seconds: from a fast cached answer to a slow upload or transform. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Bytes: 1 KiB .. 64 MiB. */
const BYTE_BUCKETS = [1024, 4096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 10_485_760, 67_108_864];

export interface ServerMetrics {
  registry: Registry;
  /** http_requests_total and http_request_duration_seconds (request-series.ts). */
  requests: RequestSeries;
  uploadBytes: Histogram;
  uploadSeconds: Histogram;
  storeSeconds: Histogram<'store' | 'op'>;
  storeErrors: Counter<'store' | 'op'>;
}

export function createServerMetrics(registry = new Registry()): ServerMetrics {
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    requests: new RequestSeries(LATENCY_BUCKETS, registry),
    uploadBytes: new Histogram({
      name: 'pictor_upload_bytes',
      help: 'Bytes received for each successful upload (API upload and one-time upload URLs), request headers included',
      buckets: BYTE_BUCKETS,
      registers: [registry],
    }),
    uploadSeconds: new Histogram({
      name: 'pictor_upload_duration_seconds',
      help: 'Time taken by each successful upload',
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    storeSeconds: new Histogram({
      name: 'pictor_store_operation_duration_seconds',
      help: 'Duration of metadata-store and blob-store operations, by store (metadata, blobs, renditions) and operation',
      labelNames: ['store', 'op'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    storeErrors: new Counter({
      name: 'pictor_store_operation_errors_total',
      help: 'Store operations that threw, by store and operation',
      labelNames: ['store', 'op'],
      registers: [registry],
    }),
  };
}

/** `2xx`, `4xx`, … */
const CLASSES = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];
export const statusClass = (status: number): string =>
  CLASSES[Math.floor(status / 100)] ?? `${Math.floor(status / 100)}xx`;

/**
 * The store with every method timed into `pictor_store_operation_*{store}`. A Proxy rather than a
 * hand-written wrapper per interface: both interfaces grow, and a forgotten method would go unmeasured.
 */
export function instrumentStore<T extends MetadataStore | BlobStore>(
  target: T,
  store: string,
  metrics: ServerMetrics,
): T {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(t, prop) {
      const value: unknown = Reflect.get(t, prop, t);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      let fn = wrapped.get(prop);
      if (!fn) {
        const op = prop;
        const method = value as (...args: unknown[]) => unknown;
        fn = (...args: unknown[]) => {
          const end = metrics.storeSeconds.startTimer({ store, op });
          const failed = (e: unknown) => {
            end();
            metrics.storeErrors.inc({ store, op });
            throw e;
          };
          let result: unknown;
          try {
            result = method.apply(t, args);
          } catch (e) {
            return failed(e);
          }
          if (result instanceof Promise) {
            return result.then((v: unknown) => {
              end();
              return v;
            }, failed);
          }
          end();
          return result;
        };
        wrapped.set(prop, fn);
      }
      return fn;
    },
  });
}

/** The `/metrics` endpoint (PICTOR_METRICS_PORT): `collect()` gives the text (one registry, or every worker's). */
export function createMetricsServer(
  collect: () => Promise<string>,
  contentType: string,
  logger: { error(obj: object, msg: string): void },
): Server {
  return createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('metrics are at /metrics\n');
      return;
    }
    collect().then(
      (text) => res.writeHead(200, { 'content-type': contentType }).end(text),
      (err: unknown) => {
        logger.error({ err }, 'metrics collection failed');
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n');
      },
    );
  });
}

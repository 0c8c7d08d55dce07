/**
 * The composition root: config → concrete adapters → services. The only importer of concrete storage
 * adapters; it builds only the ones the config selects.
 */
import { join } from 'node:path';
import type { Config } from '../config/index.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { ApiContext } from '../api/index.js';
import { AccountsService } from '../services/accounts.js';
import { ImagesService } from '../services/images.js';
import { KeysService } from '../services/keys.js';
import { VariantsService } from '../services/variants.js';
import { DirectUploadService } from '../services/direct-upload.js';
import { Ingest } from '../services/ingest.js';
import { createFsBlobStore } from '../storage/fs/index.js';
import { createSqliteMetadataStore, type SqliteMetadataStore } from '../storage/sqlite/index.js';
import {
  createPostgresMetadataStore,
  listenForChanges,
  type ChangeListener,
} from '../storage/postgres/index.js';
import { createS3BlobStore } from '../storage/s3/index.js';
import type { BlobStore, MetadataStore } from '../storage/types.js';
import type { DeliveryContext } from '../delivery/index.js';
import { RenditionCache } from '../delivery/cache.js';
import { createDeliveryMetrics } from '../delivery/metrics.js';
import { Gate } from '../pipeline/gate.js';
import { parseAllowlist, type LookupFn } from '../security/address-guard.js';
import type { FetchUrlOptions } from '../security/fetch-url.js';
import { Generation } from '../core/generation.js';
import { ResolutionMemo } from '../delivery/memo.js';
import { OriginCache } from '../delivery/origin-cache.js';
import { corsPolicy } from '../delivery/respond.js';
import { sourceRefusal, VIA_TOKEN, type TransformUrls } from '../delivery/transform-url.js';
import { createServerMetrics, instrumentStore, type ServerMetrics } from './metrics.js';
import { databaseError, s3Error } from './startup.js';
import { createFileFlightLock } from './flight-lock.js';

export interface Composition {
  config: Config;
  store: MetadataStore;
  blobs: BlobStore;
  api: ApiContext;
  delivery: DeliveryContext;
  /** Every Prometheus series of this node, in one registry. */
  metrics: ServerMetrics;
  close(): Promise<void>;
}

export interface ComposeOverrides {
  store?: MetadataStore;
  blobs?: BlobStore;
  /** DNS resolver for upload by URL (tests inject one). */
  resolve?: LookupFn;
  /** Disk tier of the rendition cache; null for none. */
  renditions?: BlobStore | null;
  clock?: Clock;
  /** Probe S3 once before anything else (a bad bucket or credentials fail the start). Default true. */
  probeS3?: boolean;
}

/** The embedded metadata store, `<dataDir>/pictor.sqlite` (call `migrate()` before use). */
export function openSqlite(config: Config): SqliteMetadataStore {
  return createSqliteMetadataStore({
    filename: join(config.dataDir, 'pictor.sqlite'),
    changeWindowMs: config.changeWindowMs,
  });
}

/**
 * Builds every adapter and service for a config. With no overrides: SQLite in
 * `<dataDir>/pictor.sqlite` and blob files in `<dataDir>/blobs`.
 * @example const c = await compose(loadConfig()); const app = await buildApp({ api: c.api });
 */
export async function compose(config: Config, overrides: ComposeOverrides = {}): Promise<Composition> {
  const clock = overrides.clock ?? systemClock;
  const metrics = createServerMetrics();
  const sqlite = overrides.store || config.databaseUrl ? undefined : openSqlite(config);
  const rawStore =
    overrides.store ??
    sqlite ??
    createPostgresMetadataStore({ connectionString: config.databaseUrl!, schema: config.databaseSchema });
  const s3 = config.s3 ? createS3BlobStore(config.s3) : undefined;
  const rawBlobs = overrides.blobs ?? s3 ?? createFsBlobStore({ root: join(config.dataDir, 'blobs') });
  // With S3 the renditions' second tier is the bucket too (keys under renditions/), shared by all nodes.
  const rawRenditions =
    overrides.renditions === undefined
      ? (s3 ?? createFsBlobStore({ root: join(config.dataDir, 'cache') }))
      : overrides.renditions;
  const closeAll = async () => {
    await rawStore.close().catch(() => undefined);
    await rawBlobs.close().catch(() => undefined);
    if (rawRenditions && rawRenditions !== rawBlobs) await rawRenditions.close().catch(() => undefined);
  };
  try {
    await rawStore.migrate();
  } catch (e) {
    await closeAll();
    throw config.databaseUrl && !overrides.store ? databaseError(config.databaseUrl, e) : e;
  }
  if (s3 && config.s3 && overrides.probeS3 !== false) {
    // One probe at start (HeadBucket): a missing bucket or refused credentials fail the start.
    try {
      await s3.check();
    } catch (e) {
      await closeAll();
      throw s3Error(config.s3.bucket, config.s3.endpoint, e);
    }
  }
  const store = instrumentStore(rawStore, 'metadata', metrics);
  const blobs = instrumentStore(rawBlobs, 'blobs', metrics);
  const renditions = rawRenditions ? instrumentStore(rawRenditions, 'renditions', metrics) : null;
  // Every change that can alter what a delivery URL resolves to bumps the generation.
  const generation = new Generation();
  const bump = () => generation.bump();
  // Changes committed by another process on the same SQLite file (the other workers of this node, or a
  // CLI command): `PRAGMA data_version` moves on any other connection's commit. A memo lookup reads
  // it when the last read is PICTOR_CHANGE_WINDOW_MS old; every writer answers a change (app.ts, onSend) or
  // exits (the store's close) only after that window, so a memoised resolution is never used after
  // another process changed the database, from the very next request on (core/generation.ts).
  if (sqlite)
    generation.watch(() => sqlite.changedElsewhere(), {
      windowMs: config.changeWindowMs,
      othersMemoise: true,
    });
  // Changes made by other nodes on the same PostgreSQL database: LISTEN/NOTIFY. Memoisation is off
  // until the listening connection is up, and whenever it is down.
  let listener: ChangeListener | undefined;
  if (config.databaseUrl && !overrides.store) {
    generation.suspend();
    listener = await listenForChanges({
      connectionString: config.databaseListenUrl ?? config.databaseUrl,
      schema: config.databaseSchema,
      onChange: bump,
      onDown: () => generation.suspend(),
      onUp: () => generation.resume(),
    });
  }
  const accounts = new AccountsService({
    store,
    clock,
    imageAllowance: config.imageAllowance,
    onChange: bump,
  });
  const urlFetch: FetchUrlOptions = {
    policy: { allow: parseAllowlist(config.urlAllowlist) },
    maxBytes: config.maxUploadBytes,
    maxRedirects: 5,
    connectTimeoutMs: config.urlConnectTimeoutMs,
    totalTimeoutMs: config.urlTotalTimeoutMs,
    ...(overrides.resolve ? { resolve: overrides.resolve } : {}),
  };
  // PICTOR_WORKERS and PICTOR_CACHE_MEMORY_MB are per node: each of PICTOR_PROCESSES gets its share.
  // One gate per process for all image work: upload inspection and delivery transforms.
  const processes = Math.max(1, config.processes);
  const gate = new Gate(Math.max(1, Math.ceil(config.workerSlots / processes)), config.queueLimit);
  const ingest = new Ingest({ store, blobs, clock, gate, urlFetch });
  const images = new ImagesService({ store, blobs, clock, ingest, onPurge: bump });
  const variants = new VariantsService({ store, clock, maxVariants: config.maxVariants, onPurge: bump });
  const keys = new KeysService({ store, clock });
  // Several processes on this node: single-flight across them (renditions and origin fetches) through
  // lock files in the cache dir.
  const flightLock =
    processes > 1 && renditions
      ? createFileFlightLock({
          dir: join(config.dataDir, 'cache', 'locks'),
          staleMs: (config.transformTimeout + 30) * 1000,
        })
      : undefined;
  let cache: RenditionCache | undefined;
  const deliveryMetrics = createDeliveryMetrics(
    gate,
    () => cache,
    metrics.registry,
    () => generation.trusted,
  );
  cache = new RenditionCache({
    memoryBytes: Math.floor((config.cacheMemoryMb * 1024 * 1024) / processes),
    disk: renditions ?? undefined,
    observe: deliveryMetrics.cacheObserver,
    // Several processes on this node: single-flight across them through lock files in the cache dir.
    lock: flightLock,
  });
  // Transformation URLs: built only when configured; their fetches go through the same address guard.
  let transformUrls: TransformUrls | undefined;
  if (config.transformOrigin || config.transformSources.length > 0) {
    const sources = new Set(config.transformSources);
    const allowed = { origin: config.transformOrigin, sources };
    transformUrls = {
      ...allowed,
      cache: new OriginCache({
        disk: renditions ?? undefined,
        lock: flightLock,
        clock,
        fetch: {
          ...urlFetch,
          maxBytes: config.transformMaxBytes,
          headers: { via: `1.1 ${VIA_TOKEN}` },
          userAgent: 'Pictor (+transformation URLs)',
          checkRedirect: (u) => sourceRefusal(allowed, u),
        },
      }),
    };
  }
  const delivery: DeliveryContext = {
    accounts,
    images,
    variants,
    keys,
    gate,
    cache,
    metrics: deliveryMetrics,
    clock,
    transformTimeout: config.transformTimeout,
    generation,
    memo: new ResolutionMemo(10_000),
    memoise: !config.databaseUrl || listener !== undefined,
    cors: corsPolicy(config.corsOrigins),
    transformUrls,
  };
  const api: ApiContext = {
    accounts,
    images,
    variants,
    keys,
    directUploads: new DirectUploadService({ store, clock, ingest }),
    uploadBase: config.uploadUrl,
    publicUrl: config.publicUrl ?? `http://127.0.0.1:${config.port}`,
    maxUploadBytes: config.maxUploadBytes,
  };
  return {
    config,
    store,
    blobs,
    api,
    delivery,
    metrics,
    async close() {
      await listener?.close();
      await rawStore.close();
      await rawBlobs.close();
      if (rawRenditions && rawRenditions !== rawBlobs) await rawRenditions.close();
    },
  };
}

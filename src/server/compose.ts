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
import { createFsBlobStore } from '../storage/fs/index.js';
import { createSqliteMetadataStore } from '../storage/sqlite/index.js';
import { createPostgresMetadataStore, listenForChanges, type ChangeListener } from '../storage/postgres/index.js';
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

export interface Composition {
  config: Config;
  store: MetadataStore;
  blobs: BlobStore;
  api: ApiContext;
  delivery: DeliveryContext;
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
}

/**
 * Builds every adapter and service for a config. With no overrides: SQLite in
 * `<dataDir>/pictor.sqlite` and blob files in `<dataDir>/blobs`.
 * @example const c = await compose(loadConfig()); const app = await buildApp({ api: c.api });
 */
export async function compose(config: Config, overrides: ComposeOverrides = {}): Promise<Composition> {
  const clock = overrides.clock ?? systemClock;
  const sqlite = overrides.store || config.databaseUrl ? undefined : createSqliteMetadataStore({ filename: join(config.dataDir, 'pictor.sqlite') });
  const store =
    overrides.store ?? sqlite ?? createPostgresMetadataStore({ connectionString: config.databaseUrl!, schema: config.databaseSchema });
  const s3 = config.s3 ? createS3BlobStore(config.s3) : undefined;
  const blobs = overrides.blobs ?? s3 ?? createFsBlobStore({ root: join(config.dataDir, 'blobs') });
  // With S3 the renditions' second tier is the bucket too (keys under renditions/), shared by all nodes.
  const renditions =
    overrides.renditions === undefined ? (s3 ?? createFsBlobStore({ root: join(config.dataDir, 'cache') })) : overrides.renditions;
  await store.migrate();
  // Every change that can alter what a delivery URL resolves to bumps the generation.
  const generation = new Generation();
  const bump = () => generation.bump();
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
  const accounts = new AccountsService({ store, clock, imageAllowance: config.imageAllowance, onChange: bump });
  const urlFetch: FetchUrlOptions = {
    policy: { allow: parseAllowlist(config.urlAllowlist) },
    maxBytes: config.maxUploadBytes,
    maxRedirects: 5,
    connectTimeoutMs: config.urlConnectTimeoutMs,
    totalTimeoutMs: config.urlTotalTimeoutMs,
    ...(overrides.resolve ? { resolve: overrides.resolve } : {}),
  };
  const images = new ImagesService({ store, blobs, clock, onPurge: bump, urlFetch });
  const variants = new VariantsService({ store, clock, maxVariants: config.maxVariants, onPurge: bump });
  const keys = new KeysService({ store, clock });
  const gate = new Gate(config.workerSlots, config.queueLimit);
  const cache = new RenditionCache({ memoryBytes: config.cacheMemoryMb * 1024 * 1024, disk: renditions ?? undefined });
  const delivery: DeliveryContext = {
    accounts,
    images,
    variants,
    keys,
    gate,
    cache,
    metrics: createDeliveryMetrics(gate, cache, undefined, () => generation.trusted),
    clock,
    transformTimeout: config.transformTimeout,
    generation,
    memo: new ResolutionMemo(10_000),
    memoise: !config.databaseUrl || listener !== undefined,
  };
  const api: ApiContext = {
    accounts,
    images,
    variants,
    keys,
    directUploads: new DirectUploadService({ store, blobs, clock }),
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
    async close() {
      await listener?.close();
      await store.close();
      await blobs.close();
      if (renditions !== blobs) await renditions?.close();
    },
  };
}

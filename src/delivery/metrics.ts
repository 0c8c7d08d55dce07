/** Prometheus metrics for delivery (served on PICTOR_METRICS_PORT with the server's; see docs/operations.md). */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Gate } from '../pipeline/gate.js';
import type { CacheObserver, RenditionCache } from './cache.js';

export interface DeliveryMetrics {
  registry: Registry;
  transforms: Counter<'format'>;
  /** Seconds per transform (decode, resize, encode), by output format. */
  transformSeconds: Histogram<'format'>;
  cache: Counter<'result'>;
  /** One more `pictor_rendition_cache_total{result="hit"}`, at the cost of an addition (the fast path). */
  hit(): void;
  /** Intermediate masters (pipeline/master.ts): `made` from a full source, `used` for a rendition. */
  masters: Counter<'event'>;
  rejected: Counter;
  /** Feeds the per-tier cache series; given to the RenditionCache. */
  cacheObserver: CacheObserver;
}

/** `memoTrusted`: whether memoised resolutions may be used now (false while the change listener is down). */
export function createDeliveryMetrics(
  gate: Gate,
  cache: () => RenditionCache | undefined,
  registry = new Registry(),
  memoTrusted: () => boolean = () => true,
): DeliveryMetrics {
  const transforms = new Counter({
    name: 'pictor_transforms_total',
    help: 'Renditions produced by the pipeline',
    labelNames: ['format'],
    registers: [registry],
  });
  const transformSeconds = new Histogram({
    name: 'pictor_transform_duration_seconds',
    help: 'Time to produce a rendition (decode, resize, encode), by output format',
    labelNames: ['format'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const masters = new Counter({
    name: 'pictor_masters_total',
    help: 'Intermediate masters: made (one full decode of a large source) and used (a rendition made from one)',
    labelNames: ['event'],
    registers: [registry],
  });
  // Hits of the fast path are counted in a plain number and added when the series is read: an
  // `inc(labels)` per cached answer (label checks and hashing) cost 1% of its main thread.
  let pendingHits = 0;
  const cacheCounter = new Counter({
    name: 'pictor_rendition_cache_total',
    help: 'Rendition lookups by result (hit: served without a transform)',
    labelNames: ['result'],
    registers: [registry],
    collect() {
      if (pendingHits > 0) this.inc({ result: 'hit' }, pendingHits);
      pendingHits = 0;
    },
  });
  // The per-tier lookups and bytes likewise: two `inc(labels)` per cached answer cost 0.4 µs of its
  // main thread (about 1.5%).
  const pendingTier = {
    memory: { hit: 0, miss: 0, bytes: 0 },
    disk: { hit: 0, miss: 0, bytes: 0 },
  };
  new Counter({
    name: 'pictor_rendition_cache_lookups_total',
    help: 'Rendition cache lookups by tier (memory, disk) and result (hit, miss)',
    labelNames: ['tier', 'result'],
    registers: [registry],
    collect() {
      for (const tier of ['memory', 'disk'] as const) {
        const p = pendingTier[tier];
        if (p.hit > 0) this.inc({ tier, result: 'hit' }, p.hit);
        if (p.miss > 0) this.inc({ tier, result: 'miss' }, p.miss);
        p.hit = 0;
        p.miss = 0;
      }
    },
  });
  new Counter({
    name: 'pictor_rendition_cache_hit_bytes_total',
    help: 'Bytes of renditions served from each cache tier',
    labelNames: ['tier'],
    registers: [registry],
    collect() {
      for (const tier of ['memory', 'disk'] as const) {
        const p = pendingTier[tier];
        if (p.bytes > 0) this.inc({ tier }, p.bytes);
        p.bytes = 0;
      }
    },
  });
  const rejected = new Counter({
    name: 'pictor_gate_rejected_total',
    help: 'Requests refused because the image-work queue was full',
    registers: [registry],
  });
  new Gauge({
    name: 'pictor_gate_slots',
    help: 'Image-work slots (PICTOR_WORKERS)',
    registers: [registry],
    collect() {
      this.set(gate.stats().slots);
    },
  });
  new Gauge({
    name: 'pictor_gate_queue_limit',
    help: 'Image jobs that may wait for a slot (PICTOR_QUEUE)',
    registers: [registry],
    collect() {
      this.set(gate.stats().queueLimit);
    },
  });
  new Gauge({
    name: 'pictor_gate_running',
    help: 'Image jobs running',
    registers: [registry],
    collect() {
      this.set(gate.stats().running);
    },
  });
  new Gauge({
    name: 'pictor_gate_queued',
    help: 'Image jobs waiting for a slot',
    registers: [registry],
    collect() {
      this.set(gate.stats().queued);
    },
  });
  new Gauge({
    name: 'pictor_rendition_cache_memory_bytes',
    help: 'Bytes of renditions held in memory',
    registers: [registry],
    collect() {
      this.set(cache()?.stats().memoryBytes ?? 0);
    },
  });
  new Gauge({
    name: 'pictor_memo_enabled',
    help: 'Whether memoised URL resolutions are in use (0 while changes made elsewhere cannot be heard)',
    registers: [registry],
    // Added up over PICTOR_PROCESSES workers: 1 only while every worker memoises.
    aggregator: 'min',
    collect() {
      this.set(memoTrusted() ? 1 : 0);
    },
  });
  const cacheObserver: CacheObserver = (tier, hit, bytes) => {
    const p = pendingTier[tier];
    if (hit) {
      p.hit++;
      p.bytes += bytes;
    } else p.miss++;
  };
  return {
    registry,
    transforms,
    transformSeconds,
    cache: cacheCounter,
    hit: () => {
      pendingHits++;
    },
    masters,
    rejected,
    cacheObserver,
  };
}

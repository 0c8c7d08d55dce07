/** Prometheus metrics for delivery (served at /metrics by the server). */
import { Counter, Gauge, Registry } from 'prom-client';
import type { Gate } from '../pipeline/gate.js';
import type { RenditionCache } from './cache.js';

export interface DeliveryMetrics {
  registry: Registry;
  transforms: Counter<'format'>;
  cache: Counter<'result'>;
  rejected: Counter;
}

/** `memoTrusted`: whether memoised resolutions may be used now (false while the change listener is down). */
export function createDeliveryMetrics(gate: Gate, cache: RenditionCache, registry = new Registry(), memoTrusted: () => boolean = () => true): DeliveryMetrics {
  const transforms = new Counter({ name: 'pictor_transforms_total', help: 'Renditions produced by the pipeline', labelNames: ['format'], registers: [registry] });
  const cacheCounter = new Counter({ name: 'pictor_rendition_cache_total', help: 'Rendition lookups by result', labelNames: ['result'], registers: [registry] });
  const rejected = new Counter({ name: 'pictor_gate_rejected_total', help: 'Requests refused because the image-work queue was full', registers: [registry] });
  new Gauge({ name: 'pictor_gate_running', help: 'Image jobs running', registers: [registry], collect() { this.set(gate.stats().running); } });
  new Gauge({ name: 'pictor_gate_queued', help: 'Image jobs waiting for a slot', registers: [registry], collect() { this.set(gate.stats().queued); } });
  new Gauge({ name: 'pictor_rendition_cache_memory_bytes', help: 'Bytes of renditions held in memory', registers: [registry], collect() { this.set(cache.stats().memoryBytes); } });
  new Gauge({ name: 'pictor_memo_enabled', help: 'Whether memoised URL resolutions are in use (0 while changes made elsewhere cannot be heard)', registers: [registry], collect() { this.set(memoTrusted() ? 1 : 0); } });
  return { registry, transforms, cache: cacheCounter, rejected };
}

/** What every delivery module is given: the services, the gate, the caches, metrics and policy. */
import type { Clock } from '../core/clock.js';
import type { Generation } from '../core/generation.js';
import type { Gate } from '../pipeline/gate.js';
import type { AccountsService } from '../services/accounts.js';
import type { ImagesService } from '../services/images.js';
import type { KeysService } from '../services/keys.js';
import type { VariantsService } from '../services/variants.js';
import type { RenditionCache } from './cache.js';
import type { ResolutionMemo } from './memo.js';
import type { DeliveryMetrics } from './metrics.js';
import type { CorsPolicy } from './respond.js';
import type { TransformUrls } from './transform-url.js';

export interface DeliveryContext {
  accounts: AccountsService;
  images: ImagesService;
  variants: VariantsService;
  keys: KeysService;
  gate: Gate;
  cache: RenditionCache;
  metrics: DeliveryMetrics;
  clock: Clock;
  transformTimeout: number;
  generation: Generation;
  memo: ResolutionMemo;
  /**
   * Memoise public resolutions in this process. Only when this process is the only writer (the
   * embedded SQLite store): with a shared database another node's change would not bump our generation.
   */
  memoise: boolean;
  /** Who gets `Access-Control-Allow-Origin` (PICTOR_CORS_ORIGINS). */
  cors: CorsPolicy;
  /** Transformation URLs (`/cdn-cgi/image/…`); undefined when unconfigured (they then answer 404). */
  transformUrls?: TransformUrls | undefined;
}

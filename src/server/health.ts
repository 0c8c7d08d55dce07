/**
 * `GET /healthz` (liveness: the process answers) and `GET /readyz` (readiness: the metadata store and
 * the blob store each answer a cheap probe within PICTOR_READY_TIMEOUT_MS; 503 naming the failing
 * backend otherwise, and 503 from the moment shutdown begins so a load balancer drains the node; with
 * several processes, 503 naming `processes` while fewer workers serve than PICTOR_PROCESSES).
 * Outside `/client/v4`, no credentials.
 */
import type { FastifyInstance } from 'fastify';
import type { BlobStore, MetadataStore } from '../storage/types.js';

export interface HealthDeps {
  store: MetadataStore;
  blobs: BlobStore;
  /** Names the backends in the answer: `sqlite` or `postgres`, `fs` or `s3`. */
  backends: { metadata: string; blobs: string };
  timeoutMs: number;
  /** True once shutdown has begun. */
  draining(): boolean;
  /**
   * With PICTOR_PROCESSES > 1: how many of the node's worker processes are serving, against how many
   * are configured (told by the primary). Fewer up than wanted (a worker crashed and is being
   * restarted) answers 503 naming `processes`.
   */
  processes?: (() => { up: number; wanted: number }) | undefined;
}

type Check = { ok: true; ms: number } | { ok: false; ms: number; error: string };

async function probe(fn: () => Promise<unknown>, timeoutMs: number): Promise<Check> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([fn(), deadline]);
    return { ok: true, ms: Math.round(performance.now() - started) };
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    const message = e instanceof Error ? e.message : String(e);
    return {
      ok: false,
      ms: Math.round(performance.now() - started),
      error: typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** An account id no account has (ids are 32 hex characters): the read touches the store and finds nothing. */
const NO_ACCOUNT = 'readyz-probe';

export async function healthRoutes(app: FastifyInstance, deps: HealthDeps): Promise<void> {
  app.get('/healthz', async (_req, reply) =>
    reply.header('cache-control', 'no-store').send({ status: 'ok' }),
  );
  app.get('/readyz', async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    if (deps.draining()) return reply.code(503).send({ status: 'draining', failing: [], checks: {} });
    const [metadata, blobs] = await Promise.all([
      probe(() => deps.store.getAccount(NO_ACCOUNT), deps.timeoutMs),
      probe(() => (deps.blobs.check ? deps.blobs.check() : deps.blobs.get('readyz-probe')), deps.timeoutMs),
    ]);
    const checks: Record<string, Check | { ok: boolean; up: number; wanted: number }> = {
      [deps.backends.metadata]: metadata,
      [deps.backends.blobs]: blobs,
    };
    const processes = deps.processes?.();
    if (processes) checks.processes = { ok: processes.up >= processes.wanted, ...processes };
    const failing = Object.entries(checks)
      .filter(([, c]) => !c.ok)
      .map(([name]) => name);
    return reply
      .code(failing.length ? 503 : 200)
      .send({ status: failing.length ? 'unavailable' : 'ready', failing, checks });
  });
}

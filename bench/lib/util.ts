/** Small helpers shared by the benchmarks: statistics, formatting, ports, bounded waiting. */
import { createServer } from 'node:net';

export interface Stats {
  n: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export function stats(samples: readonly number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const sum = s.reduce((a, b) => a + b, 0);
  return {
    n: s.length,
    min: s[0] ?? NaN,
    p50: percentile(s, 50),
    p90: percentile(s, 90),
    p99: percentile(s, 99),
    max: s[s.length - 1] ?? NaN,
    mean: s.length ? sum / s.length : NaN,
  };
}

export function ms(v: number): string {
  if (!Number.isFinite(v)) return '—';
  return v >= 100 ? `${v.toFixed(0)} ms` : v >= 10 ? `${v.toFixed(1)} ms` : `${v.toFixed(2)} ms`;
}

export function bytes(v: number): string {
  if (v >= 1024 * 1024 * 1024) return `${(v / 1024 / 1024 / 1024).toFixed(2)} GiB`;
  if (v >= 1024 * 1024) return `${(v / 1024 / 1024).toFixed(1)} MiB`;
  if (v >= 1024) return `${(v / 1024).toFixed(1)} KiB`;
  return `${v} B`;
}

/** "7,613,913 B (7.3 MiB)" */
export function size(v: number): string {
  return v < 1024 ? `${v} B` : `${v.toLocaleString('en-US')} B (${bytes(v)})`;
}

export function rps(v: number): string {
  return !Number.isFinite(v) ? '—' : v >= 100 ? `${v.toFixed(0)} req/s` : `${v.toFixed(1)} req/s`;
}

export const sleep = (t: number) => new Promise<void>((r) => setTimeout(r, t));

/** A free TCP port on 127.0.0.1 (asked from the kernel, then released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Runs `worker` on `concurrency` loops until `durationMs` passes or `maxCount` jobs have started. */
export async function closedLoop(
  concurrency: number,
  durationMs: number,
  maxCount: number,
  worker: (i: number) => Promise<void>,
): Promise<{ started: number; elapsedMs: number }> {
  const t0 = performance.now();
  const end = t0 + durationMs;
  let next = 0;
  const loops = Array.from({ length: concurrency }, async () => {
    while (performance.now() < end && next < maxCount) {
      const i = next++;
      await worker(i);
    }
  });
  await Promise.all(loops);
  return { started: next, elapsedMs: performance.now() - t0 };
}

export function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

/** What every benchmark receives, and what it is. */
import type { BenchOutcome, Row } from './report.js';

export interface BenchContext {
  /** BENCH_SMOKE=1: tiny images, ~1 s runs; checks the harness works, measures nothing meaningful. */
  smoke: boolean;
  /** A scratch directory of this run (removed at the end). */
  tmp: string;
  /** Tools found: wrk and nginx are Debian packages that bench/setup.sh installs. */
  tools: { wrk: boolean; nginx: boolean };
  /** When to re-run a benchmark's server under --cpu-prof: on a missed target (default), always, never. */
  profile: 'miss' | 'always' | 'never';
  log(msg: string): void;
}

/** Whether to profile after these rows. */
export function wantProfile(ctx: BenchContext, rows: Row[]): boolean {
  if (ctx.profile === 'never') return false;
  return ctx.profile === 'always' || rows.some((r) => r.verdict === 'MISS');
}

export interface Benchmark {
  /** CLI name: `npm run bench -- <name>` (the number works too). */
  name: string;
  n: number;
  title: string;
  run(ctx: BenchContext): Promise<BenchOutcome>;
}

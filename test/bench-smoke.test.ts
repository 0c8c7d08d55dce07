/**
 * Keeps the benchmark harness (bench/) from rotting: runs `bench/run.ts` with BENCH_SMOKE=1 (tiny
 * images, sub-second runs, the server from the sources under tsx) into a temporary directory and checks
 * that every benchmark produced rows, the results file and the chart. Benchmarks whose Debian tools
 * (wrk, nginx) are missing report "skipped" with the reason. Also checks the .cpuprofile summariser.
 * Measures nothing: the numbers of a smoke run are meaningless.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { newestProfile, summariseProfile } from '../bench/lib/profile.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tmp = mkdtempSync(join(tmpdir(), 'pictor-bench-smoke-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(
  args: string[],
  env: Record<string, string>,
  timeoutMs: number,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, out });
    });
  });
}

describe('bench harness (smoke)', () => {
  it('runs all seven benchmarks on tiny inputs and writes latest.md and latest.png', async () => {
    const out = join(tmp, 'results');
    const r = await run(
      ['--import', 'tsx', 'bench/run.ts'],
      { BENCH_SMOKE: '1', BENCH_OUT: out, BENCH_PROFILE: 'never' },
      240_000,
    );
    expect(r.code, r.out.slice(-4000)).toBe(0);
    const md = readFileSync(join(out, 'latest.md'), 'utf8');
    for (const n of [1, 2, 3, 4, 5, 6, 7])
      expect(md, `benchmark ${n} has no row`).toMatch(new RegExp(`^\\| ${n} `, 'm'));
    expect(md).not.toMatch(/\| error/);
    expect(md).toMatch(/## Machine/);
    expect(md).toMatch(/sharp \/ libvips \| 0\.\d+\.\d+ \/ \d+\.\d+/);
    const png = readFileSync(join(out, 'latest.png'));
    expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
    // The table is printed too.
    expect(r.out).toMatch(/benchmark\s+figure\s+Pictor\s+baseline\s+ratio\s+target\s+verdict/);
  }, 250_000);

  it('summarises a V8 .cpuprofile by self time', () => {
    const dir = join(tmp, 'prof');
    const r = spawnSync(
      process.execPath,
      [
        '--cpu-prof',
        `--cpu-prof-dir=${dir}`,
        '-e',
        'function spin(){let x=0;for(let i=0;i<3e7;i++)x+=i%7;return x}spin()',
      ],
      { timeout: 30_000 },
    );
    expect(r.status).toBe(0);
    const file = newestProfile(dir);
    expect(file).toBeDefined();
    const s = summariseProfile(file!);
    expect(s.busyMs).toBeGreaterThan(0);
    expect(s.top.map((t) => t.name)).toContain('spin');
  });
});

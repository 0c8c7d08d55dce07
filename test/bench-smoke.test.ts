/**
 * Keeps the benchmark harness (bench/) from rotting: runs `bench/run.ts` with BENCH_SMOKE=1 (tiny
 * images, sub-second runs, the server from the sources under tsx) into a temporary directory and checks
 * that every benchmark produced rows, the results file and the chart. Benchmarks whose Debian tools
 * (wrk, nginx) are missing report "skipped" with the reason. Also checks the .cpuprofile summariser and
 * the perf report reader of the native profile.
 * Measures nothing: the numbers of a smoke run are meaningless.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cleanUp,
  compare,
  parseReport,
  perfUsable,
  perRequest,
  recordThread,
} from '../bench/lib/native-profile.js';
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

  it('reads perf report lines into CPU µs per request by kind, and compares two servers', () => {
    // Overhead, samples, dso, symbol: the columns `perf report --sort dso,sym -n -t '\t'` prints.
    const a = parseReport(
      [
        ' 50.00%\t 400 \t[kernel.kallsyms]\t[k] _copy_from_iter',
        ' 10.00%\t 80 \t[JIT] tid 7\t[.] JS:*route file:///srv/app/dist/server/app.js:72:27',
        ' 5.00%\t 40 \tnode\t[.] Builtins_LoadIC_Megamorphic',
        ' 2.50%\t 20 \tbetter_sqlite3.node\t[.] sqlite3VdbeExec',
        ' 1.25%\t 10 \t[JIT] tid 7\t[.] RegExp:[^\\t\\x20-\\x7e]',
        '',
        '# a comment line',
      ].join('\n'),
      1000,
    );
    // 400 samples of 1 ms over 1,000 requests: 400 µs per request.
    expect(a.find((r) => r.symbol === '_copy_from_iter')).toMatchObject({
      us: 400,
      group: expect.stringMatching(/^kernel/),
    });
    // A JIT frame's file is cut to its place in the tree, and the server's own JS has a kind of its own.
    expect(a.find((r) => r.symbol.startsWith('JS:*route'))).toMatchObject({
      symbol: 'JS:*route dist/server/app.js:72:27',
      us: 80,
      group: 'JS: the server’s own code',
    });
    expect(a.find((r) => r.symbol === 'sqlite3VdbeExec')?.group).toBe('SQLite (better-sqlite3)');
    expect(a.find((r) => r.symbol.startsWith('RegExp'))?.group).toBe('V8: regular expressions');
    const b = parseReport(' 60.00%\t 300 \t[kernel.kallsyms]\t[k] _copy_from_iter\n', 1000);
    const c = compare(['A', 'B'], a, b);
    expect(c.totalA).toBeCloseTo(400 + 80 + 40 + 20 + 10);
    expect(c.totalB).toBeCloseTo(300);
    // Kinds are ordered by how much more A spends there.
    expect(c.groups[0]).toEqual([expect.stringMatching(/^kernel/), 400, 300]);
    expect(c.markdown).toMatch(/\| `_copy_from_iter` \| kernel[^|]*\| 400\.00 \| 300\.00 \| \+100\.00 \|/);
    expect(parseReport(' 50.00%\t 400 \t[kernel.kallsyms]\t[k] x\n', 0)).toEqual([]);
  });

  // perf comes from Debian's linux-perf (bench/setup.sh); where it is missing, or the kernel refuses the
  // event, the benchmark leaves the native profile out, and so does this test.
  it.runIf(perfUsable())(
    'records a thread with perf and finds the JS function that spun',
    async () => {
      const file = join(tmp, 'spin.perf');
      const child = spawn(
        process.execPath,
        [
          '--perf-basic-prof',
          '-e',
          'function spin(){let x=0;for(let i=0;i<4e8;i++)x+=i%7;return x}setTimeout(()=>process.exit(0),1500);setTimeout(spin,100)',
        ],
        { stdio: 'ignore' },
      );
      const rec = recordThread(child.pid!, file);
      await new Promise((r) => child.once('exit', r));
      await rec.stop();
      const rows = perRequest(file, 1);
      cleanUp(child.pid!, file);
      const spin = rows.filter((r) => r.symbol.includes('spin'));
      // At least 0.3 s of the thread's CPU time in spin (a sample per ms).
      expect(spin.reduce((s, r) => s + r.us, 0)).toBeGreaterThan(300_000);
    },
    30_000,
  );
});

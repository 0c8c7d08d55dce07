/**
 * `npm run bench [-- <name>...]`: runs the benchmarks of bench/README.md against a Pictor server
 * started here as a child process, writes bench/results/latest.md (table, machine facts, notes,
 * profiles of missed targets) and latest.png (chart), and prints the table.
 *
 * Env: BENCH_SMOKE=1 (tiny sizes, ~1 s runs; what test/bench-smoke.test.ts runs), BENCH_OUT=<dir>
 * (default bench/results), BENCH_SERVER=dist|tsx (default dist: compiled into bench/.build; tsx in
 * smoke mode), BENCH_PROFILE=miss|always|never, BENCH_NO_SETUP=1 (skip bench/setup.sh).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { delivery } from './cases/delivery.js';
import { firstHit } from './cases/first-hit.js';
import { herd } from './cases/herd.js';
import { list } from './cases/list.js';
import { memory } from './cases/memory.js';
import { throughput } from './cases/throughput.js';
import { upload } from './cases/upload.js';
import type { BenchContext, Benchmark } from './lib/context.js';
import { versionOf, which } from './lib/peers.js';
import { ROOT, serverCommand, setServerCommand } from './lib/pictor.js';
import { killAll, machineCpuMs, ownCpuMs, serviceCpuMs } from './lib/procs.js';
import { chartPng, tableMarkdown, tableText, type Row } from './lib/report.js';
import { bytes, log, sleep } from './lib/util.js';

const ALL: Benchmark[] = [delivery, firstHit, throughput, herd, upload, list, memory];

const smoke = process.env.BENCH_SMOKE === '1';
const outDir = process.env.BENCH_OUT ?? join(ROOT, 'bench', 'results');
const profileMode = (process.env.BENCH_PROFILE ?? (smoke ? 'never' : 'miss')) as BenchContext['profile'];
if (!['miss', 'always', 'never'].includes(profileMode))
  throw new Error(`BENCH_PROFILE must be miss, always or never`);

function select(args: string[]): Benchmark[] {
  if (args.length === 0) return ALL;
  return args.map((a) => {
    const b = ALL.find((x) => x.name === a || String(x.n) === a);
    if (!b) {
      process.stderr.write(
        `unknown benchmark ${a}; one of: ${ALL.map((x) => `${x.n}/${x.name}`).join(', ')}\n`,
      );
      process.exit(2);
    }
    return b;
  });
}

/** bench/setup.sh (apt-get install nginx-light wrk when missing). */
function setup(): string | undefined {
  if (smoke || process.env.BENCH_NO_SETUP === '1') return undefined;
  if (which('nginx') && which('wrk')) return undefined;
  log('running bench/setup.sh (installs nginx and wrk from Debian)');
  const r = spawnSync('bash', [join(ROOT, 'bench/setup.sh')], {
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 600_000,
  });
  return r.status === 0
    ? undefined
    : `bench/setup.sh failed (exit ${r.status ?? r.signal}); benchmarks needing nginx or wrk are skipped`;
}

/**
 * Waits (at most `maxMs`) until other processes use less than 15% of the machine's CPU over a second,
 * so a benchmark does not start in the middle of someone else's test run. Returns the last share seen.
 */
async function waitQuiet(maxMs: number): Promise<number> {
  const end = Date.now() + maxMs;
  let share = 0;
  do {
    const m0 = machineCpuMs();
    const own0 = ownCpuMs();
    await sleep(1000);
    const m1 = machineCpuMs();
    share = Math.max(0, (m1.busy - m0.busy - (ownCpuMs() - own0)) / (m1.total - m0.total));
    if (share < 0.15) return share;
  } while (Date.now() < end);
  return share;
}

/** Compiles src/ into bench/.build/dist (never touching the project's dist/). */
function build(): string | undefined {
  const want = process.env.BENCH_SERVER ?? (smoke ? 'tsx' : 'dist');
  if (want === 'tsx') {
    setServerCommand({ kind: 'tsx' });
    return undefined;
  }
  const out = join(ROOT, 'bench', '.build', 'dist');
  rmSync(out, { recursive: true, force: true });
  log('compiling src/ into bench/.build/dist');
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', out], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 300_000,
  });
  const main = join(out, 'cli', 'main.js');
  if (r.status === 0 && existsSync(main)) {
    setServerCommand({ kind: 'dist', main });
    return undefined;
  }
  setServerCommand({ kind: 'tsx' });
  return `the TypeScript build failed, so the server ran from the sources under tsx: ${(r.stdout + r.stderr).trim().split('\n').slice(0, 3).join(' ')}`;
}

function machineFacts(): Array<[string, string]> {
  const cpuModel = (() => {
    try {
      return (
        /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ??
        cpus()[0]?.model ??
        '?'
      );
    } catch {
      return cpus()[0]?.model ?? '?';
    }
  })();
  const git = (args: string[]) =>
    spawnSync('git', args, { cwd: ROOT, encoding: 'utf8', timeout: 5000 }).stdout?.trim() ?? '';
  const commit = git(['rev-parse', '--short', 'HEAD']);
  const dirty = git(['status', '--porcelain', '--untracked-files=no']) !== '';
  const debian = (() => {
    try {
      return `Debian ${readFileSync('/etc/debian_version', 'utf8').trim()}`;
    } catch {
      return '';
    }
  })();
  const ipxVersion = (() => {
    try {
      return (
        JSON.parse(readFileSync(join(ROOT, 'node_modules/ipx/package.json'), 'utf8')) as { version: string }
      ).version;
    } catch {
      return 'not installed';
    }
  })();
  const sc = serverCommand();
  return [
    ['date', new Date().toISOString()],
    ['cores (nproc)', String(availableParallelism())],
    ['CPU', cpuModel],
    ['memory', bytes(totalmem())],
    ['OS', `${debian} (Linux ${release()})`.trim()],
    ['node', process.version],
    ['sharp / libvips', `${sharp.versions.sharp ?? '?'} / ${sharp.versions.vips}`],
    ['nginx', versionOf('nginx', ['-v']) ?? 'not installed'],
    ['wrk', versionOf('wrk', ['-v'])?.split(' [')[0] ?? 'not installed'],
    ['ipx', ipxVersion],
    [
      'Pictor',
      `${commit}${dirty ? ' (with uncommitted changes)' : ''}, server: ${sc.kind === 'dist' ? 'node bench/.build/dist/cli/main.js serve (compiled)' : 'node --import tsx src/cli/main.ts serve'}`,
    ],
    ['mode', smoke ? 'SMOKE (tiny sizes, 1 s runs: not a measurement)' : 'full'],
    [
      'load average at the end (1, 5, 15 min)',
      loadavg()
        .map((l) => l.toFixed(2))
        .join(', '),
    ],
  ];
}

async function main(): Promise<void> {
  const selected = select(process.argv.slice(2).filter((a) => a !== '--'));
  const t0 = Date.now();
  const watchdog = setTimeout(
    () => {
      process.stderr.write('bench: the watchdog fired (run took too long); killing children\n');
      killAll();
      process.exit(3);
    },
    smoke ? 230_000 : 30 * 60_000,
  );
  watchdog.unref();
  const warnings = [setup(), build()].filter((w): w is string => w !== undefined);
  for (const w of warnings) log(`warning: ${w}`);
  const tmp = mkdtempSync(join(tmpdir(), 'pictor-bench-run-'));
  const ctx: BenchContext = {
    smoke,
    tmp,
    tools: { wrk: which('wrk') !== undefined, nginx: which('nginx') !== undefined },
    profile: profileMode,
    log: (m) => log(m),
  };
  const rows: Row[] = [];
  const sections: string[] = [];
  const profiles: string[] = [];
  const explanations: string[] = [];
  const background: Array<[string, number]> = [];
  try {
    for (const b of selected) {
      const started = Date.now();
      log(`── ${b.n} ${b.title}`);
      if (!smoke) {
        const share = await waitQuiet(Number(process.env.BENCH_QUIET_WAIT_MS ?? 20_000));
        if (share >= 0.15)
          log(`   the machine is busy with other work (${(share * 100).toFixed(0)}% CPU); starting anyway`);
      }
      // CPU used on the machine by anything but the harness and its children (other people's work).
      // The PostgreSQL server is driven by the list benchmark: its CPU is the benchmark's, not noise.
      const m0 = machineCpuMs();
      const own0 = ownCpuMs();
      const pg0 = serviceCpuMs('postgres');
      try {
        const out = await b.run(ctx);
        const m1 = machineCpuMs();
        const pg = serviceCpuMs('postgres') - pg0;
        const foreign = Math.max(0, (m1.busy - m0.busy - (ownCpuMs() - own0) - pg) / (m1.total - m0.total));
        background.push([b.name, foreign]);
        rows.push(...out.rows);
        const bg =
          `Other processes (not the harness or its children) used ${(foreign * 100).toFixed(0)}% of the machine's CPU during this benchmark${foreign > 0.1 ? ': its numbers are disturbed by that load' : ''}` +
          (pg > 100
            ? ` (not counting the PostgreSQL server, which used ${((pg / (m1.total - m0.total)) * 100).toFixed(0)}% serving it).`
            : '.');
        sections.push(`### ${b.n} · ${b.title}\n\n${[...out.notes, bg].join('\n\n')}`);
        profiles.push(...out.profiles);
        explanations.push(...(out.explanations ?? []));
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        log(`${b.name} failed: ${e instanceof Error ? (e.stack ?? msg) : msg}`);
        rows.push({
          bench: `${b.n} ${b.title}`,
          figure: '(benchmark failed)',
          pictor: '—',
          baseline: '—',
          ratio: '—',
          target: '—',
          verdict: 'error',
          note: msg.slice(0, 300),
        });
      }
      log(`   ${b.name}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
  } finally {
    killAll();
    rmSync(tmp, { recursive: true, force: true });
  }
  const facts = machineFacts();
  facts.push([
    'CPU used by other processes during each benchmark',
    background.map(([n, f]) => `${n} ${(f * 100).toFixed(0)}%`).join(', ') || '—',
  ]);
  if (background.some(([, f]) => f > 0.1))
    warnings.push(
      `other processes used more than 10% of the CPU during ${background
        .filter(([, f]) => f > 0.1)
        .map(([n]) => n)
        .join(', ')}: those figures are disturbed (see Machine)`,
    );
  const missed = rows.filter((r) => r.verdict === 'MISS');
  const title = `Pictor benchmarks${smoke ? ' (smoke)' : ''}`;
  const md = [
    `# ${title}`,
    '',
    `\`npm run bench${selected.length === ALL.length ? '' : ` -- ${selected.map((b) => b.name).join(' ')}`}\` — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${((Date.now() - t0) / 1000).toFixed(0)} s. What each figure means: [bench/README.md](../README.md).`,
    '',
    tableMarkdown(rows),
    '',
    '![chart](latest.png)',
    '',
    '## Machine',
    '',
    '| fact | value |',
    '|---|---|',
    ...facts.map(([k, v]) => `| ${k} | ${v.replace(/\|/g, '\\|')} |`),
    '',
    ...(warnings.length ? ['## Warnings', '', ...warnings.map((w) => `- ${w}`), ''] : []),
    '## Missed targets',
    '',
    missed.length === 0
      ? 'None.'
      : [
          missed
            .map(
              (r) =>
                `- **${r.bench}: ${r.figure}** — ${r.pictor} against ${r.baseline} (${r.ratio}, target ${r.target}).`,
            )
            .join('\n'),
          '',
          '### Why',
          '',
          'Each missed benchmark was run once more with the server under `node --cpu-prof` (only the samples of the measured load are counted); with the CPU time the server used per request (all threads, from /proc), this is what the measurements say.',
          '',
          explanations.length ? explanations.join('\n\n') : '_No profile was taken (BENCH_PROFILE=never)._',
          '',
          '### Profiles',
          '',
          profiles.length ? profiles.join('\n\n') : '_No profile was taken (BENCH_PROFILE=never)._',
        ].join('\n'),
    '',
    ...(missed.length === 0 && profiles.length
      ? ['## Profiles', '', explanations.join('\n\n'), '', profiles.join('\n\n'), '']
      : []),
    '## Notes per benchmark',
    '',
    sections.join('\n\n'),
    '',
  ].join('\n');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'latest.md'), md);
  writeFileSync(
    join(outDir, 'latest.png'),
    await chartPng(rows, `${title} — ${facts[2]![1]}, ${facts[1]![1]} cores`),
  );
  process.stdout.write(`\n${tableText(rows)}\n\nwritten: ${join(outDir, 'latest.md')} and latest.png\n`);
  clearTimeout(watchdog);
  process.exitCode = rows.some((r) => r.verdict === 'error') ? 1 : 0;
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    killAll();
    process.exit(130);
  });
}
process.once('exit', () => killAll());

main().catch((e: unknown) => {
  killAll();
  process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});

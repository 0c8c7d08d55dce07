/**
 * A sampled profile of one server thread with Linux perf (`perf record -e cpu-clock` on the thread),
 * kernel and native frames included. V8's own profile (profile.ts) folds everything below a JS frame
 * into it: a socket write's time in the kernel, V8's inline-cache handlers, string flattening and
 * regular expressions all land on whichever JS function made the call, and it cannot see the
 * kernel at all. Two such profiles, Pictor's and bare node's under the same load, then say where
 * Pictor's extra CPU per request goes: which part is the kernel (the same bytes written either way),
 * which is V8 and Node's C++, which is Pictor's own JS.
 *
 * The sample period is fixed (`-c`, one sample per ms of the thread's CPU time), so a symbol's
 * samples × 1 ms / requests is its CPU time per request. JS frames are named from the map file
 * that node writes with `--perf-basic-prof`. perf comes from Debian's linux-perf (bench/setup.sh);
 * without it, or where the kernel refuses the event, this profile is left out.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

/**
 * CPU time per sample: perf's cpu-clock counts nanoseconds, so `-c 1000000` is a sample per ms (a
 * 2 s spin gave 1,905–2,098 samples). Each sample is a timer interrupt on the sampled thread; a
 * sample per ms makes ten times fewer of them than the one per 100 µs tried first.
 */
const PERIOD_NS = 1_000_000;

let usable: boolean | undefined;

/** Whether `perf record -e cpu-clock` works here (the binary exists and the kernel allows the event). */
export function perfUsable(): boolean {
  if (usable === undefined) {
    const r = spawnSync(
      'perf',
      ['record', '-e', 'cpu-clock', '-c', String(PERIOD_NS), '-o', '/dev/null', 'true'],
      {
        stdio: 'ignore',
        timeout: 10_000,
      },
    );
    usable = r.status === 0;
  }
  return usable;
}

/** A recording of one thread, started; `stop()` ends it (SIGINT, as perf expects) and waits for the file. */
export function recordThread(tid: number, file: string): { stop(): Promise<void> } {
  const child: ChildProcess = spawn(
    'perf',
    ['record', '-q', '-e', 'cpu-clock', '-c', String(PERIOD_NS), '-t', String(tid), '-o', file],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    async stop() {
      child.kill('SIGINT');
      await exited;
    },
  };
}

/** One symbol's CPU time per request, in µs, and the group it is counted in. */
export interface NativeRow {
  group: string;
  symbol: string;
  us: number;
}

/** Where a sampled frame belongs: the kernel, V8, Node's C++ and libuv, JS (Node's or Pictor's), SQLite, libc. */
function groupOf(dso: string, symbol: string): string {
  if (dso.startsWith('[kernel')) return 'kernel (syscalls, TCP, wake-ups)';
  if (dso.startsWith('[JIT]')) {
    if (symbol.startsWith('RegExp:')) return 'V8: regular expressions';
    if (symbol.includes('/node_modules/')) return 'JS: npm packages';
    if (symbol.includes(' file:')) return 'JS: the server’s own code';
    return 'JS: Node’s http, streams and events';
  }
  if (dso.includes('better_sqlite3')) return 'SQLite (better-sqlite3)';
  if (
    dso.startsWith('libc') ||
    dso.startsWith('libstdc++') ||
    dso.startsWith('[vdso]') ||
    dso.startsWith('libgcc')
  )
    return 'libc and libstdc++';
  if (dso === 'node') {
    if (symbol.includes('RegExp')) return 'V8: regular expressions';
    if (symbol.startsWith('Builtins_')) return 'V8: builtins (inline caches, strings, calls)';
    if (
      /^v8::internal::(Heap|Scaveng|Mark|Sweep|Evacuat|Concurrent|MinorMark|PagedSpace|SemiSpace)/.test(
        symbol,
      )
    )
      return 'V8: garbage collection';
    if (symbol.startsWith('v8::')) return 'V8: runtime and API';
    return 'Node C++ (HTTP parser, streams) and libuv';
  }
  return 'other';
}

/** A recording's samples by symbol, as CPU µs per request of `requests`. Empty when perf report fails. */
export function perRequest(file: string, requests: number): NativeRow[] {
  const r = spawnSync(
    'perf',
    ['report', '-i', file, '--no-children', '--sort', 'dso,sym', '-n', '-q', '-g', 'none', '-t', '\t'],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
  );
  if (r.status !== 0) return [];
  return parseReport(r.stdout, requests);
}

/**
 * `perf report --sort dso,sym -n -t '\t'` output (overhead, samples, dso, `[.] symbol` per line) as
 * CPU µs per request of `requests`.
 */
export function parseReport(text: string, requests: number): NativeRow[] {
  if (requests <= 0) return [];
  const rows: NativeRow[] = [];
  for (const line of text.split('\n')) {
    const cols = line.split('\t').map((c) => c.trim());
    if (cols.length < 4) continue;
    const samples = Number(cols[1]);
    if (!Number.isFinite(samples)) continue;
    const dso = cols[2]!;
    // `[.] name` / `[k] name`; a JIT frame's name carries its file, which differs between builds.
    const raw = cols[3]!.replace(/^\[[.k]\] /, '');
    const symbol = raw.replace(/file:\/\/\/\S*?\/(dist|src|bench)\//, '$1/');
    rows.push({ group: groupOf(dso, raw), symbol, us: (samples * PERIOD_NS) / 1000 / requests });
  }
  return rows;
}

/** Removes the map file `--perf-basic-prof` left for a process, and the recording. */
export function cleanUp(pid: number, file: string): void {
  rmSync(`/tmp/perf-${pid}.map`, { force: true });
  rmSync(file, { force: true });
}

const sum = (rows: NativeRow[]) => rows.reduce((a, r) => a + r.us, 0);

/**
 * The comparison as markdown: CPU µs per request by group for both servers, and the symbols where
 * the first spends the most more than the second. Also the totals, for the explanation.
 */
export function compare(
  names: [string, string],
  a: NativeRow[],
  b: NativeRow[],
  topN = 15,
): { markdown: string; totalA: number; totalB: number; groups: Array<[string, number, number]> } {
  const byGroup = (rows: NativeRow[]) => {
    const m = new Map<string, number>();
    for (const r of rows) m.set(r.group, (m.get(r.group) ?? 0) + r.us);
    return m;
  };
  const ga = byGroup(a);
  const gb = byGroup(b);
  const groups = [...new Set([...ga.keys(), ...gb.keys()])]
    .map((g): [string, number, number] => [g, ga.get(g) ?? 0, gb.get(g) ?? 0])
    .sort((x, y) => y[1] - y[2] - (x[1] - x[2]));
  const bySymbol = (rows: NativeRow[]) => {
    const m = new Map<string, NativeRow>();
    for (const r of rows) {
      const k = `${r.group}\u0000${r.symbol}`;
      const e = m.get(k);
      if (e) e.us += r.us;
      else m.set(k, { ...r });
    }
    return m;
  };
  const sa = bySymbol(a);
  const sb = bySymbol(b);
  const diffs = [...new Set([...sa.keys(), ...sb.keys()])]
    .map((k) => ({ row: sa.get(k) ?? sb.get(k)!, a: sa.get(k)?.us ?? 0, b: sb.get(k)?.us ?? 0 }))
    .sort((x, y) => y.a - y.b - (x.a - x.b))
    .slice(0, topN);
  const f = (n: number) => n.toFixed(2);
  const totalA = sum(a);
  const totalB = sum(b);
  const markdown = [
    `CPU time of the server's main thread per request, from \`perf record -e cpu-clock -c ${PERIOD_NS}\` (a sample per ${PERIOD_NS / 1_000_000} ms of its CPU time) under wrk, in runs of their own, so the totals need not match the CPU time of the measured rounds; compare the two servers with each other: ${names[0]} ${f(totalA)} µs, ${names[1]} ${f(totalB)} µs.`,
    '',
    `| where | ${names[0]} µs | ${names[1]} µs | difference |`,
    '|---|---:|---:|---:|',
    ...groups.map(([g, x, y]) => `| ${g} | ${f(x)} | ${f(y)} | ${x - y >= 0 ? '+' : ''}${f(x - y)} |`),
    '',
    `The ${topN} symbols with the most extra time in ${names[0]}:`,
    '',
    `| symbol | where | ${names[0]} µs | ${names[1]} µs | difference |`,
    '|---|---|---:|---:|---:|',
    ...diffs.map(
      (d) =>
        `| \`${d.row.symbol.replace(/\|/g, '\\|').slice(0, 90)}\` | ${d.row.group} | ${f(d.a)} | ${f(d.b)} | +${f(d.a - d.b)} |`,
    ),
  ].join('\n');
  return { markdown, totalA, totalB, groups };
}

/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function, top N.
 * Only the main JavaScript thread is sampled: libvips work runs on libuv/vips threads and shows up
 * here as `(idle)` (the event loop waiting for it), not as a function.
 * CLI: `npx tsx bench/lib/profile.ts <file.cpuprofile> [top]`.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './pictor.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface ProfileRow {
  name: string;
  where: string;
  selfMs: number;
  /** Share of the non-idle time. */
  share: number;
}

export interface ProfileSummary {
  file: string;
  /** Whether only the measured window was counted (else the whole process life). */
  windowed: boolean;
  totalMs: number;
  idleMs: number;
  busyMs: number;
  gcMs: number;
  top: ProfileRow[];
  /** Busy time grouped by what it was spent on (see BUCKETS). */
  buckets: Array<{ name: string; ms: number; share: number }>;
}

/** Where main-thread time goes, by function name and script: first match wins. */
const BUCKETS: Array<[string, (name: string, where: string) => boolean]> = [
  ['garbage collection', (n) => n === '(garbage collector)'],
  [
    'module loading (start-up)',
    (n, w) =>
      /^(wrapSafe|compileSourceTextModule|internalModuleStat|compileForInternalLoader|compileFunction)$/.test(
        n,
      ) || w.startsWith('node:internal/modules'),
  ],
  [
    'SQL store (Kysely, better-sqlite3, storage/sql)',
    (_n, w) => /better-sqlite3|kysely|storage\/sql/.test(w),
  ],
  ['PostgreSQL client (pg)', (_n, w) => /^(pg|pg-protocol|pg-pool)\//.test(w)],
  ['sharp / libvips calls (JS side)', (_n, w) => w.startsWith('sharp/')],
  [
    'socket writes and HTTP serialisation',
    (n, w) =>
      /^(writev|writevGeneric|writeBuffer|writeGeneric|writeUtf8String|_storeHeader|_writeRaw|processHeader)$/.test(
        n,
      ) || w.startsWith('node:_http'),
  ],
  [
    'file system (open, read, write, fsync, rename, stat)',
    (n) =>
      /^(openFileHandle|open|fsync|fdatasync|rename|fstat|stat|lstat|read|readFileUtf8|close|unlink|mkdir|writeFileHandle|readFileHandle|readdir|ftruncate)$/.test(
        n,
      ),
  ],
  [
    'Fastify / multipart parsing',
    (_n, w) =>
      /^(fastify|@fastify|find-my-way|avvio|busboy|light-my-request|secure-json-parse|fast-json-stringify)/.test(
        w,
      ),
  ],
  ['hashing / crypto', (_n, w) => w.startsWith('node:internal/crypto')],
  [
    'buffer copies',
    (n, w) => /^(_copyActual|copy|concat|indexOfBuffer|allocUnsafe)$/.test(n) || w === 'node:buffer',
  ],
  ['Pictor code', (_n, w) => w.startsWith('bench/.build/dist/') || w.startsWith('src/')],
  [
    'Node streams, timers and promise plumbing',
    (_n, w) =>
      /^node:internal\/(streams|stream_base_commons|process|timers|async_hooks|event_target|util)/.test(w) ||
      w === 'node:events' ||
      w === 'node:net',
  ],
  ['V8 / runtime (program)', (n) => n === '(program)'],
];

function shortUrl(url: string): string {
  if (!url) return '';
  let u = url.replace(/^file:\/\//, '');
  if (u.startsWith(ROOT)) u = u.slice(ROOT.length + 1);
  const nm = u.lastIndexOf('node_modules/');
  if (nm >= 0) u = u.slice(nm + 'node_modules/'.length);
  return u;
}

/** Microseconds on the monotonic clock V8 stamps profiles with (CLOCK_MONOTONIC on Linux, like hrtime). */
export function monoUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** Spans of the monotonic clock ([from, to] µs); samples outside them (start-up, warm-up, shutdown) are left out. */
export interface Window {
  spans: Array<[number, number]>;
}

export function summariseProfile(file: string, topN = 12, window: Window = { spans: [] }): ProfileSummary {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const samples = prof.samples ?? [];
  const deltas = prof.timeDeltas ?? [];
  // Sample i was taken at startTime + deltas[0..i]; its weight is the time to the next sample.
  // The window is used only when it overlaps the profile (both must be on the same monotonic clock).
  const spans = window.spans.filter(([a, b]) => a < prof.endTime && b > prof.startTime);
  const windowed = spans.length > 0;
  let t = prof.startTime;
  for (let i = 0; i < samples.length; i++) {
    t += deltas[i] ?? 0;
    if (windowed && !spans.some(([a, b]) => t >= a && t <= b)) continue;
    const dt = deltas[i + 1] ?? 0;
    const id = samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, dt));
  }
  const agg = new Map<string, { name: string; where: string; us: number }>();
  let idle = 0;
  let gc = 0;
  let total = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (!n) continue;
    total += us;
    const name = n.callFrame.functionName || '(anonymous)';
    if (name === '(idle)') {
      idle += us;
      continue;
    }
    if (name === '(garbage collector)') gc += us;
    const where = n.callFrame.url ? `${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}` : '';
    const key = `${name}\n${where}`;
    const a = agg.get(key) ?? { name, where, us: 0 };
    a.us += us;
    agg.set(key, a);
  }
  const busy = total - idle;
  const bucketUs = new Map<string, number>();
  for (const a of agg.values()) {
    const b = BUCKETS.find(([, test]) => test(a.name, a.where))?.[0] ?? 'other';
    bucketUs.set(b, (bucketUs.get(b) ?? 0) + a.us);
  }
  const buckets = [...bucketUs.entries()]
    .sort((x, y) => y[1] - x[1])
    .map(([name, us]) => ({ name, ms: us / 1000, share: busy > 0 ? us / busy : 0 }));
  const top = [...agg.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, topN)
    .map((a) => ({ name: a.name, where: a.where, selfMs: a.us / 1000, share: busy > 0 ? a.us / busy : 0 }));
  return {
    file,
    windowed,
    totalMs: total / 1000,
    idleMs: idle / 1000,
    busyMs: busy / 1000,
    gcMs: gc / 1000,
    top,
    buckets,
  };
}

/**
 * The newest main-thread .cpuprofile in a directory. Node names them
 * `CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile`; the main thread is thread 0 (a process
 * started with `--import tsx` also writes one for its module-loader thread).
 */
export function newestProfile(dir: string): string | undefined {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort();
  const main = files.filter((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f));
  const pick = main.length ? main : files;
  return pick.length ? join(dir, pick[pick.length - 1]!) : undefined;
}

/** Markdown: a short header line and a table of the top self-time functions. */
export function profileMarkdown(s: ProfileSummary, requests?: number): string {
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
  const lines = [
    `Main-thread CPU profile${s.windowed ? ' of the measured load only' : ' (whole process life, start-up included)'}: ${s.totalMs.toFixed(0)} ms sampled, ${s.busyMs.toFixed(0)} ms busy (${pct(s.totalMs ? s.busyMs / s.totalMs : 0)}), ${s.idleMs.toFixed(0)} ms idle (waiting on I/O or libvips threads), GC ${s.gcMs.toFixed(0)} ms${requests ? `; ${requests.toLocaleString('en-US')} requests: ${((s.busyMs * 1000) / requests).toFixed(1)} µs of busy main thread per request` : ''}.`,
    '',
    `Busy time by kind: ${s.buckets
      .filter((b) => b.share >= 0.02)
      .map((b) => `${b.name} ${pct(b.share)}`)
      .join(', ')}.`,
    '',
    '| self ms | % of busy | function | where |',
    '|---:|---:|---|---|',
    ...s.top.map(
      (r) =>
        `| ${r.selfMs.toFixed(1)} | ${pct(r.share)} | \`${r.name}\` | ${r.where ? `\`${r.where}\`` : ''} |`,
    ),
  ];
  return lines.join('\n');
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: npx tsx bench/lib/profile.ts <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  process.stdout.write(`${profileMarkdown(summariseProfile(file, Number(process.argv[3] ?? 20)))}\n`);
}

/**
 * Runs `fn` with a fresh profile directory (fn starts the server with `cpuProfDir`, calls `win.begin()`
 * and `win.end()` around the load to count, and stops the server cleanly, which is when node writes
 * the profile; it may return how many requests the window held) and returns the summary as markdown.
 */
export interface Profiled {
  markdown: string;
  summary?: ProfileSummary;
  /** Requests the measured window held, when the benchmark said. */
  requests?: number;
}

/** Busy main-thread time per request in µs, when known. */
export function busyPerRequestUs(p: Profiled): number | undefined {
  return p.summary && p.requests ? (p.summary.busyMs * 1000) / p.requests : undefined;
}

/** "GC 20%, SQL store 19%, …": the kinds of busy time at or above `min`, optionally leaving some out. */
export function bucketText(s: ProfileSummary | undefined, min = 0.05, except: string[] = []): string {
  if (!s) return 'no profile';
  return s.buckets
    .filter((b) => b.share >= min && !except.includes(b.name))
    .map((b) => `${b.name} ${(b.share * 100).toFixed(0)}%`)
    .join(', ');
}

/** "tryFastPath (delivery/fast-path.js) 4.6%, …": the top functions of Pictor's own code in a profile. */
export function pictorTop(s: ProfileSummary | undefined, n = 3): string {
  if (!s) return 'no profile';
  const own = s.top
    .filter((r) => r.where.startsWith('bench/.build/dist/') || r.where.startsWith('src/'))
    .slice(0, n);
  return own.length
    ? own
        .map(
          (r) =>
            `\`${r.name}\` (${r.where.replace(/^bench\/\.build\/dist\/|^src\//, '').replace(/:\d+$/, '')}) ${(r.share * 100).toFixed(1)}%`,
        )
        .join(', ')
    : 'none';
}

export async function profiled(
  title: string,
  tmp: string,
  fn: (dir: string, win: { begin(): void; end(): void }) => Promise<number | void>,
): Promise<Profiled> {
  const dir = mkdtempSync(join(tmp, 'prof-'));
  const window: Window = { spans: [] };
  let open: number | undefined;
  const win = {
    begin: () => {
      open = monoUs();
    },
    end: () => {
      if (open !== undefined) window.spans.push([open, monoUs()]);
      open = undefined;
    },
  };
  try {
    const requests = (await fn(dir, win)) ?? undefined;
    const file = newestProfile(dir);
    if (!file)
      return { markdown: `#### ${title}\n\nNo .cpuprofile was written (the server did not exit cleanly).` };
    const summary = summariseProfile(file, 12, window);
    return {
      markdown: `#### ${title}\n\n${profileMarkdown(summary, requests)}`,
      summary,
      ...(requests ? { requests } : {}),
    };
  } catch (e) {
    return { markdown: `#### ${title}\n\nProfiling failed: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/**
 * 1 · cached delivery: the `public` rendition (JPEG 1366×768, ~120 KB) of a photo, hammered by wrk
 * with 64 keep-alive connections, against nginx serving the same bytes from disk (at its default of
 * one worker per core, and as a single process) and a bare node:http server answering the same Buffer
 * from memory, one after another in the same run. Pictor runs on SQLite + files and, when the local
 * PostgreSQL answers, once more on PostgreSQL + S3 (s3rver).
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { wantProfile, type Benchmark, type BenchContext } from '../lib/context.js';
import { http } from '../lib/http.js';
import { dimensions, photoForRendition } from '../lib/images.js';
import { startBareNode, startNginx, type PeerServer } from '../lib/peers.js';
import { startPictor, type Pictor } from '../lib/pictor.js';
import { HEAP_FLAGS } from '../../src/server/node-flags.js';
import { treeCpuTimeMs, wakeupIpis } from '../lib/procs.js';
import { postgresUnavailable, startScaleOut } from '../lib/scale-out.js';
import { bucketText, busyPerRequestUs, pictorTop, profiled } from '../lib/profile.js';
import {
  cleanUp,
  compare,
  perfUsable,
  perRequest,
  recordThread,
  type NativeRow,
} from '../lib/native-profile.js';
import { atLeast, info, type Row } from '../lib/report.js';
import { rps, size, stats } from '../lib/util.js';
import { runWrk, type WrkResult } from '../lib/wrk.js';

const B = '1 cached delivery';
const ACCEPT = { accept: '*/*' };

function settings(ctx: BenchContext) {
  return ctx.smoke
    ? {
        source: { width: 1000, height: 600 },
        box: { width: 1366, height: 768 },
        target: 30_000,
        rounds: 1,
        seconds: 1,
        warm: 0,
        connections: 16,
        threads: 1,
      }
    : {
        source: { width: 2732, height: 1536 },
        box: { width: 1366, height: 768 },
        target: 120_000,
        rounds: 3,
        seconds: 5,
        warm: 2,
        connections: 64,
        threads: Number(process.env.BENCH_WRK_THREADS ?? 2),
      };
}

type Settings = ReturnType<typeof settings>;

interface Measured extends WrkResult {
  /** The server's CPU time (all threads) per 1,000 requests. */
  cpuMsPerKReq: number;
  /**
   * The machine's wake-up IPIs (CAL + RES, every CPU) per 1,000 requests during the run: how often a
   * write woke a sleeping wrk thread on the other core. NaN where /proc/interrupts has no such rows.
   */
  ipisPerKReq: number;
}

/** One measured wrk run against a server, with its CPU time. */
async function measured(
  url: string,
  s: Settings,
  pid: number,
  win?: { begin(): void; end(): void },
): Promise<Measured> {
  win?.begin();
  const cpu0 = treeCpuTimeMs(pid) ?? NaN;
  const ipi0 = wakeupIpis() ?? NaN;
  const r = await runWrk(url, {
    connections: s.connections,
    threads: s.threads,
    seconds: s.seconds,
    headers: ACCEPT,
  });
  const cpu1 = treeCpuTimeMs(pid) ?? NaN;
  const ipi1 = wakeupIpis() ?? NaN;
  win?.end();
  return {
    ...r,
    cpuMsPerKReq: ((cpu1 - cpu0) / r.requests) * 1000,
    ipisPerKReq: ((ipi1 - ipi0) / r.requests) * 1000,
  };
}

/** A short warm-up run (JIT, page cache, socket buffers). */
async function warmUp(url: string, s: Settings): Promise<void> {
  if (s.warm > 0)
    await runWrk(url, { connections: s.connections, threads: s.threads, seconds: s.warm, headers: ACCEPT });
}

/** Uploads the photo, warms the `public` rendition, returns its URL and bytes. */
async function warmRendition(p: Pictor, source: Buffer): Promise<{ url: string; body: Buffer }> {
  const id = await p.upload(source);
  const url = p.deliveryUrl(id, 'public');
  const first = await http(url, { headers: ACCEPT });
  if (first.status !== 200 || first.headers['content-type'] !== 'image/jpeg')
    throw new Error(`warm-up: ${first.status} ${String(first.headers['content-type'])}`);
  const second = await http(url, { headers: ACCEPT });
  if (second.headers['cf-cache-status'] !== 'HIT')
    throw new Error(`second request was not a cache hit: ${String(second.headers['cf-cache-status'])}`);
  return { url, body: second.body };
}

interface Target {
  name: string;
  url: string;
  pid: number;
  runs: Measured[];
}

/**
 * The wake-up sentence of the explanation, when the IPI counts show Pictor's answers waking wrk far
 * more often than bare node's do (empty otherwise, or where /proc/interrupts has no such rows).
 */
function wakeups(pictor: Measured, bare: Measured): string {
  if (!Number.isFinite(pictor.ipisPerKReq) || !Number.isFinite(bare.ipisPerKReq)) return '';
  const ratio = pictor.ipisPerKReq / Math.max(1, bare.ipisPerKReq);
  if (ratio < 1.5) return '';
  return (
    `Wake-up IPIs: ${pictor.ipisPerKReq.toFixed(0)} per 1,000 Pictor requests against ${bare.ipisPerKReq.toFixed(0)} for bare node (${ratio.toFixed(1)}×). ` +
    'A server that answers a little slower than wrk reads leaves wrk’s threads asleep, and each answer then wakes one on the other core through an inter-processor interrupt, paid in the sender’s system time (dearly in a virtual machine); bare node keeps wrk busy and pays almost none. Part of Pictor’s extra CPU per request is that wake-up, which grows as the gap does. '
  );
}

/** What the nine-header bare node run says of the gap (the longer head is a cost Pictor cannot drop). */
function headersSentence(pictor: Measured, bare: Measured, bareH: Measured): string {
  const h = bareH.requestsPerSec / bare.requestsPerSec;
  const start = `Bare node sending the nine headers of a cached Pictor answer instead of three served ${rps(bareH.requestsPerSec)} (${h.toFixed(2)}× its three-header figure; ${bareH.cpuMsPerKReq.toFixed(0)} against ${bare.cpuMsPerKReq.toFixed(0)} ms CPU per 1,000)`;
  return h < 1
    ? `${start}: that much of the gap is the head Cloudflare's API makes Pictor send, which Node validates and serialises header by header; Pictor reached ${(pictor.requestsPerSec / bareH.requestsPerSec).toFixed(2)}× it. `
    : `${start}: bare node was faster with the nine headers, given to \`writeHead\` as a flat array as Pictor gives them, than with its three in an object, so the head's length is not where the gap is; Pictor reached ${(pictor.requestsPerSec / bareH.requestsPerSec).toFixed(2)}× it. `;
}

/** The bare node:http target that sends the head of a cached Pictor answer. */
const BARE_HEADERS = "bare node:http (Pictor's headers)";
/** The bare node:http target started with node's default heap (the others get Pictor's HEAP_FLAGS). */
const BARE_DEFAULTS = "bare node:http (node's default heap)";

/** An info row: Pictor's requests/s against a baseline's, and the ratio. */
const rpsInfo = (figure: string, pictor: Measured, baseline: Measured): Row =>
  info(
    B,
    figure,
    rps(pictor.requestsPerSec),
    rps(baseline.requestsPerSec),
    `${(pictor.requestsPerSec / baseline.requestsPerSec).toFixed(2)}×`,
  );

/** An info row: `a`'s requests/s over `b`'s in each round (both measured in it), and their median. */
function perRoundInfo(figure: string, a: Target, b: Target): Row {
  const ratios = a.runs.map((r, i) => r.requestsPerSec / b.runs[i]!.requestsPerSec);
  return info(
    B,
    figure,
    ratios.map((x) => `${x.toFixed(2)}×`).join(', '),
    '—',
    `${stats(ratios).p50.toFixed(2)}×`,
  );
}

/** The target name of Pictor with PICTOR_PROCESSES = `n`. */
const PROCESSES_NAME = (n: number) => `Pictor (${n} processes)`;

/**
 * The order servers are measured in, round after round: reversed every other round (A B C, C B A),
 * since a server measured first in a round gets a few per cent more than one measured last.
 */
const inTurn = <T>(servers: readonly T[], round: number): readonly T[] =>
  round % 2 === 0 ? servers : [...servers].reverse();

/**
 * A baseline's URL for the same request line Pictor is sent: the delivery path of `pictorUrl` on the
 * baseline's origin. Bare node ignores the path and nginx serves the rendition's file from it, so
 * every server parses the same ~90-byte request target (a short `/r.jpg` spared the baselines the
 * parser's and the URL string's share of the work).
 */
const sameRequest = (origin: string, pictorUrl: string): string => `${origin}${new URL(pictorUrl).pathname}`;

/** The best run (interference from other processes only ever lowers requests/s). */
function best(t: Target): Measured {
  return t.runs.reduce((a, b) => (b.requestsPerSec > a.requestsPerSec ? b : a));
}

/**
 * Pictor and bare node:http under the same wrk load, each main thread sampled by perf (kernel and
 * native frames included: lib/native-profile.ts). Undefined where perf cannot record here.
 */
async function nativeComparison(
  ctx: BenchContext,
  source: Buffer,
  file: string,
  s: Settings,
): Promise<ReturnType<typeof compare> | undefined> {
  if (!perfUsable()) return undefined;
  ctx.log('delivery: perf record of Pictor and bare node:http under wrk');
  // Both up together and recorded in turn, three rounds each (every other round in reverse order),
  // as the measured rounds are: a drift of the machine's speed then falls on both.
  const rounds = ctx.smoke ? 1 : 3;
  const each = { ...s, seconds: ctx.smoke ? s.seconds : 3 };
  const stops: Array<() => Promise<unknown>> = [];
  const servers: Array<{
    name: string;
    url: string;
    pid: number;
    runs: Array<{ file: string; requests: number }>;
  }> = [];
  try {
    const p = await startPictor({ env: { NODE_OPTIONS: '--perf-basic-prof' } });
    stops.push(() => p.stop());
    const warm = await warmRendition(p, source);
    servers.push({ name: 'pictor', url: warm.url, pid: p.pid, runs: [] });
    const b = await startBareNode(file, [...HEAP_FLAGS, '--perf-basic-prof']);
    stops.push(() => b.stop());
    servers.push({ name: 'bare', url: sameRequest(b.url, warm.url), pid: b.child.pid!, runs: [] });
    for (const t of servers) await warmUp(t.url, s);
    for (let round = 0; round < rounds; round++) {
      for (const t of inTurn(servers, round)) {
        const out = join(ctx.tmp, `${t.name}-${round}.perf`);
        const rec = recordThread(t.pid, out);
        // perf needs a moment to attach before the measured run.
        await new Promise((r) => setTimeout(r, 300));
        const m = await measured(t.url, each, t.pid);
        await rec.stop();
        t.runs.push({ file: out, requests: m.requests });
      }
    }
    // Every recording's samples over the server's requests in all of them: CPU µs per request.
    const rows = servers.map((t) => {
      const total = t.runs.reduce((a, r) => a + r.requests, 0);
      return t.runs.flatMap((r) => perRequest(r.file, total));
    });
    const [pictor, bare] = rows as [NativeRow[], NativeRow[]];
    if (pictor.length === 0 || bare.length === 0) return undefined;
    const c = compare(['Pictor', 'bare node:http'], pictor, bare);
    return {
      ...c,
      markdown: `#### 1 cached delivery: where Pictor's extra CPU per request goes (perf)\n\n${rounds} round${rounds === 1 ? '' : 's'} of ${each.seconds} s per server, in turn. ${c.markdown}`,
    };
  } finally {
    for (const stop of stops.reverse()) await stop();
    for (const t of servers) for (const r of t.runs) cleanUp(t.pid, r.file);
  }
}

/** The perf comparison in a sentence: the total, then the groups that make up most of the difference. */
function nativeSentence(c: ReturnType<typeof compare>): string {
  const more = c.groups.filter(([, a, b]) => a - b >= 0.2);
  return (
    ` perf, which also sees the kernel and V8's native code, put Pictor's main thread at ${c.totalA.toFixed(1)} µs of CPU per request against ${c.totalB.toFixed(1)} µs for bare node (${c.totalA >= c.totalB ? `${(c.totalA - c.totalB).toFixed(1)} µs more` : `${(c.totalB - c.totalA).toFixed(1)} µs less`})` +
    (more.length
      ? `: ${more.map(([g, a, b]) => `${g} +${(a - b).toFixed(1)} µs`).join(', ')} (the perf table under Profiles has the symbols).`
      : '.')
  );
}

export const delivery: Benchmark = {
  name: 'delivery',
  n: 1,
  title: 'cached delivery',
  async run(ctx) {
    const s = settings(ctx);
    const notes: string[] = [];
    const profiles: string[] = [];
    if (!ctx.tools.wrk) {
      return {
        rows: [
          {
            ...info(B, 'requests/s, 64 connections', '—'),
            verdict: 'skipped',
            note: 'wrk is not installed (run bench/setup.sh: apt-get install wrk)',
          },
        ],
        notes,
        profiles,
      };
    }
    ctx.log('delivery: preparing the photo');
    const src = await photoForRendition(
      { ...s.source, grain: 1, blur: 2, quality: 90, seed: 11 },
      s.box,
      s.target,
    );
    const rows: Row[] = [];
    // All three servers up at once (an idle server costs nothing), measured in turn, round after round,
    // so a burst of someone else's load on the machine does not fall on one server only.
    const stops: Array<() => Promise<unknown>> = [];
    const targets: Target[] = [];
    let rendition: Buffer;
    let scaleOutWhy: string | undefined;
    const file = join(ctx.tmp, 'rendition.jpg');
    try {
      const p = await startPictor();
      stops.push(() => p.stop());
      const warm = await warmRendition(p, src.data);
      rendition = warm.body;
      targets.push({ name: 'Pictor', url: warm.url, pid: p.pid, runs: [] });
      // Pictor as its users run it: PICTOR_PROCESSES at its default, one per core (at least 2 here, so
      // the row measures the cluster even on a one-core machine).
      const cores = Math.max(2, availableParallelism());
      const pm = await startPictor({ env: { PICTOR_PROCESSES: String(cores) } });
      stops.push(() => pm.stop());
      const warmM = await warmRendition(pm, src.data);
      targets.push({ name: PROCESSES_NAME(cores), url: warmM.url, pid: pm.pid, runs: [] });
      // The same on PostgreSQL + S3 (s3rver), when the local PostgreSQL answers.
      scaleOutWhy = ctx.smoke ? 'not in smoke runs' : await postgresUnavailable();
      if (!scaleOutWhy) {
        const so = await startScaleOut(ctx.tmp, 'delivery');
        stops.push(() => so.close());
        const ps = await startPictor({ env: so.env });
        stops.push(() => ps.stop());
        const w = await warmRendition(ps, src.data);
        targets.push({ name: 'Pictor (PostgreSQL + S3)', url: w.url, pid: ps.pid, runs: [] });
      }
      if (ctx.tools.nginx) {
        // nginx: the same bytes from disk, at its default worker count and as a single process.
        for (const [name, workers] of [
          ['nginx', 'auto'],
          ['nginx (1 process)', 1],
        ] as const) {
          const dir = join(ctx.tmp, workers === 1 ? 'nginx-1' : 'nginx');
          const path = join(dir, 'html', new URL(warm.url).pathname);
          mkdirSync(dirname(path), { recursive: true });
          writeFileSync(path, rendition);
          const ng: PeerServer = await startNginx(dir, { workers });
          stops.push(() => ng.stop());
          const url = sameRequest(ng.url, warm.url);
          const check = await http(url);
          if (!check.body.equals(rendition)) throw new Error(`${name} does not serve the same bytes`);
          targets.push({ name, url, pid: ng.child.pid, runs: [] });
        }
      }
      // bare node:http: the same Buffer from memory, with three headers and with the head a cached
      // Pictor answer carries (nine), both with the heap flags Pictor runs with, so that the ratio
      // measures Pictor's code and not V8's configuration; and once more with node's default heap,
      // as a bare server is usually started (an info row: on some machines node's defaults leave a
      // server in a slower state, which would flatter Pictor).
      writeFileSync(file, rendition);
      for (const [name, pictorHeaders, nodeArgs] of [
        ['bare node:http', false, HEAP_FLAGS],
        [BARE_HEADERS, true, HEAP_FLAGS],
        [BARE_DEFAULTS, false, []],
      ] as const) {
        const bare = await startBareNode(file, [...nodeArgs], pictorHeaders);
        stops.push(() => bare.stop());
        const url = sameRequest(bare.url, warm.url);
        const check = await http(url);
        if (!check.body.equals(rendition)) throw new Error(`${name} does not serve the same bytes`);
        targets.push({ name, url, pid: bare.child.pid, runs: [] });
      }
      for (const t of targets) await warmUp(t.url, s);
      // In turn, so each server takes an early and a late turn.
      for (let round = 0; round < s.rounds; round++) {
        for (const t of inTurn(targets, round)) {
          ctx.log(`delivery: round ${round + 1}/${s.rounds}, wrk on ${t.name} (${s.seconds} s)`);
          t.runs.push(await measured(t.url, s, t.pid));
        }
      }
    } finally {
      for (const stop of stops.reverse()) await stop();
    }
    const pictorT = targets.find((t) => t.name === 'Pictor')!;
    const nginxT = targets.find((t) => t.name === 'nginx');
    const nginx1T = targets.find((t) => t.name === 'nginx (1 process)');
    const scaleT = targets.find((t) => t.name === 'Pictor (PostgreSQL + S3)');
    const bareT = targets.find((t) => t.name === 'bare node:http')!;
    const pictorWrk = best(pictorT);
    const multiT = targets.find((t) => t.name.startsWith('Pictor (') && t.name.endsWith(' processes)'))!;
    const multiWrk = best(multiT);
    const nginxWrk = nginxT ? best(nginxT) : undefined;
    const nginx1Wrk = nginx1T ? best(nginx1T) : undefined;
    const scaleWrk = scaleT ? best(scaleT) : undefined;
    const bareWrk = best(bareT);
    const bareHWrk = best(targets.find((t) => t.name === BARE_HEADERS)!);
    const bareDWrk = best(targets.find((t) => t.name === BARE_DEFAULTS)!);
    const dims = await dimensions(rendition);
    const srcDims = await dimensions(src.data);
    notes.push(
      `Source: photo-like JPEG ${srcDims.width}×${srcDims.height}, ${size(src.data.length)} (noise amplitude ${src.amplitude.toFixed(3)}, tuned so the rendition lands near ${size(s.target)}). ` +
        `Rendition served: the \`public\` variant with \`Accept: */*\`, JPEG ${dims.width}×${dims.height}, ${size(rendition.length)}. ` +
        'Every server is sent the same request line: Pictor’s delivery path (nginx serves the file at that path; bare node ignores it). ' +
        `wrk with ${s.threads} thread${s.threads === 1 ? '' : 's'} (with one, wrk itself caps nginx on this machine), ${s.connections} keep-alive connections. All servers were up together and measured one at a time: a ${s.warm} s warm-up each, then ${s.rounds} round${s.rounds === 1 ? '' : 's'} of ${s.seconds} s per server in turn (every other round in reverse order); the figure is each server's best round (other processes' load only ever lowers requests/s). ` +
        `nginx as its users run it: a master and \`worker_processes auto\` (one worker per core, ${availableParallelism()} here), and once more as one process (\`master_process off\`, \`worker_processes 1\`); both with sendfile, open_file_cache, access log off. Bare node: \`http.createServer\` answering the Buffer, started with Pictor's heap flags (\`${HEAP_FLAGS.join(' ')}\`) and once more with node's defaults. ` +
        (scaleWrk
          ? 'Pictor on PostgreSQL + S3: the local PostgreSQL server (a schema of its own) and s3rver in the harness process, both on 127.0.0.1.'
          : `Pictor on PostgreSQL + S3 not measured: ${scaleOutWhy}.`),
      `Requests/s per round: ${targets.map((t) => `${t.name} ${t.runs.map((r) => r.requestsPerSec.toFixed(0)).join(', ')}`).join('; ')}.`,
    );
    const results: Array<[string, Measured | undefined, string | undefined]> = [
      ['Pictor', pictorWrk, undefined],
      [multiT.name, multiWrk, undefined],
      ['Pictor (PostgreSQL + S3)', scaleWrk, scaleOutWhy],
      ['nginx', nginxWrk, ctx.tools.nginx ? undefined : 'not installed'],
      ['nginx (1 process)', nginx1Wrk, ctx.tools.nginx ? undefined : 'not installed'],
      ['bare node:http', bareWrk, undefined],
      [BARE_HEADERS, bareHWrk, undefined],
      [BARE_DEFAULTS, bareDWrk, undefined],
    ];
    if (nginxWrk && nginx1Wrk) {
      rows.push(
        atLeast(
          B,
          `requests/s vs nginx, both at their default of one process per core (${multiT.name})`,
          multiWrk.requestsPerSec,
          nginxWrk.requestsPerSec,
          0.6,
          rps,
        ),
      );
      rows.push(
        rpsInfo('requests/s, Pictor in one process vs nginx at its default workers', pictorWrk, nginxWrk),
      );
      rows.push(
        atLeast(
          B,
          'requests/s vs nginx, both one process (the old baseline)',
          pictorWrk.requestsPerSec,
          nginx1Wrk.requestsPerSec,
          0.6,
          rps,
        ),
      );
    } else
      rows.push({
        ...info(B, 'requests/s vs nginx (same bytes from disk)', rps(pictorWrk.requestsPerSec)),
        verdict: 'skipped',
        note: 'nginx is not installed (run bench/setup.sh)',
      });
    rows.push(
      atLeast(
        B,
        'requests/s vs bare node:http (same Buffer, same heap flags)',
        pictorWrk.requestsPerSec,
        bareWrk.requestsPerSec,
        0.95,
        rps,
      ),
    );
    // The same comparison, round by round: within a round Pictor and bare node run less than a
    // minute apart, so a drift of the machine's speed over the whole benchmark, which can hand either
    // server its best round, weighs less on each round's ratio than on the ratio of the two bests.
    // (stats' p50 is the nearest-rank median; with an odd number of rounds, the middle ratio.)
    rows.push(
      perRoundInfo('requests/s vs bare node:http, the median of the per-round ratios', pictorT, bareT),
    );
    rows.push(
      rpsInfo("requests/s vs bare node:http sending Pictor's nine response headers", pictorWrk, bareHWrk),
    );
    // What the 0.95× target leaves Pictor: bare node itself, sending the head a cached Pictor answer
    // carries (nine headers, each validated and serialised by Node), against the three of the
    // baseline, round by round as above. Pictor cannot go above this ratio without dropping headers.
    rows.push(
      perRoundInfo(
        "bare node:http sending Pictor's nine headers vs its three, per round and median (the head's own cost in Node)",
        targets.find((t) => t.name === BARE_HEADERS)!,
        bareT,
      ),
    );
    rows.push(rpsInfo("requests/s vs bare node:http started with node's default heap", pictorWrk, bareDWrk));
    if (scaleWrk)
      rows.push(
        atLeast(
          B,
          'requests/s on PostgreSQL + S3 vs SQLite + files',
          scaleWrk.requestsPerSec,
          pictorWrk.requestsPerSec,
          0.8,
          rps,
        ),
      );
    else
      rows.push({
        ...info(B, 'requests/s on PostgreSQL + S3 vs SQLite + files', '—'),
        verdict: 'skipped',
        note: scaleOutWhy ?? 'not measured',
      });
    const bad = results.filter(([, r]) => r && (r.non2xx > 0 || r.socketErrors));
    for (const [name, r] of bad)
      notes.push(`${name}: ${r!.non2xx} non-2xx responses; ${r!.socketErrors ?? 'no socket errors'}.`);
    notes.push(
      `wrk totals and the server's CPU time (user + system, all threads, from /proc/<pid>/stat) per 1,000 requests: ${results
        .map(([name, r, why]) =>
          r
            ? `${name} ${r.requests} requests, ${r.transferPerSec}/s, ${r.cpuMsPerKReq.toFixed(0)} ms CPU per 1k requests${Number.isFinite(r.ipisPerKReq) ? `, ${r.ipisPerKReq.toFixed(0)} wake-up IPIs per 1k requests` : ''}`
            : `${name} ${why}`,
        )
        .join('; ')}.`,
    );
    const explanations: string[] = [];
    if (wantProfile(ctx, rows)) {
      // Pictor and, for comparison, the bare node server under the same load: main-thread cost per request.
      const short = { ...s, seconds: s.seconds };
      ctx.log('delivery: profiling Pictor and bare node:http under wrk');
      // The bare node profile is sent the request line of the Pictor profile's rendition.
      let pictorUrl = '';
      const pp = await profiled('1 cached delivery: Pictor under wrk', ctx.tmp, async (dir, win) => {
        const pp = await startPictor({ cpuProfDir: dir });
        try {
          const warm = await warmRendition(pp, src.data);
          pictorUrl = warm.url;
          await warmUp(warm.url, short);
          return (await measured(warm.url, short, pp.pid, win)).requests;
        } finally {
          await pp.stop();
        }
      });
      const bp = await profiled(
        '1 cached delivery: bare node:http under wrk (for comparison)',
        ctx.tmp,
        async (dir, win) => {
          const b = await startBareNode(file, [...HEAP_FLAGS, '--cpu-prof', `--cpu-prof-dir=${dir}`]);
          try {
            const url = sameRequest(b.url, pictorUrl);
            await warmUp(url, short);
            return (await measured(url, short, b.child.pid, win)).requests;
          } finally {
            await b.stop();
          }
        },
      );
      profiles.push(pp.markdown, bp.markdown);
      const native = await nativeComparison(ctx, src.data, file, short);
      if (native) profiles.push(native.markdown);
      const pb = busyPerRequestUs(pp);
      const bb = busyPerRequestUs(bp);
      explanations.push(
        `**1 cached delivery.** The server process used ${pictorWrk.cpuMsPerKReq.toFixed(0)} ms of CPU per 1,000 requests against ${bareWrk.cpuMsPerKReq.toFixed(0)} ms for bare node:http${nginxWrk ? ` and ${nginxWrk.cpuMsPerKReq.toFixed(0)} ms for nginx` : ''} (${(pictorWrk.cpuMsPerKReq / bareWrk.cpuMsPerKReq).toFixed(2)}× bare node's). ` +
          (() => {
            const predicted = bareWrk.cpuMsPerKReq / pictorWrk.cpuMsPerKReq;
            const actual = pictorWrk.requestsPerSec / bareWrk.requestsPerSec;
            return Math.abs(actual / predicted - 1) < 0.15
              ? `Each server is one event loop sharing two cores with wrk, so requests/s follows CPU per request: the CPU ratio predicts ${predicted.toFixed(2)}× bare node's requests/s, ${actual.toFixed(2)}× was measured. `
              : `CPU per request does not account for the whole gap: it predicts ${predicted.toFixed(2)}× bare node's requests/s, ${actual.toFixed(2)}× was measured (wrk latency p99: Pictor ${pictorWrk.latencyP99Ms.toFixed(1)} ms, bare node ${bareWrk.latencyP99Ms.toFixed(1)} ms), so part of it is waiting, not work — stalls of the event loop (garbage collection pauses) or other processes' load in Pictor's rounds. `;
          })() +
          wakeups(pictorWrk, bareWrk) +
          headersSentence(pictorWrk, bareWrk, bareHWrk) +
          (pb !== undefined && bb !== undefined
            ? `The profiles put Pictor's main thread at ${pb.toFixed(1)} µs per request against ${bb.toFixed(1)} µs for bare node (${(pb / bb).toFixed(2)}×); both spend most of it in the socket write (\`writev\` of ~${Math.round(rendition.length / 1024)} KiB: ${bucketText(pp.summary, 0.02).split(', ')[0]} for Pictor, ${bucketText(bp.summary, 0.02).split(', ')[0]} for bare node). ` +
              `The rest of Pictor's is ${bucketText(pp.summary, 0.02, ['socket writes and HTTP serialisation']) || 'nothing above 2% of it'}; its own functions at the top: ${pictorTop(pp.summary)}.` +
              (pb > bb
                ? ` That per-request work (the fast path's memo lookup, rendition key and ETag, and the extra response headers) is what bare node does not do.`
                : '')
            : '') +
          (native ? nativeSentence(native) : ''),
      );
    }
    return { rows, notes, profiles, explanations };
  },
};

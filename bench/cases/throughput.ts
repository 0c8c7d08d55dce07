/**
 * 3 · transform throughput in the shape of imgproxy's published harness: photos fitted into 512×512,
 * JPEG / WebP / AVIF output, 2 concurrent clients, every request a cache miss; against ipx (npm,
 * sharp-based) on the same files, sizes and qualities.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { wantProfile, type Benchmark, type BenchContext } from '../lib/context.js';
import { agent, http, type Response } from '../lib/http.js';
import sharp from 'sharp';
import { photo } from '../lib/images.js';
import { startIpx } from '../lib/peers.js';
import { startPictor, type Pictor } from '../lib/pictor.js';
import { cpuTimeMs } from '../lib/procs.js';
import { bucketText, busyPerRequestUs, profiled } from '../lib/profile.js';
import { atLeast, type Row } from '../lib/report.js';
import { closedLoop, rps, size } from '../lib/util.js';

const B = '3 transform throughput';
type Format = 'jpeg' | 'webp' | 'avif';
type Source = 'jpg' | 'png' | 'webp';
/** One measured combination: the source file's format and the output format. */
interface Case {
  key: string;
  source: Source;
  out: Format;
}
/** JPEG photos into each output format, then PNG and WebP sources of the same pictures into JPEG. */
const CASES: readonly Case[] = [
  { key: 'jpeg', source: 'jpg', out: 'jpeg' },
  { key: 'webp', source: 'jpg', out: 'webp' },
  { key: 'avif', source: 'jpg', out: 'avif' },
  { key: 'png→jpeg', source: 'png', out: 'jpeg' },
  { key: 'webp→jpeg', source: 'webp', out: 'jpeg' },
];
const SOURCES: readonly Source[] = ['jpg', 'png', 'webp'];
/** PNG and WebP sources are the same photos at most this many px a side (a photo-like PNG at 12 MP passes the 10 MB upload limit). */
const LOSSLESS_SIDE = 2048;

function settings(ctx: BenchContext) {
  return ctx.smoke
    ? {
        sizes: [
          [640, 480],
          [800, 600],
        ] as Array<[number, number]>,
        seconds: 0.5,
        rounds: 1,
        clients: 2,
      }
    : {
        sizes: [
          [1920, 1280],
          [3000, 2000],
          [4032, 3024],
        ] as Array<[number, number]>,
        seconds: 5,
        rounds: 2,
        clients: 2,
      };
}

/** The photos as PNG (lossless) and WebP (q90) files, at most LOSSLESS_SIDE px a side. */
async function sourceSet(photos: Buffer[]): Promise<Record<Source, Buffer[]>> {
  const small = (b: Buffer) =>
    sharp(b).resize(LOSSLESS_SIDE, LOSSLESS_SIDE, { fit: 'inside', withoutEnlargement: true });
  return {
    jpg: photos,
    png: await Promise.all(photos.map((b) => small(b).png({ compressionLevel: 6 }).toBuffer())),
    webp: await Promise.all(photos.map((b) => small(b).webp({ quality: 90 }).toBuffer())),
  };
}

/** The photos (JPEG q90): also the sources of benchmark 4. */
export async function photoSet(ctx: BenchContext): Promise<Buffer[]> {
  const s = settings(ctx);
  return Promise.all(
    s.sizes.map(([width, height], i) =>
      photo({ width, height, grain: 1, blur: 1.5, amplitude: 0.8, quality: 90, seed: 30 + i }),
    ),
  );
}

/**
 * Request i's box and quality: every (image, w, h, q) is distinct for the first 3,840 requests per
 * image set, so nothing is ever served from a cache; the box changes by at most 15 px (≤ 3% of the work).
 */
function variation(i: number, images: number): { k: number; w: number; h: number; q: number } {
  const k = i % images;
  const j = Math.floor(i / images);
  return { k, w: 512 - (j % 16), h: 512 - (Math.floor(j / 16) % 16), q: 85 + (Math.floor(j / 256) % 5) };
}
const MAX_DISTINCT_PER_IMAGE = 16 * 16 * 5;

interface Run {
  ok: number;
  misses: number;
  errors: number;
  rps: number;
  outBytes: number;
  /** The server's CPU time (user + system, all threads) per successful request. */
  cpuMsPerReq: number;
}

async function load(
  urlOf: (i: number) => string,
  format: Format,
  seconds: number,
  clients: number,
  maxCount: number,
  missHeader: boolean,
  pid: number,
): Promise<Run & { started: number; cpuMs: number }> {
  const ag = agent(clients);
  let ok = 0;
  let misses = 0;
  let errors = 0;
  let outBytes = 0;
  let firstError = '';
  const mime = `image/${format}`;
  const cpu0 = cpuTimeMs(pid) ?? NaN;
  const { elapsedMs, started } = await closedLoop(clients, seconds * 1000, maxCount, async (i) => {
    const r = await http(urlOf(i), { agent: ag, headers: { accept: '*/*' }, discardBody: true }).catch(
      (e: unknown): Response => ({ status: 0, headers: {}, body: Buffer.from(String(e)), ms: 0 }),
    );
    if (r.status === 200 && r.headers['content-type'] === mime) {
      ok++;
      outBytes += r.bytes ?? r.body.length;
      if (!missHeader || r.headers['cf-cache-status'] === 'MISS') misses++;
    } else {
      errors++;
      firstError ||= `${r.status} ${String(r.headers['content-type'])} ${r.body.toString('utf8').slice(0, 200)}`;
    }
  });
  const cpu1 = cpuTimeMs(pid) ?? NaN;
  ag.destroy();
  if (ok === 0) throw new Error(`no successful ${format} request: ${firstError}`);
  return {
    ok,
    misses,
    errors,
    rps: ok / (elapsedMs / 1000),
    outBytes: outBytes / ok,
    cpuMsPerReq: (cpu1 - cpu0) / ok,
    started,
    cpuMs: cpu1 - cpu0,
  };
}

/** A server under test: how to build request i's URL for a format, and its pid. */
interface Server {
  name: string;
  pid: number;
  images: number;
  missHeader: boolean;
  urlOf(c: Case, i: number): string;
}

/** Pictor with flexible variants on and every source uploaded; warmed for every case. */
async function pictorServer(
  p: Pictor,
  sources: Record<Source, Buffer[]>,
  cases: readonly Case[],
): Promise<Server> {
  await p.api('PATCH', '/v1/config', { flexible_variants: true });
  const ids = {} as Record<Source, string[]>;
  for (const src of SOURCES) {
    ids[src] = [];
    for (const b of sources[src]) ids[src].push(await p.upload(b, `photo.${src}`));
  }
  // Warm-up outside the measured variations (w=600).
  for (const c of cases)
    for (const id of ids[c.source]) await http(p.deliveryUrl(id, `w=600,h=600,fit=scale-down,f=${c.out}`));
  return {
    name: 'Pictor',
    pid: p.pid,
    images: sources.jpg.length,
    missHeader: true,
    urlOf: (c, i) => {
      const v = variation(i, ids[c.source].length);
      return p.deliveryUrl(ids[c.source][v.k]!, `w=${v.w},h=${v.h},fit=scale-down,f=${c.out},q=${v.q}`);
    },
  };
}

/** ipx on the same files, warmed for every format. */
async function ipxServer(url: string, pid: number, images: number): Promise<Server> {
  for (const c of CASES)
    for (let k = 0; k < images; k++)
      await http(`${url}/s_600x600,fit_inside,f_${c.out}/photo-${k}.${c.source}`);
  return {
    name: 'ipx',
    pid,
    images,
    missHeader: false,
    urlOf: (c, i) => {
      const v = variation(i, images);
      // ipx takes the encoder quality as given; Pictor encodes AVIF at q − 25 (docs/delivery.md), so ipx gets the same encoder quality.
      return `${url}/s_${v.w}x${v.h},fit_inside,f_${c.out},q_${c.out === 'avif' ? v.q - 25 : v.q}/photo-${v.k}.${c.source}`;
    },
  };
}

interface Result {
  /** The best round's requests/s (other processes' load only ever lowers it). */
  rps: number;
  rounds: number[];
  ok: number;
  misses: number;
  errors: number;
  outBytes: number;
  /** Over all rounds. */
  cpuMsPerReq: number;
}

/** Rounds of `seconds` per server in turn, for each format; request indexes continue across rounds (never a cache hit). */
async function measureAll(
  servers: Server[],
  cases: readonly Case[],
  seconds: number,
  rounds: number,
  clients: number,
  log: (m: string) => void,
  win?: { begin(): void; end(): void },
): Promise<Record<string, Record<string, Result>>> {
  const out: Record<string, Record<string, Result>> = {};
  for (const c of cases) {
    const f = c.key;
    const runs = new Map<string, Array<Run & { started: number; cpuMs: number }>>();
    const next = new Map<string, number>();
    for (let r = 0; r < rounds; r++) {
      for (const srv of servers) {
        log(`throughput: ${f}, round ${r + 1}/${rounds}, ${srv.name} (${seconds} s)`);
        const from = next.get(srv.name) ?? 0;
        const limit = MAX_DISTINCT_PER_IMAGE * srv.images - from;
        if (limit <= 0) continue;
        win?.begin();
        const run = await load(
          (i) => srv.urlOf(c, from + i),
          c.out,
          seconds,
          clients,
          limit,
          srv.missHeader,
          srv.pid,
        );
        win?.end();
        next.set(srv.name, from + run.started);
        runs.set(srv.name, [...(runs.get(srv.name) ?? []), run]);
      }
    }
    for (const srv of servers) {
      const rs = runs.get(srv.name) ?? [];
      const ok = rs.reduce((a, x) => a + x.ok, 0);
      const row = out[srv.name] ?? {};
      out[srv.name] = row;
      row[f] = {
        rps: Math.max(...rs.map((x) => x.rps)),
        rounds: rs.map((x) => x.rps),
        ok,
        misses: rs.reduce((a, x) => a + x.misses, 0),
        errors: rs.reduce((a, x) => a + x.errors, 0),
        outBytes: rs.reduce((a, x) => a + x.outBytes * x.ok, 0) / ok,
        cpuMsPerReq: rs.reduce((a, x) => a + x.cpuMs, 0) / ok,
      };
    }
  }
  return out;
}

export const throughput: Benchmark = {
  name: 'throughput',
  n: 3,
  title: 'transform throughput',
  async run(ctx) {
    const s = settings(ctx);
    ctx.log('throughput: preparing photos');
    const photos = await photoSet(ctx);
    const dir = join(ctx.tmp, 'ipx-root');
    mkdirSync(dir, { recursive: true });
    const sources = await sourceSet(photos);
    for (const src of SOURCES)
      sources[src].forEach((b, i) => {
        writeFileSync(join(dir, `photo-${i}.${src}`), b);
      });
    // Both servers up at once (an idle server costs nothing), measured in turn, round after round.
    const p = await startPictor();
    let all: Record<string, Record<string, Result>>;
    try {
      const ipxChild = await startIpx(dir);
      try {
        const servers = [
          await pictorServer(p, sources, CASES),
          await ipxServer(ipxChild.url, ipxChild.child.pid, photos.length),
        ];
        all = await measureAll(servers, CASES, s.seconds, s.rounds, s.clients, (m) => ctx.log(m));
      } finally {
        await ipxChild.stop();
      }
    } finally {
      await p.stop();
    }
    const pictor = all.Pictor!;
    const ipx = all.ipx!;
    const FORMATS = CASES.map((c) => c.key);
    const label = (c: Case) =>
      c.source === 'jpg'
        ? `${c.out.toUpperCase()} requests/s, fit 512×512, 2 clients`
        : `${c.source.toUpperCase()} source → ${c.out.toUpperCase()} requests/s, fit 512×512, 2 clients`;
    const rows: Row[] = CASES.map((c) => atLeast(B, label(c), pictor[c.key]!.rps, ipx[c.key]!.rps, 1.2, rps));
    const dims = s.sizes.map(([w, h], i) => `${w}×${h} (${size(photos[i]!.length)})`).join(', ');
    const notes = [
      `Photos: ${photos.length} photo-like JPEGs at quality 90: ${dims}, requests rotating over them; the PNG and WebP sources are the same photos at most ${LOSSLESS_SIDE} px a side (PNG compression level 6: ${sources.png.map((b) => size(b.length)).join(', ')}; WebP q90: ${sources.webp.map((b) => size(b.length)).join(', ')}), both servers reading the same files. ` +
        `Pictor: flexible variants on, \`/cdn-cgi/imagedelivery/<hash>/<id>/w=<w>,h=<h>,fit=scale-down,f=<format>,q=<q>\`; ipx ${'3.x'}: \`/s_<w>x<h>,fit_inside,f_<format>,q_<q>/photo-<k>.jpg\` (ipx's own node server, its defaults: progressive JPEG, sharp's default AVIF effort 4; Pictor: progressive JPEG, WebP effort 4, AVIF effort 1). Pictor makes the renditions of the JPEGs above 2,048 px and of every PNG and WebP source (all above 1,024 px) from the image's intermediate master (docs/delivery.md, "Intermediate masters"), made once by the warm-up request; ipx decodes the source on every request. ` +
        `To keep every request uncached, request i varies the box and quality: w = 512 − (j mod 16), h = 512 − (⌊j/16⌋ mod 16), q = 85 + (⌊j/256⌋ mod 5) with j = ⌊i/${photos.length}⌋ — at most 15 px (3%) less than 512 and a quality in 85..89, the same sequence for both servers; ipx gets q − 25 for AVIF because Pictor encodes AVIF at q − 25. ` +
        `${s.clients} clients in closed loops (keep-alive). Both servers were up together and measured one at a time: one warm-up request per photo and format each, then for each format ${s.rounds} round${s.rounds === 1 ? '' : 's'} of ${s.seconds} s per server in turn; the figure is each server's best round (other processes' load only ever lowers requests/s), CPU per request is over all rounds.`,
      `Requests/s per round: ${FORMATS.map((f) => `${f}: Pictor ${pictor[f]!.rounds.map((x) => x.toFixed(1)).join(', ')}, ipx ${ipx[f]!.rounds.map((x) => x.toFixed(1)).join(', ')}`).join('; ')}.`,
      `Cache misses confirmed by \`Cf-Cache-Status: MISS\`: ${FORMATS.map((f) => `${f} ${pictor[f]!.misses}/${pictor[f]!.ok}`).join(', ')}. Errors: Pictor ${FORMATS.map((f) => pictor[f]!.errors).join('/')}, ipx ${FORMATS.map((f) => ipx[f]!.errors).join('/')}. Mean output size Pictor vs ipx: ${FORMATS.map((f) => `${f} ${(pictor[f]!.outBytes / 1024).toFixed(1)} vs ${(ipx[f]!.outBytes / 1024).toFixed(1)} KiB`).join(', ')}. ` +
        `Server CPU time (user + system, all threads, /proc/<pid>/stat) per request, Pictor vs ipx: ${FORMATS.map((f) => `${f} ${pictor[f]!.cpuMsPerReq.toFixed(1)} vs ${ipx[f]!.cpuMsPerReq.toFixed(1)} ms`).join(', ')} (2 cores = at most 2,000 ms of CPU per second).`,
    ];
    const profiles: string[] = [];
    const missed = CASES.filter((_, i) => rows[i]!.verdict === 'MISS');
    const missedKeys = missed.map((c) => c.key);
    const explanations: string[] = [];
    if (wantProfile(ctx, rows)) {
      ctx.log('throughput: profiling');
      const pr = await profiled(
        `3 transform throughput: Pictor, ${(missed.length ? missedKeys : FORMATS).join(', ')} (${s.seconds} s each)`,
        ctx.tmp,
        async (d, win) => {
          const pp = await startPictor({ cpuProfDir: d });
          try {
            const r = await measureAll(
              [await pictorServer(pp, sources, missed.length ? missed : CASES)],
              missed.length ? missed : CASES,
              s.seconds,
              1,
              s.clients,
              () => undefined,
              win,
            );
            return Object.values(r.Pictor ?? {}).reduce((a, x) => a + x.ok, 0);
          } finally {
            await pp.stop();
          }
        },
      );
      profiles.push(pr.markdown);
      const busy = busyPerRequestUs(pr);
      const fs = missed.length ? missedKeys : [...FORMATS];
      explanations.push(
        `**3 transform throughput (${fs.join(', ')}).** Server CPU time per request, Pictor vs ipx: ${fs.map((f) => `${f} ${pictor[f]!.cpuMsPerReq.toFixed(1)} vs ${ipx[f]!.cpuMsPerReq.toFixed(1)} ms (${((pictor[f]!.cpuMsPerReq / ipx[f]!.cpuMsPerReq - 1) * 100).toFixed(0)}%)`).join(', ')}. ` +
          `Both drive the same sharp/libvips build (resize into the box, encode at the same quality${fs.includes('avif') ? '' : ' and effort'}); Pictor decodes large sources once into an intermediate master, ipx decodes the source on every request; their outputs are within ${Math.max(...fs.map((f) => Math.abs(pictor[f]!.outBytes / ipx[f]!.outBytes - 1) * 100)).toFixed(1)}% in size. ` +
          (fs.every((f) => Math.abs(pictor[f]!.cpuMsPerReq / ipx[f]!.cpuMsPerReq - 1) < 0.1)
            ? 'Their CPU per request is within 10%, so requests/s cannot differ by 1.2× on a machine whose cores are the limit: beating ipx by that much would take less image work per request (a cheaper decode, resize or encoder setting), not less overhead. '
            : 'Where Pictor spends more CPU per request, that is the gap to close. ') +
          (busy !== undefined && pr.summary
            ? `Pictor's main thread was busy ${(busy / 1000).toFixed(2)} ms per request (${bucketText(pr.summary, 0.05)}) and idle ${((pr.summary.idleMs / pr.summary.totalMs) * 100).toFixed(0)}% of the time, waiting for the pipeline's threads.`
            : '') +
          (rows[2]?.verdict === 'pass' && !fs.includes('avif')
            ? " AVIF passes because Pictor encodes it at effort 1 where ipx uses sharp's default effort 4."
            : ''),
      );
    }
    return { rows, notes, profiles, explanations };
  },
};

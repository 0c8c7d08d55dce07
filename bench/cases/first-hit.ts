/**
 * 2 · first-hit transform: a 24 MP JPEG → the `public` variant (scale-down into 1366×768, JPEG q85),
 * on a fresh image each time (so never cached), against the bare sharp pipeline for the same operation
 * in-process.
 */
import sharp from 'sharp';
import { wantProfile, type Benchmark, type BenchContext } from '../lib/context.js';
import { http } from '../lib/http.js';
import { dimensions, photo, photoOfSize } from '../lib/images.js';
import { startPictor, type Pictor } from '../lib/pictor.js';
import { cpuTimeMs } from '../lib/procs.js';
import { bucketText, busyPerRequestUs, profiled } from '../lib/profile.js';
import { atMost, info, type Row } from '../lib/report.js';
import { ms, size, stats } from '../lib/util.js';

const B = '2 first-hit transform';

function settings(ctx: BenchContext) {
  return ctx.smoke
    ? { width: 2000, height: 1500, targetBytes: 600_000, n: 2 }
    : { width: 6000, height: 4000, targetBytes: 8_000_000, n: 8 };
}

/** The 24 MP source (also the 8 MB upload of benchmark 5). */
export async function source24(ctx: BenchContext): Promise<{ data: Buffer; quality: number }> {
  const s = settings(ctx);
  return photoOfSize(
    { width: s.width, height: s.height, grain: 1, blur: 1.5, amplitude: 1, seed: 2 },
    s.targetBytes,
    9_900_000,
  );
}

/** Uploads `n` fresh copies one by one and times the first GET of each one's `public` variant. */
async function pictorFirstHits(
  p: Pictor,
  data: Buffer,
  n: number,
  win?: { begin(): void; end(): void },
  after?: () => Promise<void>,
): Promise<{
  times: number[];
  cpuMs: number[];
  outBytes: number;
  outDims: { width: number; height: number };
}> {
  // Warm-up (JIT, libvips start): a small image and one copy of the source, not timed.
  const small = await photo({
    width: 800,
    height: 600,
    grain: 1,
    blur: 1.5,
    amplitude: 1,
    quality: 90,
    seed: 99,
  });
  for (const warm of [small, data]) {
    const r = await http(p.deliveryUrl(await p.upload(warm), 'public'), {
      headers: { accept: 'image/jpeg' },
    });
    if (r.status !== 200) throw new Error(`warm-up → ${r.status} ${r.body.toString().slice(0, 200)}`);
  }
  const times: number[] = [];
  const cpuMs: number[] = [];
  let last: Buffer = Buffer.alloc(0);
  for (let i = 0; i < n; i++) {
    const id = await p.upload(data);
    win?.begin();
    const cpu0 = cpuTimeMs(p.pid) ?? NaN;
    const r = await http(p.deliveryUrl(id, 'public'), { headers: { accept: 'image/jpeg' } });
    cpuMs.push((cpuTimeMs(p.pid) ?? NaN) - cpu0);
    win?.end();
    if (
      r.status !== 200 ||
      r.headers['cf-cache-status'] !== 'MISS' ||
      r.headers['content-type'] !== 'image/jpeg'
    ) {
      throw new Error(
        `first hit → ${r.status} ${String(r.headers['cf-cache-status'])} ${String(r.headers['content-type'])}`,
      );
    }
    times.push(r.ms);
    last = r.body;
    // The baseline runs here, between Pictor's requests, so both see the same conditions on the machine.
    await after?.();
  }
  return { times, cpuMs, outBytes: last.length, outDims: await dimensions(last) };
}

/** The same operation in-process: decode, fit inside 1366×768 without enlarging, progressive JPEG q85. */
function sharpRunner(data: Buffer, progressive: boolean) {
  const run = (buf: Buffer) =>
    sharp(buf)
      .resize(1366, 768, { fit: 'inside', withoutEnlargement: true })
      .jpeg({ quality: 85, progressive })
      .toBuffer();
  const times: number[] = [];
  const cpuMs: number[] = [];
  return {
    times,
    cpuMs,
    warm: () => run(Buffer.from(data)),
    async once() {
      const copy = Buffer.from(data); // a fresh buffer, as Pictor reads one from disk
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await run(copy);
      times.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpuMs.push((c.user + c.system) / 1000);
    },
  };
}

export const firstHit: Benchmark = {
  name: 'first-hit',
  n: 2,
  title: 'first-hit transform',
  async run(ctx) {
    const s = settings(ctx);
    ctx.log('first-hit: preparing the 24 MP photo');
    const src = await source24(ctx);
    const dims = await dimensions(src.data);
    const profiles: string[] = [];
    // sharp's operation cache is per process; off here so repeated runs of the same bytes are not served from it.
    sharp.cache(false);
    const progressive = sharpRunner(src.data, true);
    const baseline = sharpRunner(src.data, false);
    await progressive.warm();
    await baseline.warm();
    const p = await startPictor();
    let pictor: Awaited<ReturnType<typeof pictorFirstHits>>;
    try {
      ctx.log(`first-hit: ${s.n} first hits on Pictor, each followed by the bare sharp pipeline in-process`);
      pictor = await pictorFirstHits(p, src.data, s.n, undefined, async () => {
        await progressive.once();
        await baseline.once();
      });
    } finally {
      await p.stop();
    }
    sharp.cache(true);
    const ps = stats(pictor.times);
    const bs = stats(progressive.times);
    const rows: Row[] = [
      atMost(B, 'latency p50, 24 MP JPEG → 1366×768 JPEG q85', ps.p50, bs.p50, 1.15, ms),
      info(B, 'latency max', ms(ps.max), ms(bs.max), `${(ps.max / bs.max).toFixed(2)}×`),
      info(B, 'sharp with baseline (non-progressive) JPEG, p50', '—', ms(stats(baseline.times).p50)),
    ];
    const notes = [
      `Source: photo-like JPEG ${dims.width}×${dims.height} (${((dims.width * dims.height) / 1e6).toFixed(0)} MP), ${size(src.data.length)} (quality ${src.quality}, under the 10 MB upload limit). ` +
        `Pictor: ${s.n} fresh uploads of the same bytes (a new image id each, so every \`public\` request is a miss), each followed by one GET with \`Accept: image/jpeg\`, timed at the client (loopback, keep-alive); a warm-up image first. ` +
        `Output: JPEG ${pictor.outDims.width}×${pictor.outDims.height}, ${size(pictor.outBytes)}. ` +
        `Baseline, run right after each of Pictor's requests (so both meet the same conditions): \`sharp(buf).resize(1366, 768, { fit: 'inside', withoutEnlargement: true }).jpeg({ quality: 85, progressive: true }).toBuffer()\` in the harness process, the same output Pictor produces (Pictor emits progressive JPEG, as Cloudflare does, for outputs up to 3000 px), sharp's cache off, a fresh copy of the buffer each time; the non-progressive time is listed for reference.`,
    ];
    const cpuP = stats(pictor.cpuMs).p50;
    const cpuB = stats(progressive.cpuMs).p50;
    notes.push(
      `CPU time per first hit (user + system, all threads), p50: Pictor ${ms(cpuP)} (server process, during the GET), sharp ${ms(cpuB)} (harness process).`,
    );
    const explanations: string[] = [];
    if (wantProfile(ctx, rows)) {
      ctx.log('first-hit: profiling');
      const pr = await profiled(
        '2 first-hit transform: Pictor (the GETs only)',
        ctx.tmp,
        async (dir, win) => {
          const pp = await startPictor({ cpuProfDir: dir });
          try {
            return (await pictorFirstHits(pp, src.data, s.n, win)).times.length;
          } finally {
            await pp.stop();
          }
        },
      );
      profiles.push(pr.markdown);
      const busy = busyPerRequestUs(pr);
      explanations.push(
        `**2 first-hit transform.** Pictor's first hit took ${ms(ps.p50)} at p50 against ${ms(bs.p50)} for the same sharp pipeline in-process (${ms(ps.p50 - bs.p50)} more). ` +
          `CPU per request: ${ms(cpuP)} for the server against ${ms(cpuB)} for bare sharp, so ${cpuP - cpuB > 0 ? `${ms(cpuP - cpuB)} of extra work per request` : 'no extra work per request'}` +
          (busy !== undefined
            ? `; the server's main thread was busy ${ms(busy / 1000)} per request (${bucketText(pr.summary, 0.05)}), the rest of the time it waited for the pipeline's threads and the file system (reading the ${(src.data.length / 1e6).toFixed(1)} MB original, the header read before the transform).`
            : '.'),
      );
    }
    return { rows, notes, profiles, explanations };
  },
};

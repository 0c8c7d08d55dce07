/**
 * 5 · upload: multipart POSTs of 1 MB and 8 MB JPEGs from 8 concurrent clients, against an in-process
 * floor that does the least an upload must: read the header with sharp, write the bytes to disk, fsync.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { wantProfile, type Benchmark, type BenchContext } from '../lib/context.js';
import { agent, http, multipart } from '../lib/http.js';
import { dimensions, photoOfSize } from '../lib/images.js';
import { TOKEN, startPictor, type Pictor } from '../lib/pictor.js';
import { cpuTimeMs } from '../lib/procs.js';
import { bucketText, busyPerRequestUs, pictorTop, profiled } from '../lib/profile.js';
import { atMost, info, type Row } from '../lib/report.js';
import { closedLoop, ms, size, stats } from '../lib/util.js';
import { source24 } from './first-hit.js';

const B = '5 upload';
/** Pictor and the floor alternate, each for seconds / ROUNDS at a time. */
const ROUNDS = 2;

function settings(ctx: BenchContext) {
  return ctx.smoke
    ? {
        clients: 2,
        seconds: 0.5,
        small: { width: 800, height: 600, target: 100_000 },
        maxCount: { small: 40, large: 10 },
      }
    : {
        clients: 8,
        seconds: 6,
        small: { width: 2048, height: 1536, target: 1_000_000 },
        maxCount: { small: 2000, large: 240 },
      };
}

async function pictorUploads(
  p: Pictor,
  data: Buffer,
  clients: number,
  seconds: number,
  maxCount: number,
  win?: { begin(): void; end(): void },
): Promise<{ times: number[]; errors: number; rps: number; cpuMsPer: number }> {
  const form = multipart(data, 'photo.jpg', 'image/jpeg');
  const ag = agent(clients);
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': form.contentType };
  const url = `${p.images}/v1`;
  for (let i = 0; i < 2; i++) {
    const r = await http(url, { method: 'POST', agent: ag, headers, body: form.body });
    if (r.status !== 200) throw new Error(`upload → ${r.status} ${r.body.toString().slice(0, 300)}`);
  }
  const times: number[] = [];
  let errors = 0;
  win?.begin();
  const cpu0 = cpuTimeMs(p.pid) ?? NaN;
  const { elapsedMs } = await closedLoop(clients, seconds * 1000, maxCount, async () => {
    const r = await http(url, { method: 'POST', agent: ag, headers, body: form.body });
    if (r.status === 200) times.push(r.ms);
    else errors++;
  });
  const cpu1 = cpuTimeMs(p.pid) ?? NaN;
  win?.end();
  ag.destroy();
  return { times, errors, rps: times.length / (elapsedMs / 1000), cpuMsPer: (cpu1 - cpu0) / times.length };
}

/** The floor, in the harness process: sharp header read + write + fsync, same concurrency. */
async function floorUploads(
  data: Buffer,
  dir: string,
  clients: number,
  seconds: number,
  maxCount: number,
): Promise<{ times: number[]; cpuMsPer: number }> {
  const times: number[] = [];
  // Every file is kept until the run ends, as a store keeps what it was given: deleting each one as
  // soon as it was timed let the next writes reuse its freed blocks and page cache, a cost no store
  // has (on this ext4, 3 ms of system time per 8 MB write + fsync against 12-15 ms when kept).
  const written: string[] = [];
  const one = async (i: number, record: boolean) => {
    const copy = Buffer.from(data); // a fresh buffer, as a parsed request body would be
    const path = join(dir, `f-${i}`);
    const t0 = performance.now();
    const meta = await sharp(copy).metadata();
    if (!meta.width) throw new Error('floor: no width');
    const fh = await open(path, 'w');
    try {
      // One positional write, as Pictor's files store does: FileHandle.writeFile queues a thread-pool
      // job per 512 KiB, each waiting behind the other loops' fsyncs (4 threads, 8 loops).
      for (let done = 0; done < copy.length; )
        done += (await fh.write(copy, done, copy.length - done, done)).bytesWritten;
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (record) times.push(performance.now() - t0);
    written.push(path);
  };
  await one(-1, false);
  const cpu0 = process.cpuUsage();
  await closedLoop(clients, seconds * 1000, maxCount, (i) => one(i, true));
  const cpu = process.cpuUsage(cpu0);
  for (const path of written) await unlink(path);
  return { times, cpuMsPer: (cpu.user + cpu.system) / 1000 / times.length };
}

export const upload: Benchmark = {
  name: 'upload',
  n: 5,
  title: 'upload',
  async run(ctx) {
    const s = settings(ctx);
    ctx.log('upload: preparing the JPEGs');
    const small = await photoOfSize(
      { width: s.small.width, height: s.small.height, grain: 1, blur: 1.5, amplitude: 1, seed: 5 },
      s.small.target,
    );
    const large = await source24(ctx);
    const cases = [
      { label: ctx.smoke ? '100 KB' : '1 MB', data: small.data, max: s.maxCount.small },
      { label: ctx.smoke ? '600 KB' : '8 MB', data: large.data, max: s.maxCount.large },
    ];
    const rows: Row[] = [];
    const notes: string[] = [];
    const floorDir = mkdtempSync(join(ctx.tmp, 'floor-'));
    const results: Array<{
      label: string;
      pictor: Awaited<ReturnType<typeof pictorUploads>>;
      floor: Awaited<ReturnType<typeof floorUploads>>;
    }> = [];
    const p = await startPictor();
    try {
      for (const c of cases) {
        ctx.log(`upload: ${c.label} × ${s.clients} clients, ${s.seconds} s each, in ${ROUNDS} rounds`);
        // Pictor and the floor in turn, round after round: what the file system holds (dirty pages,
        // free space) changes as each writes, and a run that always came second would pay for it.
        const ps: Array<Awaited<ReturnType<typeof pictorUploads>>> = [];
        const fs: Array<Awaited<ReturnType<typeof floorUploads>>> = [];
        for (let round = 0; round < ROUNDS; round++) {
          const secs = s.seconds / ROUNDS;
          const max = Math.ceil(c.max / ROUNDS);
          ps.push(await pictorUploads(p, c.data, s.clients, secs, max));
          // Floor files go under the same file system as Pictor's data dir (both in the temp dir).
          fs.push(await floorUploads(c.data, floorDir, s.clients, secs, max));
        }
        const count = (xs: Array<{ times: number[] }>) => xs.reduce((n, x) => n + x.times.length, 0);
        const perUpload = (xs: Array<{ times: number[]; cpuMsPer: number }>) =>
          xs.reduce((n, x) => n + x.cpuMsPer * x.times.length, 0) / count(xs);
        results.push({
          label: c.label,
          pictor: {
            times: ps.flatMap((x) => x.times),
            errors: ps.reduce((n, x) => n + x.errors, 0),
            rps: ps.reduce((n, x) => n + x.rps, 0) / ps.length,
            cpuMsPer: perUpload(ps),
          },
          floor: { times: fs.flatMap((x) => x.times), cpuMsPer: perUpload(fs) },
        });
      }
    } finally {
      await p.stop();
      rmSync(floorDir, { recursive: true, force: true });
    }
    for (const r of results) {
      const ps = stats(r.pictor.times);
      const fs = stats(r.floor.times);
      rows.push(atMost(B, `${r.label} JPEG, ${s.clients} clients: latency p50`, ps.p50, fs.p50, 2, ms));
      rows.push(
        info(
          B,
          `${r.label} JPEG: p99, uploads/s`,
          `${ms(ps.p99)}, ${r.pictor.rps.toFixed(1)}/s`,
          `${ms(fs.p99)}`,
        ),
      );
    }
    const d1 = await dimensions(small.data);
    const d8 = await dimensions(large.data);
    notes.push(
      `Files: ${d1.width}×${d1.height} JPEG, ${size(small.data.length)}; ${d8.width}×${d8.height} JPEG, ${size(large.data.length)} (photo-like). ` +
        `Pictor: \`POST /images/v1\` multipart (one \`file\` part, body built once), ${s.clients} clients in closed loops over keep-alive sockets, ${s.seconds} s per size in ${ROUNDS} rounds alternating with the floor's, after 2 warm-up uploads; every upload makes a new image (Pictor writes the blob with fsync, then the row). ` +
        `Floor: in the harness process, ${s.clients} concurrent loops of \`sharp(bytes).metadata()\` + open/one positional write/fsync/close of a new file in the same temp file system, every file kept until the run ends as Pictor keeps its blobs (deleting each right after its fsync, as this floor did before 2026-12-01, let the next writes reuse its blocks and page cache: 3 ms of system time per 8 MB against 12-15 ms when kept). ` +
        `Counts: ${results.map((r) => `${r.label}: Pictor ${r.pictor.times.length} (${r.pictor.errors} errors), floor ${r.floor.times.length}`).join('; ')}. CPU time per upload (user + system, all threads): ${results.map((r) => `${r.label}: Pictor ${r.pictor.cpuMsPer.toFixed(1)} ms (server process), floor ${r.floor.cpuMsPer.toFixed(1)} ms (harness process)`).join('; ')}.`,
    );
    const profiles: string[] = [];
    const explanations: string[] = [];
    if (wantProfile(ctx, rows)) {
      ctx.log('upload: profiling');
      const pr = await profiled(`5 upload: Pictor, ${cases[0]!.label} uploads`, ctx.tmp, async (dir, win) => {
        const pp = await startPictor({ cpuProfDir: dir });
        try {
          // The smaller size (its fixed costs show best); the window covers its measured loop.
          const c = cases[0]!;
          return (
            await pictorUploads(pp, c.data, s.clients, Math.max(2, Math.round(s.seconds / 2)), c.max, win)
          ).times.length;
        } finally {
          await pp.stop();
        }
      });
      profiles.push(pr.markdown);
      const busy = busyPerRequestUs(pr);
      explanations.push(
        `**5 upload.** With ${s.clients} clients in closed loops, latency is set by throughput (Little's law: ${results.map((r) => `${r.label}: ${s.clients} ÷ ${r.pictor.rps.toFixed(1)}/s = ${ms((s.clients / r.pictor.rps) * 1000)} against a measured p50 of ${ms(stats(r.pictor.times).p50)}`).join('; ')}), and throughput by the server's cost per upload: ` +
          `${results.map((r) => `${r.label}: ${r.pictor.cpuMsPer.toFixed(1)} ms of CPU per upload against the floor's ${r.floor.cpuMsPer.toFixed(1)} ms`).join('; ')}. ` +
          (busy !== undefined && pr.summary
            ? `Of that, the main thread — where requests queue — is busy ${(busy / 1000).toFixed(2)} ms per ${cases[0]!.label} upload: ${bucketText(pr.summary, 0.05)}. The floor does none of the HTTP, multipart parsing, probing (file-type plus sharp's header read), SQL writes or the garbage those allocate. Pictor's own functions among the top ones: ${pictorTop(pr.summary)}.`
            : ''),
      );
    }
    return { rows, notes, profiles, explanations };
  },
};

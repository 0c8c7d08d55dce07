/**
 * 4 · thundering herd: 64 concurrent first requests for one rendition must run exactly one transform
 * and finish about as fast as one request alone (on a twin image: the same bytes, another id). Then
 * the same herd on one node of PICTOR_PROCESSES workers (one per core, at least 2): the 64 sockets are
 * spread over the workers by the primary, and single-flight must still hold across processes.
 */
import { availableParallelism } from 'node:os';
import { wantProfile, type Benchmark, type BenchContext } from '../lib/context.js';
import { agent, http, type Response } from '../lib/http.js';
import { dimensions } from '../lib/images.js';
import { startPictor, type Pictor } from '../lib/pictor.js';
import { childPids, cpuTimeMs } from '../lib/procs.js';
import { bucketText, busyPerRequestUs, profiled } from '../lib/profile.js';
import { atMost, info, type Row } from '../lib/report.js';
import { ms, size, stats } from '../lib/util.js';
import { photoSet } from './throughput.js';

const B = '4 thundering herd';

function settings(ctx: BenchContext) {
  return ctx.smoke ? { herd: 8, herds: 1 } : { herd: 64, herds: 2 };
}

interface Herd {
  times: number[];
  statuses: Record<number, number>;
  transforms: number;
  misses: number;
}

interface HerdRun {
  singles: number[];
  herds: Herd[];
}

/**
 * Alternates single first requests (each on a twin: the same bytes, another id) and herds (`herdSize`
 * first requests at once for one fresh image): single, herd, single, herd, …, single.
 */
async function herdRun(
  p: Pictor,
  source: Buffer,
  herdSize: number,
  herds: number,
  win?: { begin(): void; end(): void },
): Promise<HerdRun> {
  const ag = agent(herdSize);
  const accept = { accept: 'image/jpeg' };
  // One warm image: JIT and libvips warm-up, and its (cached) rendition opens all the sockets.
  const warmId = await p.upload(source);
  const warmUrl = p.deliveryUrl(warmId, 'public');
  await http(warmUrl, { agent: ag, headers: accept });
  await Promise.all(Array.from({ length: herdSize }, () => http(warmUrl, { agent: ag, headers: accept })));
  const singles: number[] = [];
  const single = async () => {
    const r = await http(p.deliveryUrl(await p.upload(source), 'public'), { agent: ag, headers: accept });
    if (r.status !== 200 || r.headers['cf-cache-status'] !== 'MISS')
      throw new Error(`single request → ${r.status} ${String(r.headers['cf-cache-status'])}`);
    singles.push(r.ms);
  };
  const out: Herd[] = [];
  await single();
  for (let h = 0; h < herds; h++) {
    const url = p.deliveryUrl(await p.upload(source), 'public');
    const before = await p.transforms();
    win?.begin();
    // Bodies are counted, not kept, so the client's own work stays small next to the server's.
    const results: Response[] = await Promise.all(
      Array.from({ length: herdSize }, () => http(url, { agent: ag, headers: accept, discardBody: true })),
    );
    win?.end();
    const after = await p.transforms();
    const statuses: Record<number, number> = {};
    for (const r of results) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    out.push({
      times: results.map((r) => r.ms),
      statuses,
      transforms: after - before,
      misses: results.filter((r) => r.headers['cf-cache-status'] === 'MISS').length,
    });
    await single();
  }
  ag.destroy();
  return { singles, herds: out };
}

export const herd: Benchmark = {
  name: 'herd',
  n: 4,
  title: 'thundering herd',
  async run(ctx) {
    const s = settings(ctx);
    const photos = await photoSet(ctx);
    const source = photos[photos.length - 1]!;
    const dims = await dimensions(source);
    const p = await startPictor();
    let r: HerdRun;
    try {
      ctx.log(`herd: ${s.herd} concurrent first requests`);
      r = await herdRun(p, source, s.herd, s.herds);
    } finally {
      await p.stop();
    }
    // The same herds on one node of several processes.
    const processes = Math.max(2, availableParallelism());
    const pp = await startPictor({ env: { PICTOR_PROCESSES: String(processes) } });
    let rp: HerdRun;
    let workerCpu: number[];
    try {
      ctx.log(`herd: ${s.herd} concurrent first requests over ${processes} processes`);
      const workers = childPids(pp.pid);
      const cpuBefore = workers.map((w) => cpuTimeMs(w) ?? 0);
      rp = await herdRun(pp, source, s.herd, s.herds);
      workerCpu = workers.map((w, i) => (cpuTimeMs(w) ?? 0) - cpuBefore[i]!);
    } finally {
      await pp.stop();
    }
    const single = stats(r.singles).p50;
    // The herd with the lower p99 (other processes' load only ever raises it); every herd must run one transform.
    const bestHerd = r.herds.reduce((a, b) => (stats(b.times).p99 < stats(a.times).p99 ? b : a));
    const h = stats(bestHerd.times);
    const maxTransforms = Math.max(...r.herds.map((x) => x.transforms));
    /** Exactly one transform in every herd, and every request answered 200. */
    const oneTransform = (what: string, run: HerdRun): Row => {
      const most = Math.max(...run.herds.map((x) => x.transforms));
      const ok = most === 1 && run.herds.every((x) => (x.statuses[200] ?? 0) === s.herd);
      return {
        ...info(B, what, run.herds.map((x) => String(x.transforms)).join(', '), '1', '—', 'exactly 1'),
        verdict: ok ? 'pass' : 'MISS',
        headroom: ok ? 1 : 1 / Math.max(1, most),
      };
    };
    const rows: Row[] = [
      oneTransform(`transforms for ${s.herd} concurrent first requests`, r),
      atMost(B, `p99 of the ${s.herd} vs one request alone`, h.p99, single, 1.3, ms),
      oneTransform(
        `transforms for ${s.herd} concurrent first requests spread over ${processes} processes`,
        rp,
      ),
    ];
    const notes = [
      `Source: photo-like JPEG ${dims.width}×${dims.height}, ${size(source.length)}; rendition: the \`public\` variant with \`Accept: image/jpeg\`. ` +
        `Single: the median of ${r.singles.length} first requests, one at a time, each for a twin (the same bytes uploaded again: another id, so uncached) — ${r.singles.map((t) => t.toFixed(0)).join(', ')} ms. ` +
        `Herd: ${s.herd} requests for one fresh image sent at once over ${s.herd} already-open keep-alive sockets, ${r.herds.length} time${r.herds.length === 1 ? '' : 's'} (alternating with the singles); p99 per herd ${r.herds.map((x) => ms(stats(x.times).p99)).join(', ')}; the figure is the lower (other processes' load only ever raises it): p50 ${ms(h.p50)}, p99 ${ms(h.p99)}, max ${ms(h.max)}. ` +
        `Statuses: ${r.herds
          .map((x) =>
            Object.entries(x.statuses)
              .map(([k, v]) => `${k} × ${v}`)
              .join(', '),
          )
          .join(
            '; ',
          )}; \`Cf-Cache-Status: MISS\` on ${r.herds.map((x) => x.misses).join(', ')} per herd (the rest joined the one in flight). Transforms counted from \`pictor_transforms_total\` on /metrics before and after each herd.`,
      `Herd over processes: a second Pictor with \`PICTOR_PROCESSES=${processes}\` (a primary and ${processes} workers on one port; the primary hands each new connection to the next worker, so the ${s.herd} keep-alive sockets are spread over all of them), the same singles and herds; transforms per herd ${rp.herds.map((x) => x.transforms).join(', ')} (added up over the workers by the primary's /metrics), statuses ${rp.herds
        .map((x) =>
          Object.entries(x.statuses)
            .map(([k, v]) => `${k} × ${v}`)
            .join(', '),
        )
        .join(
          '; ',
        )}, p99 per herd ${rp.herds.map((x) => ms(stats(x.times).p99)).join(', ')}; CPU time of each worker during the run ${workerCpu.map((c) => ms(c)).join(', ')} (every worker served part of it). Single-flight across processes is a lock file per rendition in the cache directory: the holder transforms, the others wait for the lock to go and read the rendition from the disk tier.`,
    ];
    const profiles: string[] = [];
    const explanations: string[] = [];
    if (wantProfile(ctx, rows)) {
      ctx.log('herd: profiling');
      const pr = await profiled('4 thundering herd: Pictor (the herd only)', ctx.tmp, async (dir, win) => {
        const pp = await startPictor({ cpuProfDir: dir });
        try {
          await herdRun(pp, source, s.herd, s.herds, win);
          return s.herd * s.herds;
        } finally {
          await pp.stop();
        }
      });
      profiles.push(pr.markdown);
      const busy = busyPerRequestUs(pr);
      explanations.push(
        `**4 thundering herd.** ${maxTransforms === 1 ? 'Single-flight held (one transform per herd).' : `Up to ${maxTransforms} transforms ran for one rendition: single-flight did not hold.`} ` +
          `The herd's requests finished between ${ms(h.min)} and ${ms(h.max)} against ${ms(single)} for one request alone. ` +
          (pr.summary
            ? `During the herd the main thread was busy ${ms(pr.summary.busyMs)} of ${ms(pr.summary.totalMs)} (${busy !== undefined ? `${(busy / 1000).toFixed(2)} ms per request; ` : ''}${bucketText(pr.summary, 0.05)}): every request is resolved and looked up in the cache before it joins the transform in flight, and the ${s.herd} responses are written one after another.`
            : ''),
      );
    }
    return { rows, notes, profiles, explanations };
  },
};

/**
 * 7 · memory: 16 concurrent transforms of 100 MP sources while another client uploads decompression
 * bombs; the server's RSS is sampled every 50 ms. Peak RSS must stay ≤ 1.5 GB, the server must not
 * crash, and every bomb must be refused (4xx) from its header, before any decoding.
 */
import { wantProfile, type Benchmark, type BenchContext } from '../lib/context.js';
import { agent, http, multipart, type Response } from '../lib/http.js';
import { dimensions, photoOfSize, pngBomb } from '../lib/images.js';
import { TOKEN, startPictor, type Pictor } from '../lib/pictor.js';
import { rssSampler } from '../lib/procs.js';
import { bucketText, profiled } from '../lib/profile.js';
import { info, type Row } from '../lib/report.js';
import { bytes, ms, size, stats } from '../lib/util.js';

const B = '7 memory';
const LIMIT = 1.5 * 1024 * 1024 * 1024;

function settings(ctx: BenchContext) {
  return ctx.smoke
    ? { side: 4000, target: 1_500_000, concurrent: 4, copies: 2, width: 1000, bombMax: 20 }
    : { side: 10_000, target: 6_000_000, concurrent: 16, copies: 4, width: 4000, bombMax: 3000 };
}

interface MemRun {
  peakRss: number;
  hwm: number;
  idleRss: number;
  samples: number;
  crashed: string | undefined;
  transforms: Response[];
  transformWallMs: number;
  bombs: Array<{ kind: string; status: number; ms: number; code: string }>;
}

async function memRun(
  p: Pictor,
  big: Buffer,
  bombs: Array<{ kind: string; data: Buffer }>,
  s: ReturnType<typeof settings>,
  win?: { begin(): void; end(): void },
): Promise<MemRun> {
  await p.api('PATCH', '/v1/config', { flexible_variants: true });
  const ids: string[] = [];
  for (let i = 0; i < s.copies; i++) ids.push(await p.upload(big, 'huge.jpg'));
  const idleRss = rssSampler(p.pid).stop().peakRss;
  const sampler = rssSampler(p.pid, 50);
  let crashed: string | undefined;
  void p.child.exited.then((r) => (crashed = `exited with code ${r.code} signal ${r.signal}`));
  const ag = agent(s.concurrent);
  win?.begin();
  const t0 = performance.now();
  let done = false;
  // 16 distinct renditions (w = width + i) of the 100 MP copies, all at once.
  const transforms = Promise.all(
    Array.from({ length: s.concurrent }, (_, i) =>
      http(p.deliveryUrl(ids[i % ids.length]!, `w=${s.width + i},f=jpeg`), {
        agent: ag,
        headers: { accept: 'image/jpeg' },
        timeoutMs: 300_000,
      }).catch(
        (e: unknown): Response => ({
          status: 0,
          headers: {},
          body: Buffer.from(String(e)),
          ms: performance.now() - t0,
        }),
      ),
    ),
  ).finally(() => (done = true));
  // Meanwhile, one client uploads bombs back to back until the transforms are done (bounded in count).
  const bombAgent = agent(1);
  const bombResults: MemRun['bombs'] = [];
  const bombLoop = (async () => {
    for (let i = 0; !done && i < s.bombMax && !crashed; i++) {
      const b = bombs[i % bombs.length]!;
      const form = multipart(b.data, 'bomb.png', 'image/png');
      const r = await http(`${p.images}/v1`, {
        method: 'POST',
        agent: bombAgent,
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': form.contentType },
        body: form.body,
      }).catch((e: unknown): Response => ({ status: 0, headers: {}, body: Buffer.from(String(e)), ms: 0 }));
      let code = '';
      try {
        code = String(
          (JSON.parse(r.body.toString('utf8')) as { errors?: Array<{ code: number }> }).errors?.[0]?.code ??
            '',
        );
      } catch {
        code = r.body.toString('utf8').slice(0, 80);
      }
      bombResults.push({ kind: b.kind, status: r.status, ms: r.ms, code });
    }
  })();
  const results = await transforms;
  const transformWallMs = performance.now() - t0;
  await bombLoop;
  win?.end();
  const m = sampler.stop();
  ag.destroy();
  bombAgent.destroy();
  return {
    peakRss: m.peakRss,
    hwm: m.hwm,
    idleRss,
    samples: m.samples,
    crashed,
    transforms: results,
    transformWallMs,
    bombs: bombResults,
  };
}

export const memory: Benchmark = {
  name: 'memory',
  n: 7,
  title: 'memory under 100 MP sources and bombs',
  async run(ctx) {
    const s = settings(ctx);
    ctx.log(`memory: preparing the ${((s.side * s.side) / 1e6).toFixed(0)} MP source and the bombs`);
    const big = await photoOfSize(
      { width: s.side, height: s.side, grain: 16, blur: 2, amplitude: 0.5, seed: 3 },
      s.target,
      9_900_000,
    );
    const bombs = [
      { kind: 'PNG header 100000×100000, 1 row of data', data: await pngBomb(100_000, 100_000, 1) },
      { kind: 'PNG 20000×20000 of zeros (inflates to 400 MB)', data: await pngBomb(20_000, 20_000, 20_000) },
    ];
    const p = await startPictor();
    let r: MemRun;
    try {
      ctx.log(`memory: ${s.concurrent} concurrent transforms + bombs`);
      r = await memRun(p, big.data, bombs, s);
    } finally {
      await p.stop();
    }
    const okTransforms = r.transforms.filter((t) => t.status === 200).length;
    const bombStatuses: Record<string, number> = {};
    for (const b of r.bombs)
      bombStatuses[`${b.status}${b.code ? ` (${b.code})` : ''}`] =
        (bombStatuses[`${b.status}${b.code ? ` (${b.code})` : ''}`] ?? 0) + 1;
    const refused = r.bombs.filter((b) => b.status >= 400 && b.status < 500).length;
    const bombMs = stats(r.bombs.map((b) => b.ms));
    const peak = Math.max(r.peakRss, r.hwm);
    const transformMs = stats(r.transforms.map((t) => t.ms));
    const rows: Row[] = [
      {
        ...info(
          B,
          `peak RSS, ${s.concurrent} transforms of ${((s.side * s.side) / 1e6).toFixed(0)} MP + bombs`,
          bytes(peak),
          '—',
          '—',
          '≤ 1.5 GiB',
        ),
        verdict: peak <= LIMIT ? 'pass' : 'MISS',
        headroom: LIMIT / peak,
      },
      {
        ...info(
          B,
          'crash / failed transforms',
          r.crashed ?? `none; ${okTransforms}/${r.transforms.length} transforms 200`,
          '—',
          '—',
          'no crash',
        ),
        verdict: !r.crashed && okTransforms === r.transforms.length ? 'pass' : 'MISS',
      },
      {
        ...info(
          B,
          `bombs refused (4xx) / sent, p50 / max latency`,
          `${refused}/${r.bombs.length}, ${ms(bombMs.p50)} / ${ms(bombMs.max)}`,
          '—',
          '—',
          'all 4xx, before decoding',
        ),
        verdict: r.bombs.length > 0 && refused === r.bombs.length ? 'pass' : 'MISS',
      },
      info(
        B,
        `transform latency p50 / max (${s.concurrent} at once)`,
        `${ms(transformMs.p50)} / ${ms(transformMs.max)}`,
      ),
    ];
    const dims = await dimensions(big.data);
    const notes = [
      `Source: photo-like JPEG ${dims.width}×${dims.height} (${((dims.width * dims.height) / 1e6).toFixed(0)} MP, smooth so it fits the 10 MB upload limit), ${size(big.data.length)}, uploaded ${s.copies} times. ` +
        `${s.concurrent} requests at once for distinct flexible variants \`w=${s.width}..${s.width + s.concurrent - 1},f=jpeg\` (libvips shrink-on-load decodes at 1/2 scale: ${(((s.side / 2) * (s.side / 2)) / 1e6).toFixed(0)} MP each); the server runs with its defaults (\`PICTOR_WORKERS\` = cores, queue 64), so that many wait in the gate. ` +
        `All ${s.concurrent} finished in ${ms(r.transformWallMs)}. ` +
        `Meanwhile one client uploaded bombs back to back until the transforms were done (at most ${s.bombMax}): ${bombs.map((b) => `${b.kind} (${size(b.data.length)})`).join('; ')}. Statuses (error code): ${
          Object.entries(bombStatuses)
            .map(([k, v]) => `${k} × ${v}`)
            .join(', ') || 'none sent'
        }. ` +
        `RSS of the server process sampled every 50 ms from /proc/<pid>/status (${r.samples} samples): idle after the uploads ${bytes(r.idleRss)}, peak sampled ${bytes(r.peakRss)}, kernel high-water mark (VmHWM) ${bytes(r.hwm)}; the figure is the larger.`,
    ];
    const profiles: string[] = [];
    const explanations: string[] = [];
    if (wantProfile(ctx, rows)) {
      ctx.log('memory: profiling');
      const pr = await profiled('7 memory: Pictor', ctx.tmp, async (dir, win) => {
        const pp = await startPictor({ cpuProfDir: dir });
        try {
          await memRun(pp, big.data, bombs, s, win);
        } finally {
          await pp.stop();
        }
      });
      profiles.push(pr.markdown);
      explanations.push(
        `**7 memory.** Peak RSS ${bytes(peak)} (limit ${bytes(LIMIT)}) with ${s.concurrent} transforms requested at once and ${r.bombs.length} bombs sent; ${okTransforms}/${r.transforms.length} transforms answered 200; ${refused}/${r.bombs.length} bombs were refused with a 4xx (${Object.entries(
          bombStatuses,
        )
          .map(([k, v]) => `${k} × ${v}`)
          .join(', ')})${r.crashed ? `; the server ${r.crashed}` : ''}. ` +
          `Decoded pixels live outside the JS heap (libvips), so the profile shows where the main thread was, not what held memory: ${bucketText(pr.summary, 0.05)}.`,
      );
    }
    return { rows, notes, profiles, explanations };
  },
};

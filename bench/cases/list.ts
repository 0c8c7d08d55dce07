/**
 * 6 · list: the same account with 1,000 and with 1,000,000 images in the embedded SQLite store (and in
 * PostgreSQL when the server has DATABASE_URL and one answers on loopback). v1
 * (page/per_page: OFFSET) at page 1, page 1000 and the last page; v2 (keyset continuation tokens)
 * walking pages from the start and from the middle. Rows are seeded straight into the SQLite file,
 * cloned from one real upload, with the server stopped.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { encodeToken } from '../../src/api/list-query.js';
import { wantProfile, type Benchmark, type BenchContext } from '../lib/context.js';
import { agent, http } from '../lib/http.js';
import { photo } from '../lib/images.js';
import { TOKEN, startPictor, type Pictor } from '../lib/pictor.js';
import { bucketText, busyPerRequestUs, profiled } from '../lib/profile.js';
import { atMost, info, type Row } from '../lib/report.js';
import { ms, stats } from '../lib/util.js';
import { PG_URL, pgClient, postgresUnavailable } from '../lib/scale-out.js';

const B = '6 list';
const PER_PAGE = 100;

function settings(ctx: BenchContext) {
  return ctx.smoke ? { sizes: [1000, 20_000], samples: 3 } : { sizes: [1000, 1_000_000], samples: 15 };
}

const fmtN = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1000 ? `${n / 1000}k` : String(n));

/** A seeded store: the env and data dir to start Pictor on it, and how to remove it. */
interface Seeded {
  dataDir: string;
  env: Record<string, string>;
  seedMs: number;
  cleanup(): Promise<void>;
}

interface StoreKind {
  label: string;
  seed(n: number, tmp: string, env: Record<string, string>): Promise<Seeded>;
}

/** One real upload through the API (the template row), with the server then stopped. */
async function templateUpload(dataDir: string, env: Record<string, string>): Promise<void> {
  const p = await startPictor({ dataDir, env });
  try {
    await p.upload(
      await photo({ width: 64, height: 48, grain: 1, blur: 1, amplitude: 0.5, quality: 80, seed: 7 }),
      'seed.jpg',
    );
  } finally {
    await p.stop();
  }
}

/**
 * SQLite: a data dir whose account holds `n` images: one real upload, then n − 1 clones of its row
 * (fresh seq, id, filename and upload time; the same blob) inserted with the server stopped, 100,000
 * rows per transaction. The column list is read from the table itself, so it follows the migrations.
 */
const sqlite: StoreKind = {
  label: 'SQLite',
  async seed(n, tmp, env) {
    const t0 = performance.now();
    const dataDir = mkdtempSync(join(tmp, `list-${n}-`));
    await templateUpload(dataDir, env);
    const db = new Database(join(dataDir, 'pictor.sqlite'));
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = OFF');
      const cols = (db.prepare('PRAGMA table_info(images)').all() as Array<{ name: string }>)
        .map((c) => c.name)
        .filter((c) => c !== 'seq');
      const tmpl = db.prepare('SELECT seq FROM images ORDER BY seq LIMIT 1').get() as
        | { seq: number }
        | undefined;
      if (!tmpl) throw new Error('seed: the template upload is missing');
      const expr = (c: string) =>
        c === 'id'
          ? `printf('%08x-0000-4000-8000-%012x', x, x)`
          : c === 'filename'
            ? `'bench-' || x || '.jpg'`
            : c === 'uploaded'
              ? `t.uploaded + x`
              : `t."${c}"`;
      const insert = db.prepare(
        `WITH RECURSIVE gen(x) AS (SELECT ? UNION ALL SELECT x + 1 FROM gen WHERE x < ?)
         INSERT INTO images (${cols.map((c) => `"${c}"`).join(', ')})
         SELECT ${cols.map(expr).join(', ')} FROM gen CROSS JOIN (SELECT * FROM images WHERE seq = ?) AS t`,
      );
      const CHUNK = 100_000;
      for (let from = 1; from < n; from += CHUNK) {
        const to = Math.min(n - 1, from + CHUNK - 1);
        db.transaction(() => insert.run(from, to, tmpl.seq))();
      }
      const count = (db.prepare('SELECT count(*) AS c FROM images').get() as { c: number }).c;
      if (count !== n) throw new Error(`seed: expected ${n} rows, found ${count}`);
      db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      db.close();
    }
    return {
      dataDir,
      env,
      seedMs: performance.now() - t0,
      cleanup: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  },
};

/**
 * PostgreSQL: a schema of its own (dropped afterwards) at PG_URL; the template upload goes through
 * Pictor, then `INSERT … SELECT … FROM generate_series` clones it, then ANALYZE (the planner's
 * statistics of a table that grew in steady state).
 */
const postgres: StoreKind = {
  label: 'PostgreSQL',
  async seed(n, tmp, baseEnv) {
    const t0 = performance.now();
    const schema = `pictor_bench_${process.pid}_${n}`;
    const dataDir = mkdtempSync(join(tmp, `list-pg-${n}-`));
    const env = { ...baseEnv, DATABASE_URL: PG_URL, PICTOR_DATABASE_SCHEMA: schema };
    const drop = async () => {
      const c = await pgClient(PG_URL);
      try {
        await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await c.end();
      }
    };
    const cleanup = async () => {
      rmSync(dataDir, { recursive: true, force: true });
      await drop().catch(() => undefined);
    };
    try {
      await drop();
      await templateUpload(dataDir, env);
      const c = await pgClient(PG_URL);
      try {
        const cols = (
          await c.query(
            `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'images' ORDER BY ordinal_position`,
            [schema],
          )
        ).rows
          .map((r) => String(r.column_name))
          .filter((x) => x !== 'seq');
        const tmpl = (await c.query(`SELECT seq FROM ${schema}.images ORDER BY seq LIMIT 1`)).rows[0];
        if (!tmpl) throw new Error('seed: the template upload is missing');
        const expr = (col: string) =>
          col === 'id'
            ? `lpad(to_hex(x), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(x), 12, '0')`
            : col === 'filename'
              ? `'bench-' || x || '.jpg'`
              : col === 'uploaded'
                ? `t.uploaded + x`
                : `t."${col}"`;
        const CHUNK = 250_000;
        for (let from = 1; from < n; from += CHUNK) {
          const to = Math.min(n - 1, from + CHUNK - 1);
          await c.query(
            `INSERT INTO ${schema}.images (${cols.map((x) => `"${x}"`).join(', ')})
             SELECT ${cols.map(expr).join(', ')} FROM generate_series($1::bigint, $2::bigint) AS x CROSS JOIN (SELECT * FROM ${schema}.images WHERE seq = $3) AS t`,
            [from, to, tmpl.seq],
          );
        }
        await c.query(`ANALYZE ${schema}.images`);
        const count = Number((await c.query(`SELECT count(*) AS c FROM ${schema}.images`)).rows[0]?.c);
        if (count !== n) throw new Error(`seed: expected ${n} rows, found ${count}`);
      } finally {
        await c.end();
      }
    } catch (e) {
      await cleanup();
      throw e;
    }
    return { dataDir, env, seedMs: performance.now() - t0, cleanup };
  },
};

interface Measured {
  v1page1: number[];
  v1page1000: number[];
  v1last: number[];
  lastPage: number;
  v2: { available: boolean; why?: string; walk: number[]; deep: number[] };
}

async function measure(
  p: Pictor,
  n: number,
  samples: number,
  win?: { begin(): void; end(): void },
): Promise<Measured> {
  const ag = agent(1);
  const headers = { authorization: `Bearer ${TOKEN}` };
  const get = async (path: string) => {
    const r = await http(`${p.images}${path}`, { agent: ag, headers });
    return {
      r,
      json: JSON.parse(r.body.toString('utf8')) as {
        success: boolean;
        result?: { images?: unknown[]; continuation_token?: string | null };
        errors?: Array<{ code: number; message: string }>;
      },
    };
  };
  const timeV1 = async (page: number, count: number, expect: number) => {
    for (let i = 0; i < 2; i++) await get(`/v1?page=${page}&per_page=${PER_PAGE}`); // warm-up
    const out: number[] = [];
    for (let i = 0; i < count; i++) {
      const { r, json } = await get(`/v1?page=${page}&per_page=${PER_PAGE}`);
      if (r.status !== 200 || json.result?.images?.length !== expect)
        throw new Error(
          `v1 page ${page} → ${r.status}, ${json.result?.images?.length} images (expected ${expect})`,
        );
      out.push(r.ms);
    }
    return out;
  };
  const lastPage = Math.ceil(n / PER_PAGE);
  const v1page1 = await timeV1(1, samples, Math.min(PER_PAGE, n));
  const v1page1000 = await timeV1(
    1000,
    Math.max(3, Math.ceil(samples / 2)),
    Math.max(0, Math.min(PER_PAGE, n - 999 * PER_PAGE)),
  );
  const v1last = await timeV1(lastPage, 3, n - (lastPage - 1) * PER_PAGE);
  // v2: detect it first (it answers 7003 "could not route" on servers without it).
  const probe = await get(`/v2?per_page=${PER_PAGE}`);
  if (probe.r.status !== 200 || !probe.json.success) {
    ag.destroy();
    return {
      v1page1,
      v1page1000,
      v1last,
      lastPage,
      v2: {
        available: false,
        why: `GET /images/v2 → ${probe.r.status} ${probe.json.errors?.map((e) => `${e.code} ${e.message}`).join('; ') ?? ''}`,
        walk: [],
        deep: [],
      },
    };
  }
  const walk = async (start: string | null, pages: number) => {
    const out: number[] = [];
    let token = start;
    for (let i = 0; i < pages; i++) {
      const { r, json } = await get(
        `/v2?per_page=${PER_PAGE}${token ? `&continuation_token=${encodeURIComponent(token)}` : ''}`,
      );
      if (r.status !== 200 || !json.success) throw new Error(`v2 page ${i + 1} → ${r.status}`);
      out.push(r.ms);
      token = json.result?.continuation_token ?? null;
      if (!token) break;
    }
    return out;
  };
  await walk(null, 2); // warm-up
  win?.begin();
  const pages = samples * 2;
  // From the start, again from the start when the list ends (1k images hold only 10 pages).
  const walkTimes: number[] = [];
  for (let i = 0; i < pages && walkTimes.length < pages; i++)
    walkTimes.push(...(await walk(null, pages - walkTimes.length)));
  // A deep start: the continuation token of the middle of the list (sort_order desc).
  const deepTimes: number[] = [];
  for (let i = 0; i < pages && deepTimes.length < pages; i++)
    deepTimes.push(...(await walk(encodeToken('desc', Math.floor(n / 2)), pages - deepTimes.length)));
  win?.end();
  ag.destroy();
  return { v1page1, v1page1000, v1last, lastPage, v2: { available: true, walk: walkTimes, deep: deepTimes } };
}

interface StoreResult {
  label: string;
  small: { n: number; m: Measured; seedMs: number };
  big: { n: number; m: Measured; seedMs: number };
}

/** Seeds both sizes in one store kind and measures each with a fresh server. */
async function runStore(
  kind: StoreKind,
  ctx: BenchContext,
  s: ReturnType<typeof settings>,
  env: Record<string, string>,
  seeded: Seeded[],
): Promise<StoreResult> {
  const res: Array<{ n: number; m: Measured; seedMs: number }> = [];
  for (const n of s.sizes) {
    ctx.log(`list: ${kind.label}: seeding ${n.toLocaleString('en-US')} images`);
    const sd = await kind.seed(n, ctx.tmp, env);
    seeded.push(sd);
    const p = await startPictor({ dataDir: sd.dataDir, env: sd.env });
    try {
      ctx.log(`list: ${kind.label}: measuring at ${fmtN(n)}`);
      res.push({ n, m: await measure(p, n, s.samples), seedMs: sd.seedMs });
    } finally {
      await p.stop();
    }
  }
  return { label: kind.label, small: res[0]!, big: res[1]! };
}

function storeRows(r: StoreResult): Row[] {
  const { small, big } = r;
  const lo = fmtN(small.n);
  const hi = fmtN(big.n);
  const tag = `${r.label}: `;
  const rows: Row[] = [];
  const v2 = big.m.v2.available && small.m.v2.available;
  if (v2) {
    rows.push(
      atMost(
        B,
        `${tag}v2 page p50 (walking, per_page ${PER_PAGE}), ${hi} vs ${lo}`,
        stats(big.m.v2.walk).p50,
        stats(small.m.v2.walk).p50,
        1.5,
        ms,
      ),
    );
    rows.push(
      atMost(
        B,
        `${tag}v2 page p50 from the middle, ${hi} vs ${lo}`,
        stats(big.m.v2.deep).p50,
        stats(small.m.v2.deep).p50,
        1.5,
        ms,
      ),
    );
  } else {
    const why = big.m.v2.why ?? small.m.v2.why ?? '';
    rows.push({
      ...info(B, `${tag}v2 page p50 (walking), ${hi} vs ${lo}`, '—', '—', '—', '≤ 1.5×'),
      verdict: 'not implemented',
      note: `not implemented yet (issue 5): ${why}`,
    });
  }
  const ratio = (a: number[], b: number[]) => `${(stats(a).p50 / stats(b).p50).toFixed(2)}×`;
  rows.push(
    info(
      B,
      `${tag}v1 page 1 p50 (per_page ${PER_PAGE}), ${hi} vs ${lo}`,
      ms(stats(big.m.v1page1).p50),
      ms(stats(small.m.v1page1).p50),
      ratio(big.m.v1page1, small.m.v1page1),
      'report',
    ),
  );
  rows.push(
    info(
      B,
      `${tag}v1 page 1000 p50, ${hi} vs ${lo}${small.n < 1000 * PER_PAGE ? ` (empty at ${lo})` : ''}`,
      ms(stats(big.m.v1page1000).p50),
      ms(stats(small.m.v1page1000).p50),
      ratio(big.m.v1page1000, small.m.v1page1000),
      'report',
    ),
  );
  rows.push(
    info(
      B,
      `${tag}v1 last page p50 (page ${big.m.lastPage} vs ${small.m.lastPage})`,
      ms(stats(big.m.v1last).p50),
      ms(stats(small.m.v1last).p50),
      ratio(big.m.v1last, small.m.v1last),
      'report',
    ),
  );
  return rows;
}

function storeNote(r: StoreResult): string {
  const { small, big } = r;
  const lo = fmtN(small.n);
  const hi = fmtN(big.n);
  const v2 = big.m.v2.available && small.m.v2.available;
  return (
    `${r.label} — seeded in ${(small.seedMs / 1000).toFixed(1)} s (${lo}) and ${(big.seedMs / 1000).toFixed(1)} s (${hi}). ` +
    `v1 p50 / max at ${lo}: page 1 ${ms(stats(small.m.v1page1).p50)} / ${ms(stats(small.m.v1page1).max)}, page 1000 ${ms(stats(small.m.v1page1000).p50)}, last ${ms(stats(small.m.v1last).p50)}; ` +
    `at ${hi}: page 1 ${ms(stats(big.m.v1page1).p50)} / ${ms(stats(big.m.v1page1).max)}, page 1000 ${ms(stats(big.m.v1page1000).p50)}, last (page ${big.m.lastPage}, OFFSET ${((big.m.lastPage - 1) * PER_PAGE).toLocaleString('en-US')}) ${ms(stats(big.m.v1last).p50)}.` +
    (v2
      ? ` v2 p50 / max over ${small.m.v2.walk.length} pages at ${lo}: ${ms(stats(small.m.v2.walk).p50)} / ${ms(stats(small.m.v2.walk).max)}; over ${big.m.v2.walk.length} pages at ${hi}: ${ms(stats(big.m.v2.walk).p50)} / ${ms(stats(big.m.v2.walk).max)}; from the middle ${ms(stats(small.m.v2.deep).p50)} (${lo}) and ${ms(stats(big.m.v2.deep).p50)} (${hi}).`
      : ' v2: not served yet.')
  );
}

export const list: Benchmark = {
  name: 'list',
  n: 6,
  title: 'list',
  async run(ctx) {
    const s = settings(ctx);
    const env = { PICTOR_IMAGE_ALLOWANCE: String(Math.max(100_000, s.sizes[1]! * 2)) };
    const seeded: Seeded[] = [];
    try {
      const results: StoreResult[] = [await runStore(sqlite, ctx, s, env, seeded)];
      const pgWhy = ctx.smoke ? 'not in smoke runs' : await postgresUnavailable();
      if (!pgWhy) results.push(await runStore(postgres, ctx, s, env, seeded));
      const rows = results.flatMap(storeRows);
      if (pgWhy)
        rows.push({
          ...info(B, 'PostgreSQL: v2 page p50, 1M vs 1k', '—', '—', '—', '≤ 1.5×'),
          verdict: 'skipped',
          note: pgWhy,
        });
      const notes = [
        `One account with ${s.sizes.map((n) => n.toLocaleString('en-US')).join(' and ')} images: one real upload through the API, then clones of its row inserted straight into \`images\` with the server stopped (the column list read from the table; ids UUID-shaped, distinct upload times, one shared blob; no metadata). ` +
          `Timed at the client over one keep-alive socket after 2 warm-up requests per shape: v1 \`GET /images/v1?page=<p>&per_page=${PER_PAGE}\` page 1 × ${s.samples}, page 1000 × ${Math.max(3, Math.ceil(s.samples / 2))}, last page × 3; ` +
          `v2 \`GET /images/v2?per_page=${PER_PAGE}\` (default \`sort_order=desc\`) following \`continuation_token\` for ${s.samples * 2} pages from the newest (starting over at the end of a short list), and again from a token for the middle of the list.`,
        ...results.map(storeNote),
        ...(pgWhy
          ? [`PostgreSQL not measured: ${pgWhy}.`]
          : [
              `PostgreSQL at ${PG_URL.replace(/\/\/[^@]*@/, '//')} (a schema of its own, dropped afterwards; ANALYZE after seeding).`,
            ]),
      ];
      const profiles: string[] = [];
      const explanations: string[] = [];
      if (wantProfile(ctx, rows)) {
        const missedPg = rows.some((r) => r.verdict === 'MISS' && r.figure.startsWith('PostgreSQL'));
        const target = missedPg ? seeded[3] : seeded[1];
        const res = results.find((r) => r.label === (missedPg ? 'PostgreSQL' : 'SQLite'));
        if (target && res) {
          ctx.log('list: profiling at the larger size');
          const pr = await profiled(
            `6 list: Pictor at ${fmtN(s.sizes[1]!)} images, ${res.label}, v2 pages only`,
            ctx.tmp,
            async (dir, win) => {
              const pp = await startPictor({ dataDir: target.dataDir, env: target.env, cpuProfDir: dir });
              try {
                const m = await measure(pp, s.sizes[1]!, s.samples, win);
                return m.v2.walk.length + m.v2.deep.length;
              } finally {
                await pp.stop();
              }
            },
          );
          profiles.push(pr.markdown);
          const busy = busyPerRequestUs(pr);
          const big = stats(res.big.m.v2.walk);
          const small = stats(res.small.m.v2.walk);
          explanations.push(
            `**6 list (${res.label}).** A v2 page took ${ms(big.p50)} at p50 with ${fmtN(res.big.n)} images against ${ms(small.p50)} with ${fmtN(res.small.n)} (${ms(big.p50 - small.p50)} more; from the middle of the list ${ms(stats(res.big.m.v2.deep).p50)} against ${ms(stats(res.small.m.v2.deep).p50)}). ` +
              (busy !== undefined && pr.summary
                ? `The server's main thread was busy ${(busy / 1000).toFixed(2)} ms per v2 page (${bucketText(pr.summary, 0.05)}) and idle ${((pr.summary.idleMs / pr.summary.totalMs) * 100).toFixed(0)}% of the time` +
                  (res.label === 'PostgreSQL'
                    ? ", which is where it waits for PostgreSQL's answers (the database server's own work is in another process and not in this profile). "
                    : ' (SQLite runs on the main thread, so its query time is in the SQL share). ')
                : '') +
              `A keyset page should cost the same at any depth; the "from the middle" figures show whether the gap grows with depth or is a constant per-page cost of the larger table (e.g. its index depth or the planner's choice, to be checked with EXPLAIN).`,
          );
        }
      }
      return { rows, notes, profiles, explanations };
    } finally {
      for (const sd of seeded) await sd.cleanup().catch(() => undefined);
    }
  },
};

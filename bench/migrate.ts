/**
 * Migration throughput and memory: seeds N small PNGs into one local Pictor, runs
 * `pictor migrate --json` (a child process) into another, and reports images/s and the CLI's peak
 * RSS (from its report, process.resourceUsage().maxRSS). Then the same migration into a third
 * Pictor with the CLI's V8 old space capped (`--max-old-space-size=64`): V8 lets garbage pile up
 * longer the longer a process runs, so the uncapped peak drifts up with the run's length even when
 * nothing is kept; a capped run that finishes at the same peak for every N shows the live memory is
 * flat (a leak would run out of heap or peak higher). Run: `npx tsx bench/migrate.ts [N ...]`
 * (default 1000 5000). Writes the table to bench/results/migrate.md. Not part of `npm run bench`.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { loadConfig } from '../src/config/index.js';
import { startServer } from '../src/server/main.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TOKEN = 'bench-migrate-token-0123456789abcdef';

async function server(accountId: string) {
  const dataDir = mkdtempSync(join(tmpdir(), 'pictor-bench-migrate-'));
  const s = await startServer(
    loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      PICTOR_DATA_DIR: dataDir,
      PICTOR_ACCOUNT_ID: accountId,
      PICTOR_API_TOKEN: TOKEN,
      LOG_LEVEL: 'silent',
    }),
    { quiet: true },
  );
  return {
    base: `${s.url}/client/v4`,
    accountId,
    close: async () => {
      await s.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function png(n: number): Promise<Buffer> {
  const raw = Buffer.alloc(8 * 8 * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (n * 31 + i * 7 + (n >> 8) * 13) % 256;
  return sharp(raw, { raw: { width: 8, height: 8, channels: 3 } })
    .png()
    .toBuffer();
}

async function seed(base: string, accountId: string, n: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < n) {
        const i = next++;
        const form = new FormData();
        form.set('id', `bench/${i}/é`);
        form.set('metadata', JSON.stringify({ i }));
        form.set('file', new Blob([new Uint8Array(await png(i))]), `${i}.png`);
        const res = await fetch(`${base}/accounts/${accountId}/images/v1`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}` },
          body: form,
        });
        if (!res.ok) throw new Error(`seed ${i}: ${res.status} ${await res.text()}`);
      }
    }),
  );
}

function migrate(
  from: { base: string; accountId: string },
  to: { base: string; accountId: string },
  state: string,
  nodeFlags: string[] = [],
): Promise<{ copied: number; seconds: number; peakRssBytes: number }> {
  const args = [
    ...nodeFlags,
    '--import',
    'tsx',
    resolve(ROOT, 'src/cli/main.ts'),
    'migrate',
    '--from',
    from.base,
    '--from-account',
    from.accountId,
    '--from-token',
    TOKEN,
    '--to',
    to.base,
    '--to-account',
    to.accountId,
    '--to-token',
    TOKEN,
    '--state',
    state,
    '--json',
  ];
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c));
    child.on('close', (code) =>
      code === 0 ? ok(JSON.parse(out)) : fail(new Error(`migrate exited ${code}: ${out.slice(0, 500)}`)),
    );
  });
}

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
const HEAP_CAP_MB = 64;
const MiB = (b: number) => (b / 1024 / 1024).toFixed(0);
const rows: string[] = [];
const load: string[] = [];
const started = new Date();
// The commit measured: read before the run, since the tree may move on while it lasts.
let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
} catch {
  /* not a git checkout */
}
for (const n of sizes.length > 0 ? sizes : [1000, 5000]) {
  const a = await server('0123456789abcdef0123456789abcdef');
  const b = await server('fedcba9876543210fedcba9876543210');
  const c = await server('00112233445566778899aabbccddeeff');
  const t0 = Date.now();
  await seed(a.base, a.accountId, n);
  const seeded = (Date.now() - t0) / 1000;
  const dir = mkdtempSync(join(tmpdir(), 'pictor-bench-state-'));
  load.push(`${n}: ${loadavg()[0]!.toFixed(1)}`);
  const r = await migrate(a, b, join(dir, 'state.jsonl'));
  const capped = await migrate(a, c, join(dir, 'capped.jsonl'), [`--max-old-space-size=${HEAP_CAP_MB}`]);
  rmSync(dir, { recursive: true, force: true });
  for (const x of [r, capped]) if (x.copied !== n) throw new Error(`copied ${x.copied} of ${n}`);
  rows.push(
    `| ${n} | ${r.seconds.toFixed(1)} | ${(n / r.seconds).toFixed(1)} | ${MiB(r.peakRssBytes)} | ${(n / capped.seconds).toFixed(1)} | ${MiB(capped.peakRssBytes)} | ${seeded.toFixed(1)} |`,
  );
  await Promise.all([a.close(), b.close(), c.close()]);
}
const table = [
  `| images | migrate s | images/s | CLI peak RSS MiB | images/s, heap capped | CLI peak RSS MiB, heap capped at ${HEAP_CAP_MB} MB | seeding s |`,
  '|---|---|---|---|---|---|---|',
  ...rows,
].join('\n');
process.stdout.write(`${table}\n`);
writeFileSync(
  join(ROOT, 'bench/results/migrate.md'),
  [
    '# pictor migrate: throughput and memory',
    '',
    `\`npx tsx bench/migrate.ts ${process.argv.slice(2).join(' ')}\` — ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, commit ${commit}, Node ${process.version}; the 1-minute load average (2 cores, shared) when each size started: ${load.join(', ')}.`,
    '',
    'Both servers and the CLI run on this machine; the CLI runs from the sources under tsx (about 160 MB',
    'of its RSS is Node, tsx and the loaded modules before any image moves). Images/s depends on what else',
    'the machine is doing: treat it as direction only. For memory, read the capped column: with the old',
    `space held at ${HEAP_CAP_MB} MB, a peak that does not rise with N means nothing is kept per image.`,
    '',
    table,
    '',
  ].join('\n'),
);

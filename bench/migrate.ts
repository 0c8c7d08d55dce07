/**
 * Migration throughput and memory: seeds N small PNGs into one local Pictor, runs
 * `pictor migrate --json` (a child process) into another, and reports images/s and the CLI's peak
 * RSS (from its report, process.resourceUsage().maxRSS). Run: `npx tsx bench/migrate.ts [N ...]`
 * (default 1000 5000). Not part of `npm run bench`; memory must not grow with N.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
): Promise<{ copied: number; seconds: number; peakRssBytes: number }> {
  const args = [
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
const rows: string[] = [];
for (const n of sizes.length > 0 ? sizes : [1000, 5000]) {
  const a = await server('0123456789abcdef0123456789abcdef');
  const b = await server('fedcba9876543210fedcba9876543210');
  const t0 = Date.now();
  await seed(a.base, a.accountId, n);
  const seeded = (Date.now() - t0) / 1000;
  const dir = mkdtempSync(join(tmpdir(), 'pictor-bench-state-'));
  const r = await migrate(a, b, join(dir, 'state.jsonl'));
  rmSync(dir, { recursive: true, force: true });
  if (r.copied !== n) throw new Error(`copied ${r.copied} of ${n}`);
  rows.push(
    `| ${n} | ${r.seconds.toFixed(1)} | ${(n / r.seconds).toFixed(1)} | ${(r.peakRssBytes / 1024 / 1024).toFixed(0)} | ${seeded.toFixed(1)} |`,
  );
  await Promise.all([a.close(), b.close()]);
}
process.stdout.write(
  [
    '| images | migrate s | images/s | CLI peak RSS MiB | seeding s |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n'),
);

/**
 * Crash safety, end to end: a real `pictor serve` process (`node --import tsx src/cli/main.ts serve`)
 * takes 50 concurrent uploads (~200 KB JPEGs) and is SIGKILLed once a dozen have been acknowledged.
 * Restarted on the same database and blob store:
 *
 * - every acknowledged upload is listed, and every listed image is complete: its blob downloads
 *   byte-for-byte as uploaded, decodes, and delivers; no image row lacks its blob;
 * - `pictor gc --grace-seconds 0` (a child process on the same settings) deletes the orphans: the
 *   originals a killed upload wrote before its row, plus one planted by the test; afterwards the
 *   originals in the store are exactly the ones image rows reference.
 *
 * Runs on PostgreSQL + S3 (s3rver in this process; skipped with the helper's one-line message when
 * PostgreSQL does not answer, failed under CI) and on the embedded default (SQLite + files).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { createFsBlobStore } from '../../src/storage/fs/index.js';
import { createPostgresMetadataStore } from '../../src/storage/postgres/index.js';
import { createS3BlobStore } from '../../src/storage/s3/index.js';
import { createSqliteMetadataStore } from '../../src/storage/sqlite/index.js';
import type { BlobStore, MetadataStore } from '../../src/storage/types.js';
import { childEnv, runCli } from '../helpers/cli.js';
import { postgresAvailable } from '../helpers/postgres.js';
import { serverEnv, startBackend, TEST_ACCOUNT_ID, TEST_PROCESSES, TEST_TOKEN } from '../helpers/server.js';

const available = await postgresAvailable();

const ROOT = join(import.meta.dirname, '..', '..');
const UPLOADS = 50;
/** Acknowledged uploads before the SIGKILL. */
const KILL_AFTER = 12;
const SIDE = 480;

// ---------------------------------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------------------------------

interface Serve {
  url: string;
  proc: ChildProcessWithoutNullStreams;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `pictor serve` as a child; resolves once it prints where it serves. */
async function serve(env: Record<string, string>): Promise<Serve> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
    cwd: ROOT,
    env: childEnv(env),
  });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pictor serve did not start in 60 s:\n${out}`)), 60_000);
    const check = () => {
      const m = /serving the Cloudflare Images API at (http:\/\/\S+)\/client\/v4/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    proc.stdout.on('data', check);
    proc.stderr.on('data', check);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`pictor serve exited (${code ?? signal}) before serving:\n${out}`));
    });
  });
  return { url, proc, output: () => out, exited };
}

// ---------------------------------------------------------------------------------------------------
// Pictures and calls
// ---------------------------------------------------------------------------------------------------

/** 50 different noisy 480×480 JPEGs of roughly 190 KB. */
async function pictures(): Promise<Buffer[]> {
  const raw = randomBytes(SIDE * SIDE * 3);
  const out: Buffer[] = [];
  for (let i = 0; i < UPLOADS; i++) {
    // A distinct band per picture, so no two are the same bytes.
    raw.fill(i * 5, 0, SIDE * 3 * 4);
    out.push(
      await sharp(raw, { raw: { width: SIDE, height: SIDE, channels: 3 } })
        .jpeg({ quality: 90 })
        .toBuffer(),
    );
  }
  return out;
}

const auth = { authorization: `Bearer ${TEST_TOKEN}` };
const imagesBase = (srv: Serve) => `${srv.url}/client/v4/accounts/${TEST_ACCOUNT_ID}/images`;

async function uploadOne(srv: Serve, data: Buffer, index: number): Promise<string> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(data)], { type: 'image/jpeg' }), `kill-${index}.jpg`);
  const res = await fetch(`${imagesBase(srv)}/v1`, {
    method: 'POST',
    headers: auth,
    body: form,
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`upload ${index} → ${res.status} ${text.slice(0, 200)}`);
  return (JSON.parse(text) as { result: { id: string } }).result.id;
}

/** Runs `fn` over `items`, `limit` at a time. */
async function inBatches<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

/** For a failure message: the keys whose one-byte read (what gc does) fails now, and why (5 s at most). */
async function unreadable(blobs: BlobStore): Promise<string> {
  const keys = await collect(blobs.list());
  const probe = Promise.all(
    keys.map((key) =>
      blobs.get(key, { range: { start: 0, end: 0 } }).then(
        () => undefined,
        (e: unknown) => `${key}: ${(e as Error).name}: ${(e as Error).message}`,
      ),
    ),
  );
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 5000).unref());
  const out = await Promise.race([probe, timeout]);
  if (out === 'timeout') return 'reading the keys back took over 5 s';
  const bad = out.filter((x): x is string => x !== undefined);
  return bad.length ? `unreadable keys now:\n${bad.join('\n')}` : 'every key reads fine now';
}

async function collect(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const k of it) out.push(k);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// The scenario, per backend
// ---------------------------------------------------------------------------------------------------

interface Backend {
  env: Record<string, string>;
  /** The same stores the node uses, opened by the test. */
  openStores(): Promise<{ store: MetadataStore; blobs: BlobStore }>;
  /** Leftovers outside the store's key space (temporary files of the files backend). */
  leftovers(): string[];
  cleanup(): Promise<void>;
}

async function killScenario(backend: Backend): Promise<void> {
  const photos = await pictures();
  let first: Serve | undefined = await serve(backend.env);
  let second: Serve | undefined;
  try {
    // 50 concurrent uploads; SIGKILL once KILL_AFTER are acknowledged.
    const acknowledged = new Map<string, number>();
    const srv = first;
    const results = await Promise.allSettled(
      photos.map(async (data, i) => {
        const id = await uploadOne(srv, data, i);
        acknowledged.set(id, i);
        if (acknowledged.size === KILL_AFTER) srv.proc.kill('SIGKILL');
        return id;
      }),
    );
    const { signal } = await first.exited;
    first = undefined;
    expect(signal).toBe('SIGKILL');
    const refused = results.filter((r) => r.status === 'rejected').length;
    // The kill really landed mid-run.
    expect(acknowledged.size).toBeGreaterThanOrEqual(KILL_AFTER);
    expect(refused, 'every upload finished before the kill: the test proved nothing').toBeGreaterThan(0);

    second = await serve(backend.env);
    const base = imagesBase(second);

    // Every acknowledged upload survived; every listed image is complete.
    const listRes = await fetch(`${base}/v1?per_page=100`, { headers: auth });
    expect(listRes.status).toBe(200);
    const listed = (
      (await listRes.json()) as {
        result: { images: Array<{ id: string; filename: string; variants: string[] }> };
      }
    ).result.images;
    const listedIds = listed.map((i) => i.id);
    for (const id of acknowledged.keys())
      expect(listedIds, `acknowledged upload ${id} is missing after the restart`).toContain(id);
    expect(listed.length).toBeLessThanOrEqual(UPLOADS);

    const checkImage = async (image: (typeof listed)[number]) => {
      const m = /^kill-(\d+)\.jpg$/.exec(image.filename);
      expect(m, `unexpected filename ${image.filename}`).not.toBeNull();
      const original = photos[Number(m![1])]!;
      const blob = await fetch(`${base}/v1/${image.id}/blob`, { headers: auth });
      const bytes = Buffer.from(await blob.arrayBuffer());
      expect(blob.status, `blob of ${image.id}: ${bytes.toString('utf8', 0, 200)}`).toBe(200);
      expect(bytes.length, `blob of ${image.id} is ${bytes.length} bytes, uploaded ${original.length}`).toBe(
        original.length,
      );
      expect(bytes.equals(original), `blob of ${image.id} differs from what was uploaded`).toBe(true);
      const meta = await sharp(bytes).metadata();
      expect([meta.width, meta.height]).toEqual([SIDE, SIDE]);
      await sharp(bytes).raw().toBuffer(); // decodes to the end
      const delivered = await fetch(image.variants[0]!.replace(/^https?:\/\/[^/]+/, second!.url));
      const body = Buffer.from(await delivered.arrayBuffer());
      expect(delivered.status, `delivery of ${image.id}: ${body.toString('utf8', 0, 200)}`).toBe(200);
      expect((await sharp(body).metadata()).width).toBe(SIDE);
    };
    await inBatches(listed, 8, checkImage);

    // No image row lacks its blob; count the orphans the kill left, then plant one more.
    const { store, blobs } = await backend.openStores();
    try {
      const referenced = new Set(await collect(store.referencedBlobKeys()));
      expect(referenced.size).toBe(listed.length);
      const before = new Set((await collect(blobs.list())).filter((k) => k.startsWith('originals/')));
      for (const key of referenced)
        expect(before.has(key), `image row references ${key}, which is not in the blob store`).toBe(true);
      const planted = `originals/planted-${randomBytes(6).toString('hex')}`;
      await blobs.put(planted, photos[0]!);
      before.add(planted);
      const orphans = [...before].filter((k) => !referenced.has(k));
      expect(orphans).toContain(planted);

      const gc = await runCli(['gc', '--grace-seconds', '0'], backend.env);
      expect(
        gc.code,
        `pictor gc failed:\n${gc.stdout}\n${gc.stderr}\n${gc.code === 0 ? '' : await unreadable(blobs)}`,
      ).toBe(0);
      const result = JSON.parse(gc.stdout.trim().split('\n').pop()!) as {
        scanned: number;
        deleted: number;
        young: number;
        partial: number;
        failed: number;
      };
      process.stdout.write(
        `kill: ${acknowledged.size} acknowledged, ${refused} cut off, ${listed.length} listed after restart, ` +
          `${orphans.length - 1} orphan(s) from the kill + 1 planted; gc ${JSON.stringify(result)}\n`,
      );
      expect(result.deleted).toBeGreaterThanOrEqual(1);
      expect(result).toMatchObject({ scanned: before.size, deleted: orphans.length, young: 0, failed: 0 });
      expect(result.partial).toBeGreaterThanOrEqual(0);

      const after = (await collect(blobs.list())).filter((k) => k.startsWith('originals/'));
      expect(after).not.toContain(planted);
      expect(after.sort()).toEqual([...referenced].sort());
      expect(backend.leftovers(), 'partial writes left by the kill').toEqual([]);
    } finally {
      await store.close();
      await blobs.close();
    }

    // Still complete after gc.
    await inBatches(listed, 8, checkImage);
  } finally {
    if (first) {
      first.proc.kill('SIGKILL');
      await first.exited;
    }
    if (second) {
      second.proc.kill('SIGTERM');
      await second.exited;
    }
    await backend.cleanup();
  }
}

// ---------------------------------------------------------------------------------------------------
// Suites
// ---------------------------------------------------------------------------------------------------

describe.skipIf(!available)('SIGKILL during 50 concurrent uploads, PostgreSQL + S3', () => {
  it(
    'after a restart every listed image is complete and gc removes the orphans',
    async () => {
      // PostgreSQL (a schema of its own) and s3rver (a prefix of its own), as every scale-out suite.
      const backend = await startBackend('scale-out');
      const e = backend.env;
      const dataDir = mkdtempSync(join(tmpdir(), 'pictor-kill-pg-'));
      await killScenario({
        env: { ...e, ...serverEnv(dataDir), LOG_LEVEL: 'error' },
        openStores: async () => ({
          store: createPostgresMetadataStore({
            connectionString: e.DATABASE_URL!,
            schema: e.PICTOR_DATABASE_SCHEMA!,
            max: 2,
          }),
          blobs: createS3BlobStore({
            endpoint: e.S3_ENDPOINT!,
            bucket: e.S3_BUCKET!,
            region: e.S3_REGION!,
            accessKeyId: e.S3_ACCESS_KEY_ID!,
            secretAccessKey: e.S3_SECRET_ACCESS_KEY!,
            forcePathStyle: true,
            prefix: e.S3_PREFIX!,
          }),
        }),
        leftovers: () => [],
        cleanup: async () => {
          rmSync(dataDir, { recursive: true, force: true });
          await backend.close();
        },
      });
    },
    TEST_PROCESSES === '1' ? 60_000 : 180_000,
  );
});

describe('SIGKILL during 50 concurrent uploads, SQLite + files (the embedded default)', () => {
  it(
    'after a restart every listed image is complete and gc removes the orphans',
    async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'pictor-kill-sqlite-'));
      const blobRoot = join(dataDir, 'blobs');
      await killScenario({
        env: { ...serverEnv(dataDir), LOG_LEVEL: 'error' },
        openStores: async () => ({
          store: createSqliteMetadataStore({ filename: join(dataDir, 'pictor.sqlite') }),
          blobs: createFsBlobStore({ root: blobRoot }),
        }),
        leftovers: () =>
          readdirSync(join(blobRoot, 'originals'), { recursive: true, withFileTypes: true })
            .filter((e) => e.isFile() && e.name.includes('.tmp-'))
            .map((e) => relative(blobRoot, join(e.parentPath, e.name))),
        cleanup: async () => {
          rmSync(dataDir, { recursive: true, force: true });
        },
      });
    },
    TEST_PROCESSES === '1' ? 60_000 : 180_000,
  );
});

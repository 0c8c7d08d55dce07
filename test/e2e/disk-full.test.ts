/**
 * A full disk (issue #11, item 6), for real: the data directory sits on a small tmpfs that this test
 * mounts itself (it must run as root; otherwise it says why it skipped), a filler file takes every
 * free block, and then:
 * - every write endpoint answers 503 with Retry-After and 5540 (the storage error uploads give), never
 *   a 500;
 * - no failed write leaves a file behind (the fs blob store's temporary files, the transformation
 *   URLs' origin cache);
 * - DELETE answers 200 and gives the blob's bytes back to the file system; a delete that truly finds
 *   no space answers 503 5540 as well, not "cannot rollback";
 * - reads go on: details, lists, the original, renditions cached and new, transformation URLs;
 * - the server starts again on the full disk (after a clean shutdown removed SQLite's -wal and -shm)
 *   and serves reads.
 */
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  statfsSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeImage } from '../helpers/images.js';
import { startTestServer, TEST_ACCOUNT_ID, TEST_TOKEN, type TestServer } from '../helpers/server.js';

const mountPoint = mkdtempSync(join(tmpdir(), 'pictor-diskfull-'));
const backend = process.env.PICTOR_TEST_BACKEND;
/** Why the suite cannot run here (not root, no tmpfs), or undefined when the tmpfs is mounted. */
const cannotMount: string | undefined = (() => {
  // The disk that fills is PICTOR_DATA_DIR's: SQLite and the fs blob store live there.
  if (backend && backend !== 'sqlite')
    return `PICTOR_TEST_BACKEND=${backend}: the full disk is the embedded backend's (SQLite + files)`;
  if (process.getuid?.() !== 0) return 'not running as root, so no tmpfs can be mounted';
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=32m,mode=0700', 'tmpfs', mountPoint], {
      stdio: 'pipe',
    });
    return undefined;
  } catch (e) {
    return `mount -t tmpfs failed: ${String((e as { stderr?: Buffer }).stderr ?? e).trim()}`;
  }
})();
if (cannotMount) {
  process.stdout.write(`disk-full: skipped: ${cannotMount}\n`);
  rmSync(mountPoint, { recursive: true, force: true });
}

const dataDir = join(mountPoint, 'data');
const filler = join(mountPoint, 'filler');

/** Free bytes on the tmpfs. */
const free = (): number => {
  const s = statfsSync(mountPoint);
  return s.bavail * s.bsize;
};

/** Appends to the filler file until the file system refuses one more 4 KiB block. */
function fill(): void {
  const fd = openSync(filler, 'a');
  try {
    for (const size of [1024 * 1024, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size, 0xaa);
      for (;;) {
        try {
          if (writeSync(fd, chunk) < size) break;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  expect(free()).toBe(0);
}

/** Gives `bytes` back by shortening the filler. */
function unfill(bytes: number): void {
  const fd = openSync(filler, 'r+');
  try {
    ftruncateSync(fd, Math.max(0, statSync(filler).size - bytes));
  } finally {
    closeSync(fd);
  }
}

/** Every file under the data directory, relative, sorted. */
function files(dir = dataDir): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, e.name);
      if (e.isDirectory()) walk(full);
      else out.push(relative(dataDir, full));
    }
  };
  walk(dir);
  return out.sort();
}

/** Files that are not SQLite's own (whose -wal and -shm come and go with the connection). */
const stored = () => files().filter((f) => !/^pictor\.sqlite(-wal|-shm)?$/.test(f));

/**
 * `stored()` once the disk-cache writes a response started in the background (rendition cache) have
 * ended: a temporary file may be there while such a write fails, never after (2 s at most).
 */
async function settled(): Promise<string[]> {
  for (let i = 0; i < 40 && stored().some((f) => f.includes('.tmp')); i++)
    await new Promise((r) => setTimeout(r, 50));
  return stored();
}

let srv: TestServer | undefined;
let origin: Server;
let originUrl = '';
let photo: Buffer;
let big: Buffer;
const ids: Record<string, string> = {};
let deliveryBase = '';
let uploadPath = '';
/** Every status this suite saw from the server, with what answered it. */
const seen: Array<{ what: string; status: number }> = [];

async function start(): Promise<TestServer> {
  return startTestServer({
    PICTOR_DATA_DIR: dataDir,
    PICTOR_ACCOUNT_ID: TEST_ACCOUNT_ID,
    PICTOR_API_TOKEN: TEST_TOKEN,
    PICTOR_URL_ALLOWLIST: '127.0.0.1/32',
    PICTOR_TRANSFORM_ORIGIN: originUrl,
    // Small memory cache so renditions are read from the disk tier.
    PICTOR_CACHE_MEMORY_MB: '1',
  });
}

async function call(
  method: string,
  path: string,
  body?: BodyInit,
  type?: string,
): Promise<{ status: number; headers: Headers; json: any; text: string }> {
  const headers: Record<string, string> = { authorization: `Bearer ${TEST_TOKEN}` };
  if (type) headers['content-type'] = type;
  const res = await fetch(`${srv!.apiBase}/accounts/${TEST_ACCOUNT_ID}${path}`, { method, headers, body });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  seen.push({ what: `${method} ${path}`, status: res.status });
  return { status: res.status, headers: res.headers, json, text };
}

const jsonBody = (v: unknown) => JSON.stringify(v);

function fileForm(data: Buffer, name: string, fields: Record<string, string> = {}): FormData {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  form.set('file', new Blob([new Uint8Array(data)]), name);
  return form;
}

/** 503, Retry-After, 5540: the storage error every upload already gave. */
function expectStorageError(r: { status: number; headers: Headers; json: any; text: string }, what: string) {
  expect(r.status, `${what}: ${r.text}`).toBe(503);
  expect(r.headers.get('retry-after'), what).toBe('5');
  if (r.json) {
    expect(r.json.success, what).toBe(false);
    expect(r.json.errors[0].code, `${what}: ${r.text}`).toBe(5540);
    expect(r.json.errors[0].message, what).toBe('ERROR 5540: Error received from the storage.');
  } else {
    // The one-time upload URL answers in text.
    expect(r.text, what).toMatch(/^ERROR 5540: /);
  }
}

async function get(url: string): Promise<{ status: number; body: Buffer; type: string | null }> {
  const res = await fetch(url);
  const body = Buffer.from(await res.arrayBuffer());
  seen.push({ what: `GET ${url}`, status: res.status });
  return { status: res.status, body, type: res.headers.get('content-type') };
}

describe.skipIf(cannotMount !== undefined)(
  'a full disk (tmpfs of 32 MiB mounted by the test)',
  {
    timeout: 120_000,
  },
  () => {
    beforeAll(async () => {
      photo = await makeImage('png', 320, 240);
      // Noise does not compress: a 2 MiB original whose delete must give its blocks back.
      const raw = Buffer.alloc(1000 * 700 * 3);
      for (let i = 0; i < raw.length; i++) raw[i] = (i * 2654435761) >>> 24;
      big = await sharp(raw, { raw: { width: 1000, height: 700, channels: 3 } })
        .png({ compressionLevel: 0 })
        .toBuffer();
      origin = createServer((req, res) => {
        if (req.url === '/photo.png') res.writeHead(200, { 'content-type': 'image/png' }).end(photo);
        else res.writeHead(404).end();
      });
      await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
      originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
      mkdirSync(dataDir);
      srv = await start();

      // What the full disk will find: images, a variant, a key, a draft, a rendition in the disk cache.
      for (const name of ['kept', 'patched', 'other']) {
        const r = await call('POST', '/images/v1', fileForm(photo, `${name}.png`, { id: name }));
        expect(r.status, r.text).toBe(200);
        ids[name] = r.json.result.id;
        if (name === 'kept')
          deliveryBase = new URL(r.json.result.variants[0]).pathname.replace(/\/[^/]+$/, '');
      }
      const b = await call('POST', '/images/v1', fileForm(big, 'big.png', { id: 'big' }));
      expect(b.status, b.text).toBe(200);
      expect(
        (
          await call(
            'POST',
            '/images/v1/variants',
            jsonBody({ id: 'thumb', options: { fit: 'cover', width: 60, height: 60 } }),
            'application/json',
          )
        ).status,
      ).toBe(200);
      expect(
        (
          await call(
            'POST',
            '/images/v1/variants',
            jsonBody({ id: 'gone', options: { width: 50 } }),
            'application/json',
          )
        ).status,
      ).toBe(200);
      expect((await call('PUT', '/images/v1/keys/spare')).status).toBe(200);
      const d = await call('POST', '/images/v2/direct_upload', jsonBody({ id: 'draft' }), 'application/json');
      expect(d.status, d.text).toBe(200);
      uploadPath = new URL(d.json.result.uploadURL).pathname;
      const cached = await get(`${srv.url}${deliveryBase}/thumb`);
      expect(cached.status).toBe(200);
      expect(existsHeadroom()).toBe(true);
    });

    afterAll(async () => {
      await srv?.close();
      await new Promise<void>((r) => (origin ? origin.close(() => r()) : r()));
      execFileSync('umount', [mountPoint]);
      rmSync(mountPoint, { recursive: true, force: true });
    });

    /** SQLite's reserve (src/storage/sqlite/index.ts, Headroom) holds blocks. */
    const existsHeadroom = () => {
      try {
        return statSync(join(dataDir, 'pictor.sqlite-headroom')).size > 0;
      } catch {
        return false;
      }
    };

    it('every write endpoint answers 503 5540 with Retry-After, and leaves no file behind', async () => {
      fill();
      const before = stored();
      const drafts = (await call('GET', '/images/v1')).json.result.images.length;

      expectStorageError(await call('POST', '/images/v1', fileForm(photo, 'new.png')), 'upload a file');
      expectStorageError(await call('POST', '/images/v1', fileForm(big, 'new-big.png')), 'upload a big file');
      const byUrl = new FormData();
      byUrl.set('url', `${originUrl}/photo.png`);
      expectStorageError(await call('POST', '/images/v1', byUrl), 'upload by URL');
      expectStorageError(
        await call(
          'PATCH',
          `/images/v1/${ids.patched}`,
          jsonBody({ metadata: { a: 1 } }),
          'application/json',
        ),
        'PATCH image',
      );
      expectStorageError(
        await call(
          'POST',
          '/images/v1/variants',
          jsonBody({ id: 'new', options: { width: 10 } }),
          'application/json',
        ),
        'POST variant',
      );
      expectStorageError(
        await call(
          'PATCH',
          '/images/v1/variants/thumb',
          jsonBody({ options: { width: 70 } }),
          'application/json',
        ),
        'PATCH variant',
      );
      expectStorageError(await call('PUT', '/images/v1/keys/another'), 'PUT signing key');
      expectStorageError(
        await call('POST', '/images/v2/direct_upload', jsonBody({}), 'application/json'),
        'direct upload create',
      );
      const completion = await fetch(`${srv!.url}${uploadPath}`, {
        method: 'POST',
        body: fileForm(photo, 'd.png'),
      });
      seen.push({ what: 'direct upload completion', status: completion.status });
      expectStorageError(
        {
          status: completion.status,
          headers: completion.headers,
          json: undefined,
          text: await completion.text(),
        },
        'direct upload completion',
      );
      expectStorageError(
        await call('PATCH', '/images/v1/config', jsonBody({ flexible_variants: true }), 'application/json'),
        'PATCH config (flexible variants)',
      );
      expectStorageError(await call('GET', '/images/v1/batch_token'), 'batch token');

      // Nothing was half-written: the same files as before, the same images, and no free block taken.
      expect(await settled()).toEqual(before);
      expect((await call('GET', '/images/v1')).json.result.images.length).toBe(drafts);
      expect((await call('GET', `/images/v1/${ids.patched}`)).json.result.meta).toBeUndefined();
      expect(free()).toBe(0);
    });

    it('reads go on: details, lists, the original, cached and new renditions, transformation URLs', async () => {
      expect(free()).toBe(0);
      const before = stored();
      const details = await call('GET', `/images/v1/${ids.kept}`);
      expect(details.status, details.text).toBe(200);
      expect((await call('GET', '/images/v2')).status).toBe(200);
      expect((await call('GET', '/images/v1/stats')).status).toBe(200);
      const blob = await call('GET', `/images/v1/${ids.kept}/blob`);
      expect(blob.status).toBe(200);
      const cached = await get(`${srv!.url}${deliveryBase}/thumb`);
      expect(cached.status).toBe(200);
      expect((await sharp(cached.body).metadata()).width).toBe(60);
      // Never rendered before: rendered now, its disk-cache copy refused quietly.
      const fresh = await get(`${srv!.url}${deliveryBase}/public`);
      expect(fresh.status).toBe(200);
      expect((await sharp(fresh.body).metadata()).width).toBe(320);
      // A transformation URL: the origin's bytes cannot be kept on disk, so they are used from memory.
      const t = await get(`${srv!.url}/cdn-cgi/image/width=100,format=png/photo.png`);
      expect(t.status, t.body.toString()).toBe(200);
      const meta = await sharp(t.body).metadata();
      expect([meta.format, meta.width]).toEqual(['png', 100]);
      expect(await settled()).toEqual(before);
      expect(free()).toBe(0);
    });

    it('DELETE answers 200 on the full disk and gives the blob bytes back', async () => {
      expect(free()).toBe(0);
      expect(existsHeadroom()).toBe(true);
      const blobsBefore = files(join(dataDir, 'blobs')).length;
      const v = await call('DELETE', '/images/v1/variants/gone');
      expect(v.status, v.text).toBe(200);
      const r = await call('DELETE', '/images/v1/big');
      expect(r.status, r.text).toBe(200);
      expect((await call('GET', '/images/v1/big')).status).toBe(404);
      expect(files(join(dataDir, 'blobs')).length).toBe(blobsBefore - 1);
      expect(free()).toBeGreaterThanOrEqual(big.length);
      // The next delete makes the reserve again from the freed space.
      const k = await call('DELETE', '/images/v1/keys/spare');
      expect(k.status, k.text).toBe(200);
      expect(existsHeadroom()).toBe(true);
    });

    it('a delete that truly finds no space (no reserve left) answers 503 5540, not a 500', async () => {
      fill();
      unlinkSync(join(dataDir, 'pictor.sqlite-headroom'));
      fill();
      expectStorageError(await call('DELETE', `/images/v1/${ids.other}`), 'DELETE image, no space at all');
      expect((await call('GET', `/images/v1/${ids.other}`)).status).toBe(200);
      expect((await settled()).filter((f) => f.includes('.tmp'))).toEqual([]);
    });

    it('the server starts again on the full disk and serves reads; deletes still work', async () => {
      // Room for the reserve, which the shutdown makes again; then the disk is filled up once more.
      unfill(4 * 1024 * 1024);
      await srv!.close();
      srv = undefined;
      expect(existsHeadroom()).toBe(true);
      // A clean close removed SQLite's -wal and -shm: opening must create them with no free block.
      expect(files().filter((f) => /-wal$|-shm$/.test(f))).toEqual([]);
      fill();
      srv = await start();
      expect(free()).toBe(0);
      const details = await call('GET', `/images/v1/${ids.kept}`);
      expect(details.status, details.text).toBe(200);
      expect(
        (await call('GET', '/images/v1')).json.result.images.map((i: { id: string }) => i.id).sort(),
      ).toEqual(['kept', 'other', 'patched']);
      // A rendition from the disk cache (the memory tier is empty after the restart), and a new one.
      const cached = await get(`${srv.url}${deliveryBase}/thumb`);
      expect(cached.status).toBe(200);
      expect((await sharp(cached.body).metadata()).width).toBe(60);
      const fresh = await get(`${srv.url}${deliveryBase}/public`);
      expect(fresh.status).toBe(200);
      expectStorageError(
        await call('POST', '/images/v1', fileForm(photo, 'after.png')),
        'upload after restart',
      );
      expectStorageError(
        await call('PATCH', `/images/v1/${ids.kept}`, jsonBody({ metadata: { b: 2 } }), 'application/json'),
        'PATCH image after restart',
      );
      const freeBefore = free();
      const del = await call('DELETE', `/images/v1/${ids.other}`);
      expect(del.status, del.text).toBe(200);
      expect(free()).toBeGreaterThan(freeBefore);
      expect((await settled()).filter((f) => f.includes('.tmp'))).toEqual([]);
    });

    it('no request of this suite answered a 500', () => {
      expect(seen.filter((s) => s.status >= 500 && s.status !== 503)).toEqual([]);
      expect(seen.length).toBeGreaterThan(30);
    });
  },
);

/**
 * `pictor import` (a directory tree, an S3 prefix on s3rver, an export) and `pictor export`, end to
 * end against real servers; progress output on a pseudo-terminal (script(1)) and without one.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startTestS3, type TestS3 } from '../helpers/s3.js';
import {
  apiOf,
  call,
  cli,
  parallel,
  readAccount,
  ROOT,
  seedImages,
  seedSettings,
  sha256,
  tinyPng,
  uploadImage,
  type Api,
} from '../helpers/transfer.js';

let dir: string;
let source: TestServer;
let restored: TestServer;
let target: TestServer;
let s3: TestS3;

const toArgs = (api: Api) => ['--to', api.base, '--account', api.accountId, '--token', api.token];
const fromArgs = (api: Api) => ['--from', api.base, '--account', api.accountId, '--token', api.token];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pictor-import-'));
  [source, restored, target, s3] = await Promise.all([
    startTestServer(),
    startTestServer(),
    startTestServer(),
    startTestS3(),
  ]);
  await seedSettings(apiOf(source));
  const seeds = await seedImages(40);
  await parallel(seeds, 8, (s) => uploadImage(apiOf(source), s));
}, 120_000);

afterAll(async () => {
  await Promise.all([source?.close(), restored?.close(), target?.close(), s3?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('pictor import of a directory tree', () => {
  it('ids from relative paths, metadata from sidecars, non-images reported and skipped; a re-run copies nothing', async () => {
    const tree = join(dir, 'tree');
    mkdirSync(join(tree, 'a/b'), { recursive: true });
    mkdirSync(join(tree, 'ünï/图'), { recursive: true });
    writeFileSync(join(tree, 'a/b/cat.png'), await tinyPng(1));
    writeFileSync(join(tree, 'a/b/cat.png.json'), JSON.stringify({ owner: 'alice', tags: ['x', 'y'], n: 1 }));
    writeFileSync(join(tree, 'ünï/图/dog.png'), await tinyPng(2));
    writeFileSync(join(tree, 'top.png'), await tinyPng(3));
    writeFileSync(join(tree, 'notes.txt'), 'not an image');
    writeFileSync(join(tree, 'a/fake.png'), 'text pretending to be a png');
    const api = apiOf(target);
    const res = await cli(['import', tree, ...toArgs(api), '--state', join(dir, 'tree.state'), '--json']);
    expect(res.code, res.stderr + res.stdout).toBe(0);
    const report = JSON.parse(res.stdout);
    expect(report.copied).toBe(3);
    expect(report.ignored.map((i: { key: string }) => i.key).sort()).toEqual(['a/fake.png', 'notes.txt']);
    expect(report.ignored[0].reason).toMatch(/not an image/);
    const images = await readAccount(api);
    expect(images.map((i) => i.id)).toEqual(['a/b/cat.png', 'top.png', 'ünï/图/dog.png']);
    expect(images[0]!.meta).toEqual({ owner: 'alice', tags: ['x', 'y'], n: 1 });
    expect(images[0]!.sha256).toBe(sha256(readFileSync(join(tree, 'a/b/cat.png'))));

    const again = JSON.parse(
      (await cli(['import', tree, ...toArgs(api), '--state', join(dir, 'tree.state'), '--json'])).stdout,
    );
    expect(again).toMatchObject({ copied: 0, skipped: 3 });
  }, 120_000);

  it('--ids uuid lets the target generate ids', async () => {
    const tree = join(dir, 'flat');
    mkdirSync(tree, { recursive: true });
    writeFileSync(join(tree, 'one.png'), await tinyPng(11));
    writeFileSync(join(tree, 'two.png'), await tinyPng(12));
    const res = await cli([
      'import',
      tree,
      ...toArgs(apiOf(restored)),
      '--ids',
      'uuid',
      '--state',
      join(dir, 'flat.state'),
      '--json',
    ]);
    expect(JSON.parse(res.stdout).copied).toBe(2);
    const ids = (await readAccount(apiOf(restored))).map((i) => i.id);
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(id).toMatch(UUID);
    for (const id of ids) await call(apiOf(restored), 'DELETE', `/images/v1/${id}`);
  }, 120_000);
});

describe('pictor import of an S3 prefix', () => {
  it('imports the objects under the prefix with their sidecars, through the S3_* settings', async () => {
    const client = new S3Client({
      endpoint: s3.endpoint,
      region: s3.region,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    });
    const put = (Key: string, Body: Buffer | string) =>
      client.send(new PutObjectCommand({ Bucket: s3.bucket, Key, Body }));
    await put('library/2024/sun.png', await tinyPng(21));
    await put('library/2024/sun.png.json', JSON.stringify({ album: 'summer' }));
    await put('library/moon.png', await tinyPng(22));
    await put('library/readme.md', '# not an image');
    await put('elsewhere/skip.png', await tinyPng(23));
    client.destroy();
    const api = { ...apiOf(target) };
    const env = {
      S3_BUCKET: 'unused-by-import',
      S3_ENDPOINT: s3.endpoint,
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      S3_FORCE_PATH_STYLE: 'true',
    };
    const res = await cli(
      ['import', `s3://${s3.bucket}/library`, ...toArgs(api), '--state', join(dir, 's3.state'), '--json'],
      env,
    );
    expect(res.code, res.stderr + res.stdout).toBe(0);
    const report = JSON.parse(res.stdout);
    expect(report.copied).toBe(2);
    expect(report.ignored.map((i: { key: string }) => i.key)).toEqual(['readme.md']);
    const images = await readAccount(api);
    const sun = images.find((i) => i.id === '2024/sun.png')!;
    expect(sun.meta).toEqual({ album: 'summer' });
    expect(sun.sha256).toBe(sha256(await tinyPng(21)));
    expect(images.map((i) => i.id)).toContain('moon.png');
    expect(images.map((i) => i.id)).not.toContain('elsewhere/skip.png');
  }, 120_000);
});

describe('pictor export, then import into an empty server', () => {
  it('restores the same images (sha256, metadata, creator, private flag, ids, upload times), variants, settings and keys', async () => {
    const out = join(dir, 'export');
    const res = await cli([
      'export',
      ...fromArgs(apiOf(source)),
      out,
      '--json',
      '--progress-interval',
      '0.1',
    ]);
    expect(res.code, res.stderr + res.stdout).toBe(0);
    expect(JSON.parse(res.stdout).copied).toBe(40);
    // Without a terminal: plain progress lines.
    const lines = res.stderr.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines)
      expect(l).toMatch(/^pictor export: \d+\/40 images, [\d.]+ (B|KB|MB), [\d.]+ images\/s(, ETA \S+)?$/);
    expect(lines.at(-1)).toMatch(/^pictor export: 40\/40 images/);
    const manifest = readFileSync(join(out, 'manifest.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(manifest).toHaveLength(40);
    expect(Object.keys(manifest[0]).sort()).toEqual([
      'creator',
      'file',
      'filename',
      'id',
      'metadata',
      'requireSignedURLs',
      'sha256',
      'uploaded',
    ]);
    for (const m of manifest) expect(sha256(readFileSync(join(out, m.file)))).toBe(m.sha256);

    const api = apiOf(restored);
    const imp = await cli(['import', out, ...toArgs(api), '--state', join(dir, 'restore.state'), '--json']);
    expect(imp.code, imp.stderr + imp.stdout).toBe(0);
    expect(JSON.parse(imp.stdout)).toMatchObject({ copied: 40, failed: [], notPreserved: [] });
    expect(await readAccount(api)).toEqual(await readAccount(apiOf(source)));
    expect(await call(api, 'GET', '/images/v1/keys')).toEqual(
      await call(apiOf(source), 'GET', '/images/v1/keys'),
    );
    expect((await call(api, 'GET', '/images/v1/variants')).variants).toEqual(
      (await call(apiOf(source), 'GET', '/images/v1/variants')).variants,
    );
    expect(await call(api, 'GET', '/images/v1/config')).toEqual({
      flexible_variants: true,
      browser_ttl: 7200,
    });
    const srcList = (await call(apiOf(source), 'GET', '/images/v1?per_page=100')).images.map((i: any) => [
      i.id,
      i.uploaded,
    ]);
    const dstList = (await call(api, 'GET', '/images/v1?per_page=100')).images.map((i: any) => [
      i.id,
      i.uploaded,
    ]);
    expect(new Map(dstList)).toEqual(new Map(srcList));
  }, 180_000);

  it('on a pseudo-terminal the progress is a live bar with count, bytes, rate and ETA', async () => {
    const out = join(dir, 'export-tty');
    const cmd = [
      process.execPath,
      '--import',
      'tsx',
      resolve(ROOT, 'src/cli/main.ts'),
      'export',
      ...fromArgs(apiOf(source)),
      out,
    ]
      .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
      .join(' ');
    // script(1) runs the command on a pseudo-terminal and copies what it draws to stdout.
    // Asynchronously: the source server runs in this process and must keep answering.
    const child = spawn('script', ['-q', '-e', '-c', cmd, '/dev/null'], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'silent' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let drawn = '';
    child.stdout.on('data', (c: Buffer) => (drawn += c.toString('utf8')));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code, drawn).toBe(0);
    expect(drawn).toMatch(/[█░]+/);
    expect(drawn).toMatch(/40\/40 images \| [\d.]+ (B|KB|MB) \| [\d.]+ img\/s \| ETA /);
    expect(drawn).toContain('\x1b['); // cursor control: the bar is redrawn in place
    expect(drawn).not.toMatch(/^pictor export: \d+\/40 images, /m);
  }, 120_000);
});

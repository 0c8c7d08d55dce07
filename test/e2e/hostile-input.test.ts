/**
 * Hostile uploads against the real server (SQLite + local blobs, in this process, over HTTP on
 * 127.0.0.1). Every input is generated here, from sharp or by hand (no binary fixtures):
 *
 * - truncated JPEG and PNG (a photo-like image cut at 50 %, and cut just after its headers), a
 *   JPEG whose header says 10,000×10,000 cut at 10 %;
 * - a PNG whose hand-built IHDR claims 100,000×100,000 (valid CRCs, a tiny IDAT), a 12,001 px side;
 * - decompression bombs: one-colour PNGs of 10,000×10,000 (100 MP, at the limit: stored, or refused
 *   cleanly) and 12,000×12,000 (144 MP, over: 5443) that are a few hundred KB each, and a PNG
 *   whose iCCP chunk inflates to 300 MB;
 * - hand-built GIFs: 3,000 frames of 200×200 (120 MP summed over frames: 5443), 3,000 1×1 frames
 *   on a 200×200 canvas (the same 120 MP in a few KB: 5443), a 65,535² logical screen around a
 *   1×1 frame (see its test), and a small animation that is accepted;
 * - SVGs with `<script>`, `onload`, external `<image href>` / `<use href>`, CSS `url()` and
 *   `@import`, `javascript:` links, `foreignObject`, an external DTD (all stored, with the
 *   reference removed: checked on the blob and on delivery), an XXE entity, an external parameter
 *   entity, a billion-laughs document and 10,000 nested groups (5455, quickly), and a gzip bomb
 *   sent as .svgz (5455);
 * - polyglots: GIF magic followed by an HTML page (5455); a JPEG with a ZIP appended and a PNG with
 *   an HTML page after IEND (both are valid images, so both are stored as that image type: the
 *   server recognises formats from the bytes and stores originals unchanged, and the blob is served
 *   as image/jpeg / image/png with `Cache-Control: private, no-store`, never as HTML);
 * - an empty file, a text file named `x.jpg` sent as image/jpeg, random bytes (5455);
 * - metadata of 1025 bytes, ASCII and multi-byte (5400), and of exactly 1024 bytes (stored);
 * - a file of 10 MiB + 1 byte, and an endless body that must be answered with 5413 while it is
 *   still being sent (docs/compat.md: "5413/413 as soon as the stream passes the cap"); exactly
 *   10 MiB (a valid PNG padded with a private chunk) is stored;
 * - a JPEG whose EXIF claims 100,000×100,000 while its frame is small (stored, real size reported).
 *
 * For every refusal: HTTP status, `errors[0].code`, the `ERROR <code>: ` prefix, the stats count
 * unchanged, the case's custom id → 404/5404 and no new blob (file under `<dataDir>/blobs`, or S3
 * object) or image row. For every
 * acceptance: the count and the blob files grow by one and the blob is what a careful server
 * should store. A TCP canary on 127.0.0.1 stands for every external URL in the corpus and must
 * never see a connection; no response may ever contain `/etc/passwd` content.
 *
 * Memory: the server runs in this test process, so `process.memoryUsage().rss` is sampled every
 * 20 ms while the corpus is sent (see the bounds next to RSS_PEAK_BOUND).
 */
import { request as httpRequest } from 'node:http';
import { createServer, type Server as NetServer } from 'node:net';
import { crc32, createDeflate, deflateSync, gzipSync } from 'node:zlib';
import exifReader from 'exif-reader';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ImageJson, type Res, toRes } from '../helpers/api.js';
import { makeImage } from '../helpers/images.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// ---------------------------------------------------------------------------------------------------
// Bounds
// ---------------------------------------------------------------------------------------------------

const MiB = 1024 * 1024;
const MAX_UPLOAD = 10 * MiB;

/**
 * RSS bounds for the whole corpus. Uploads are buffered up to the 10 MiB cap and decoded at 64 px
 * with sequential reading, so a correct server needs tens of MB per request. A server that decoded
 * the bombs at full size would need 300 MB (10,000² RGB), 432 MB (12,000² RGB), 480 MB (3,000
 * RGBA frames of 200²) or 30 GB (the 100,000² header), on top of the baseline of this process
 * (node + vitest + sharp + the corpus, ~200-300 MB). Peak below 1.5 GB, growth over the corpus
 * below 600 MB; and, per case, the peak may exceed the RSS at the start of the case by at most
 * RSS_CASE_BOUND, which a full decode of any of the bombs would break.
 */
const RSS_PEAK_BOUND = 1536 * MiB;
const RSS_GROWTH_BOUND = 600 * MiB;
const RSS_CASE_BOUND = 200 * MiB;
/** Documents that declare entities are refused before any expansion: this is generous. */
const ENTITY_REFUSAL_MS = 2000;

// ---------------------------------------------------------------------------------------------------
// Corpus builders
// ---------------------------------------------------------------------------------------------------

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** One PNG chunk: length, type, data, CRC-32 of type+data. */
function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

function ihdr(width: number, height: number): Buffer {
  const d = Buffer.alloc(13);
  d.writeUInt32BE(width, 0);
  d.writeUInt32BE(height, 4);
  d[8] = 8; // bit depth
  d[9] = 2; // colour type: RGB
  d[10] = 0; // compression
  d[11] = 0; // filter
  d[12] = 0; // interlace
  return pngChunk('IHDR', d);
}

/** A PNG whose header claims width×height, followed by one (zero) scanline of IDAT and IEND. */
function lyingPng(width: number, height: number): Buffer {
  const row = Buffer.alloc(1 + width * 3); // filter byte 0 + black pixels
  return Buffer.concat([
    PNG_SIGNATURE,
    ihdr(width, height),
    pngChunk('IDAT', deflateSync(row, { level: 9 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Inserts `chunk` into a PNG just before IEND (the last 12 bytes). */
function insertBeforeIend(png: Buffer, chunk: Buffer): Buffer {
  const at = png.length - 12;
  expect(png.subarray(at + 4, at + 8).toString('latin1')).toBe('IEND');
  return Buffer.concat([png.subarray(0, at), chunk, png.subarray(at)]);
}

/** GIF LZW (as omggif's writer): literal-table encoder with early code-size change and clears at 4096. */
function gifLzw(indices: Uint8Array, minCodeSize: number): Buffer {
  const clearCode = 1 << minCodeSize;
  const eoiCode = clearCode + 1;
  let codeSize = minCodeSize + 1;
  let nextCode = eoiCode + 1;
  let table = new Map<number, number>();
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  const emit = (code: number): void => {
    acc |= code << bits;
    bits += codeSize;
    while (bits >= 8) {
      out.push(acc & 0xff);
      acc >>>= 8;
      bits -= 8;
    }
  };
  emit(clearCode);
  let w = indices[0]!;
  for (let i = 1; i < indices.length; i++) {
    const k = indices[i]!;
    const key = (w << 8) | k;
    const hit = table.get(key);
    if (hit !== undefined) {
      w = hit;
      continue;
    }
    emit(w);
    if (nextCode === 4096) {
      emit(clearCode);
      nextCode = eoiCode + 1;
      codeSize = minCodeSize + 1;
      table = new Map();
    } else {
      if (nextCode >= 1 << codeSize) codeSize++;
      table.set(key, nextCode++);
    }
    w = k;
  }
  emit(w);
  emit(eoiCode);
  if (bits > 0) out.push(acc & 0xff);
  // Data sub-blocks of at most 255 bytes, then the block terminator.
  const data = Buffer.from(out);
  const blocks: Buffer[] = [Buffer.from([minCodeSize])];
  for (let i = 0; i < data.length; i += 255) {
    const part = data.subarray(i, i + 255);
    blocks.push(Buffer.from([part.length]), part);
  }
  blocks.push(Buffer.from([0]));
  return Buffer.concat(blocks);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n, 0);
  return b;
}

/**
 * An animated GIF89a on a width×height canvas with `frames` frames of frameWidth×frameHeight at
 * (0,0) (full-canvas by default), each one solid colour from a 4-colour palette (consecutive frames
 * differ, so no encoder could merge them), looping forever.
 */
function animatedGif(
  width: number,
  height: number,
  frames: number,
  frameWidth = width,
  frameHeight = height,
): Buffer {
  const palette = Buffer.from([0xe0, 0x20, 0x20, 0x20, 0xa0, 0x20, 0x20, 0x40, 0xe0, 0xf0, 0xf0, 0x20]);
  const parts: Buffer[] = [
    Buffer.from('GIF89a', 'latin1'),
    u16(width),
    u16(height),
    Buffer.from([0xf1, 0, 0]), // global colour table, 8-bit resolution, 4 entries; background 0; aspect 0
    palette,
    Buffer.concat([
      Buffer.from([0x21, 0xff, 0x0b]),
      Buffer.from('NETSCAPE2.0', 'latin1'),
      Buffer.from([3, 1, 0, 0, 0]),
    ]),
  ];
  const frameData = [0, 1, 2, 3].map((c) => gifLzw(new Uint8Array(frameWidth * frameHeight).fill(c), 2));
  for (let f = 0; f < frames; f++) {
    parts.push(Buffer.from([0x21, 0xf9, 0x04, 0x04]), u16(2), Buffer.from([0, 0])); // GCE: disposal "keep", 20 ms
    parts.push(Buffer.from([0x2c]), u16(0), u16(0), u16(frameWidth), u16(frameHeight), Buffer.from([0]));
    parts.push(frameData[f % 4]!);
  }
  parts.push(Buffer.from([0x3b]));
  return Buffer.concat(parts);
}

/** zlib stream of `block` repeated `times` times, without holding the inflated bytes in memory. */
async function deflateRepeated(block: Buffer, times: number): Promise<Buffer> {
  const z = createDeflate({ level: 9 });
  const out: Buffer[] = [];
  z.on('data', (d: Buffer) => out.push(d));
  const done = new Promise<void>((resolve, reject) => {
    z.on('end', resolve);
    z.on('error', reject);
  });
  for (let i = 0; i < times; i++) {
    if (!z.write(block)) await new Promise<void>((resolve) => z.once('drain', resolve));
  }
  z.end();
  await done;
  return Buffer.concat(out);
}

/** Deterministic pseudo-random bytes (xorshift32), so the "random" file is the same on every run. */
function pseudoRandom(n: number, seed = 0x9e3779b9): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

/** Offset just past a JPEG's SOS segment header: every header present, no entropy-coded data. */
function jpegHeaderEnd(jpeg: Buffer): number {
  let i = 2;
  while (i < jpeg.length) {
    expect(jpeg[i]).toBe(0xff);
    const marker = jpeg[i + 1]!;
    const len = jpeg.readUInt16BE(i + 2);
    if (marker === 0xda) return i + 2 + len;
    i += 2 + len;
  }
  throw new Error('no SOS in JPEG');
}

/**
 * A JPEG APP1 Exif segment (little-endian TIFF) whose IFD0 ImageWidth/ImageLength and Exif IFD
 * PixelXDimension/PixelYDimension are LONGs claiming width×height.
 */
function exifApp1(width: number, height: number): Buffer {
  const tiff = Buffer.alloc(8 + 42 + 30);
  tiff.write('II', 0, 'latin1');
  tiff.writeUInt16LE(42, 2);
  tiff.writeUInt32LE(8, 4);
  const entry = (at: number, tag: number, value: number): void => {
    tiff.writeUInt16LE(tag, at);
    tiff.writeUInt16LE(4, at + 2); // LONG
    tiff.writeUInt32LE(1, at + 4);
    tiff.writeUInt32LE(value, at + 8);
  };
  tiff.writeUInt16LE(3, 8); // IFD0: 3 entries, in tag order
  entry(10, 0x0100, width); // ImageWidth
  entry(22, 0x0101, height); // ImageLength
  entry(34, 0x8769, 50); // ExifIFDPointer
  tiff.writeUInt32LE(0, 46); // no IFD1
  tiff.writeUInt16LE(2, 50); // Exif IFD: 2 entries
  entry(52, 0xa002, width); // PixelXDimension
  entry(64, 0xa003, height); // PixelYDimension
  tiff.writeUInt32LE(0, 76);
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const head = Buffer.from([0xff, 0xe1, 0, 0]);
  head.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([head, payload]);
}

/** A minimal stored ZIP archive holding one file (local header + central directory + end record). */
function zipWith(name: string, content: string): Buffer {
  const data = Buffer.from(content, 'utf8');
  const fname = Buffer.from(name, 'utf8');
  const crc = crc32(data) >>> 0;
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(10, 4);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(fname.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(10, 6);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(fname.length, 28);
  const localLen = local.length + fname.length + data.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + fname.length, 12);
  end.writeUInt32LE(localLen, 16);
  return Buffer.concat([local, fname, data, central, fname, end]);
}

// ---------------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------------

let srv: TestServer;
let canary: NetServer;
let canaryPort = 0;
let canaryConnections = 0;
/** Every response body seen (as latin1 text), for the `/etc/passwd` check. */
const seen: string[] = [];

// RSS sampling
let sampler: ReturnType<typeof setInterval> | undefined;
let peakRss = 0;
let casePeakRss = 0;
let rssBefore = 0;
const caseGrowth: Array<{ name: string; growth: number; ms: number }> = [];
function sample(): void {
  const rss = process.memoryUsage().rss;
  if (rss > peakRss) peakRss = rss;
  if (rss > casePeakRss) casePeakRss = rss;
}

function imagesUrl(path: string): string {
  return `${srv.apiBase}/accounts/${srv.accountId}/images/v1${path}`;
}

/** toRes, keeping the body (as latin1 text) for the `/etc/passwd` check. */
async function received(res: Response): Promise<Res> {
  const r = await toRes(res);
  seen.push(r.bytes.toString('latin1'));
  return r;
}

async function api(method: string, path: string): Promise<Res> {
  return received(
    await fetch(imagesUrl(path), { method, headers: { authorization: `Bearer ${srv.token}` } }),
  );
}

interface UploadFile {
  data: Buffer;
  filename: string;
  type: string;
}

async function upload(file: UploadFile | null, fields: Record<string, string>): Promise<Res> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  if (file) form.append('file', new Blob([new Uint8Array(file.data)], { type: file.type }), file.filename);
  return received(
    await fetch(imagesUrl(''), {
      method: 'POST',
      headers: { authorization: `Bearer ${srv.token}` },
      body: form,
    }),
  );
}

/**
 * A multipart upload written to the socket chunk by chunk: `fileBytes` bytes of `fill` (the first
 * bytes replaced by `head`), or, with `fileBytes` = Infinity, until the server answers (capped at
 * `hardCap` so a server that never answers fails the test instead of hanging). Resolves with the
 * response and how many file bytes had been written when it arrived.
 */
function streamUpload(
  id: string,
  head: Buffer,
  fileBytes: number,
  hardCap = 256 * MiB,
): Promise<{ res: Res; sentWhenAnswered: number; finished: boolean }> {
  const boundary = `----pictor-hostile-${Date.now().toString(16)}`;
  const preamble = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="id"\r\n\r\n${id}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\nContent-Type: image/png\r\n\r\n`,
    'latin1',
  );
  const epilogue = Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1');
  const chunk = Buffer.alloc(256 * 1024, 0x5a);
  const url = new URL(imagesUrl(''));
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    let finished = false;
    let sentWhenAnswered = -1;
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: {
          authorization: `Bearer ${srv.token}`,
          'content-type': `multipart/form-data; boundary=${boundary}`,
          ...(Number.isFinite(fileBytes)
            ? { 'content-length': String(preamble.length + fileBytes + epilogue.length) }
            : {}),
        },
      },
      (res) => {
        answered = true;
        sentWhenAnswered = sent;
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v);
          const answer = new Response(Buffer.concat(parts), { status: res.statusCode ?? 0, headers });
          received(answer).then((r) => resolve({ res: r, sentWhenAnswered, finished }), reject);
          req.destroy();
        });
      },
    );
    req.on('error', (e) => {
      // Writes after the server has answered and closed may fail (EPIPE / ECONNRESET): expected.
      if (!answered) reject(e);
    });
    const write = (): void => {
      while (!answered) {
        const left = Math.min(fileBytes, hardCap) - sent;
        if (left <= 0) {
          finished = true;
          req.end(epilogue);
          return;
        }
        let piece: Buffer;
        if (sent < head.length) piece = head.subarray(sent, Math.min(head.length, sent + left));
        else piece = chunk.subarray(0, Math.min(chunk.length, left));
        sent += piece.length;
        if (!req.write(piece)) {
          req.once('drain', write);
          return;
        }
      }
    };
    req.write(preamble);
    write();
  });
}

async function imageCount(): Promise<number> {
  const r = await api('GET', '/stats');
  expect(r.status).toBe(200);
  return (r.body!.result as { count: { current: number } }).count.current;
}

interface Snapshot {
  count: number;
  /** Stored blobs (files under `<dataDir>/blobs`, or S3 objects) and image rows. */
  blobs: number;
  rows: number;
  rss: number;
  t: number;
}

async function snapshot(): Promise<Snapshot> {
  const snap = {
    count: await imageCount(),
    ...(await srv.stored()),
    rss: process.memoryUsage().rss,
    t: Date.now(),
  };
  casePeakRss = snap.rss;
  return snap;
}

function recordCase(name: string, before: Snapshot): number {
  sample();
  const ms = Date.now() - before.t;
  caseGrowth.push({ name, growth: casePeakRss - before.rss, ms });
  expect(casePeakRss - before.rss, `${name}: RSS peak over the case's start`).toBeLessThan(RSS_CASE_BOUND);
  return ms;
}

/** Asserts a refusal and that it left nothing behind. Returns the time the request took. */
async function expectRefused(
  name: string,
  id: string,
  before: Snapshot,
  res: Res,
  status: number,
  code: number,
): Promise<number> {
  const ms = recordCase(name, before);
  expect(res.status, `${name}: status (body ${res.text.slice(0, 300)})`).toBe(status);
  expect(res.body, `${name}: JSON envelope`).toBeDefined();
  expect(res.body!.success).toBe(false);
  expect(res.body!.result).toBeNull();
  expect(res.body!.errors[0]?.code, `${name}: code (${res.body!.errors[0]?.message})`).toBe(code);
  expect(res.body!.errors[0]?.message.startsWith(`ERROR ${code}: `), `${name}: message prefix`).toBe(true);
  expect(await imageCount(), `${name}: stats count`).toBe(before.count);
  const stored = await srv.stored();
  expect(stored.blobs, `${name}: stored blobs`).toBe(before.blobs);
  expect(stored.rows, `${name}: image rows`).toBe(before.rows);
  const got = await api('GET', `/${encodeURIComponent(id)}`);
  expect(got.status, `${name}: GET of the id`).toBe(404);
  expect(got.body?.errors[0]?.code).toBe(5404);
  const blob = await api('GET', `/${encodeURIComponent(id)}/blob`);
  expect(blob.status, `${name}: GET of the id's blob`).toBe(404);
  return ms;
}

/** Asserts an acceptance under `id`; returns the image JSON and the stored blob. */
async function expectStored(
  name: string,
  id: string,
  before: Snapshot,
  res: Res,
  contentType: string,
): Promise<{ image: ImageJson; blob: Res }> {
  recordCase(name, before);
  expect(res.status, `${name}: status (body ${res.text.slice(0, 300)})`).toBe(200);
  expect(res.body!.success).toBe(true);
  const image = res.body!.result as ImageJson;
  expect(image.id).toBe(id);
  expect(await imageCount(), `${name}: stats count`).toBe(before.count + 1);
  const stored = await srv.stored();
  expect(stored.blobs, `${name}: stored blobs`).toBe(before.blobs + 1);
  expect(stored.rows, `${name}: image rows`).toBe(before.rows + 1);
  const blob = await api('GET', `/${encodeURIComponent(id)}/blob`);
  expect(blob.status).toBe(200);
  expect(blob.headers.get('content-type')).toBe(contentType);
  return { image, blob };
}

/** Uploads `data` under the custom id `hostile/<name>` and expects a refusal. */
async function refuses(
  name: string,
  file: UploadFile | null,
  status: number,
  code: number,
  fields: Record<string, string> = {},
): Promise<number> {
  const id = `hostile/${name}`;
  const before = await snapshot();
  const res = await upload(file, { id, ...fields });
  return expectRefused(name, id, before, res, status, code);
}

async function stores(
  name: string,
  file: UploadFile,
  contentType: string,
  fields: Record<string, string> = {},
): Promise<{ image: ImageJson; blob: Res; id: string }> {
  const id = `hostile/${name}`;
  const before = await snapshot();
  const res = await upload(file, { id, ...fields });
  return { ...(await expectStored(name, id, before, res, contentType)), id };
}

/** Details of a stored image (width/height are not in Cloudflare's JSON: read them from the blob). */
async function blobSize(
  blob: Buffer,
): Promise<{ width: number; height: number; pages: number; format: string }> {
  const m = await sharp(blob, { pages: -1, limitInputPixels: false }).metadata();
  return { width: m.width!, height: m.pageHeight ?? m.height!, pages: m.pages ?? 1, format: m.format! };
}

// ---------------------------------------------------------------------------------------------------
// Corpus (generated once, before the RSS baseline)
// ---------------------------------------------------------------------------------------------------

interface Corpus {
  jpeg: Buffer;
  png: Buffer;
  hugeJpeg: Buffer;
  claims100k: Buffer;
  side12001: Buffer;
  bomb10k: Buffer;
  bomb12k: Buffer;
  iccpBomb: Buffer;
  gif3000: Buffer;
  gifSparse: Buffer;
  gifScreen: Buffer;
  gifSmall: Buffer;
  svgz: Buffer;
  exifLiar: Buffer;
  exactly10MiB: Buffer;
}
let corpus: Corpus;

async function buildCorpus(): Promise<Corpus> {
  const jpeg = await makeImage('jpeg', 320, 240);
  const png = await makeImage('png', 320, 240);
  const solid = (w: number, h: number): Promise<Buffer> =>
    sharp({ create: { width: w, height: h, channels: 3, background: '#3366cc' } })
      .png({ compressionLevel: 9 })
      .toBuffer();
  const hugeJpeg = await sharp({
    create: { width: 10_000, height: 10_000, channels: 3, background: '#3366cc' },
  })
    .jpeg({ quality: 50 })
    .toBuffer();
  const small = await solid(16, 16);
  // 300 MB of 'A' deflated into an ICC profile chunk (placed after IHDR, where iCCP belongs).
  const iccp = pngChunk(
    'iCCP',
    Buffer.concat([Buffer.from('icc\0\0', 'latin1'), await deflateRepeated(Buffer.alloc(MiB, 0x41), 300)]),
  );
  const iccpBomb = Buffer.concat([small.subarray(0, 33), iccp, small.subarray(33)]);
  // libvips rewrites PixelX/YDimension and stores ImageWidth as SHORT: the APP1 segment is built by hand.
  const exifLiar = Buffer.concat([jpeg.subarray(0, 2), exifApp1(100_000, 100_000), jpeg.subarray(2)]);
  // A valid PNG padded to exactly 10 MiB by a private ancillary chunk (skipped by every decoder).
  const padLen = MAX_UPLOAD - png.length - 12;
  const exactly10MiB = insertBeforeIend(png, pngChunk('prVt', Buffer.alloc(padLen, 0x5a)));
  return {
    jpeg,
    png,
    hugeJpeg,
    claims100k: lyingPng(100_000, 100_000),
    side12001: await solid(12_001, 16),
    bomb10k: await solid(10_000, 10_000),
    bomb12k: await solid(12_000, 12_000),
    iccpBomb,
    gif3000: animatedGif(200, 200, 3000),
    gifSparse: animatedGif(200, 200, 3000, 1, 1),
    gifScreen: animatedGif(65_535, 65_535, 1, 1, 1),
    gifSmall: animatedGif(64, 48, 4),
    // A gzip-compressed SVG (.svgz) that inflates to 64 MiB: never an accepted format.
    svgz: gzipSync(
      Buffer.concat([
        Buffer.from('<svg xmlns="http://www.w3.org/2000/svg">'),
        Buffer.alloc(64 * MiB, 0x20),
        Buffer.from('</svg>'),
      ]),
      { level: 9 },
    ),
    exifLiar,
    exactly10MiB,
  };
}

// ---------------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------------

beforeAll(async () => {
  canary = createServer((socket) => {
    canaryConnections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => canary.listen(0, '127.0.0.1', resolve));
  canaryPort = (canary.address() as { port: number }).port;
  srv = await startTestServer();
  corpus = await buildCorpus();
  // Warm up (first upload loads sharp's and SQLite's code paths) before the baseline.
  const warm = await upload({ data: corpus.png, filename: 'warm.png', type: 'image/png' }, { id: 'warmup' });
  expect(warm.status).toBe(200);
  rssBefore = process.memoryUsage().rss;
  peakRss = rssBefore;
  sampler = setInterval(sample, 20);
}, 60_000);

afterAll(async () => {
  if (sampler) clearInterval(sampler);
  await srv?.close();
  await new Promise<void>((resolve) => (canary ? canary.close(() => resolve()) : resolve()));
});

describe('the corpus is what it claims to be', () => {
  it('bombs are small files with large headers; the GIFs are valid animations', async () => {
    expect(corpus.bomb10k.length).toBeLessThan(MAX_UPLOAD);
    expect(corpus.bomb12k.length).toBeLessThan(MAX_UPLOAD);
    expect(corpus.iccpBomb.length).toBeLessThan(MAX_UPLOAD);
    expect(corpus.gif3000.length).toBeLessThan(MAX_UPLOAD);
    expect(corpus.claims100k.length).toBeLessThan(2048);
    expect(corpus.exactly10MiB.length).toBe(MAX_UPLOAD);
    const m10 = await sharp(corpus.bomb10k).metadata();
    expect([m10.width, m10.height]).toEqual([10_000, 10_000]);
    const m12 = await sharp(corpus.bomb12k).metadata();
    expect([m12.width, m12.height]).toEqual([12_000, 12_000]);
    const mh = await sharp(corpus.claims100k, { limitInputPixels: false }).metadata();
    expect([mh.format, mh.width, mh.height]).toEqual(['png', 100_000, 100_000]);
    const g = await sharp(corpus.gif3000, { pages: -1, limitInputPixels: false }).metadata();
    expect([g.format, g.width, g.pageHeight, g.pages]).toEqual(['gif', 200, 200, 3000]);
    const gp = await sharp(corpus.gifSparse, { pages: -1, limitInputPixels: false }).metadata();
    expect([gp.format, gp.width, gp.pageHeight, gp.pages]).toEqual(['gif', 200, 200, 3000]);
    expect(corpus.gifSparse.length).toBeLessThan(128 * 1024);
    expect([corpus.gifScreen.readUInt16LE(6), corpus.gifScreen.readUInt16LE(8)]).toEqual([65_535, 65_535]);
    expect(corpus.svgz.length).toBeLessThan(MiB);
    const gs = await sharp(corpus.gifSmall, { animated: true }).raw().toBuffer({ resolveWithObject: true });
    expect([gs.info.width, gs.info.height]).toEqual([64, 48 * 4]);
    // Consecutive frames differ (solid colours 0,1,2,3 of the palette).
    expect(gs.data.subarray(0, 3)).not.toEqual(gs.data.subarray(64 * 48 * 4, 64 * 48 * 4 + 3));
    const hj = await sharp(corpus.hugeJpeg).metadata();
    expect([hj.width, hj.height]).toEqual([10_000, 10_000]);
    const ex = await sharp(corpus.exifLiar).metadata();
    expect([ex.width, ex.height]).toEqual([320, 240]);
    const tags = exifReader(ex.exif!);
    expect([
      tags.Image?.ImageWidth,
      tags.Image?.ImageLength,
      tags.Photo?.PixelXDimension,
      tags.Photo?.PixelYDimension,
    ]).toEqual([100_000, 100_000, 100_000, 100_000]);
    const pad = await sharp(corpus.exactly10MiB).metadata();
    expect([pad.width, pad.height]).toEqual([320, 240]);
  });
});

describe('truncated and corrupt rasters → 5455/415', () => {
  it('JPEG cut at 50 %', async () => {
    const j = corpus.jpeg;
    await refuses(
      'jpeg-half',
      { data: j.subarray(0, j.length >> 1), filename: 'half.jpg', type: 'image/jpeg' },
      415,
      5455,
    );
  });

  it('JPEG cut just after its headers (SOS, no scan data)', async () => {
    const j = corpus.jpeg;
    await refuses(
      'jpeg-headers',
      { data: j.subarray(0, jpegHeaderEnd(j)), filename: 'h.jpg', type: 'image/jpeg' },
      415,
      5455,
    );
  });

  it('JPEG whose header says 10,000×10,000, cut at 10 %', async () => {
    const j = corpus.hugeJpeg;
    await refuses(
      'jpeg-huge-cut',
      { data: j.subarray(0, Math.floor(j.length / 10)), filename: 'hc.jpg', type: 'image/jpeg' },
      415,
      5455,
    );
  });

  it('PNG cut at 50 %', async () => {
    const p = corpus.png;
    await refuses(
      'png-half',
      { data: p.subarray(0, p.length >> 1), filename: 'half.png', type: 'image/png' },
      415,
      5455,
    );
  });

  it('PNG cut just after IHDR (33 bytes)', async () => {
    await refuses(
      'png-ihdr',
      { data: corpus.png.subarray(0, 33), filename: 'h.png', type: 'image/png' },
      415,
      5455,
    );
  });
});

describe('dimension bombs → 5443/400 before decoding', () => {
  it('PNG whose IHDR claims 100,000×100,000 (valid CRCs, one scanline of IDAT)', async () => {
    await refuses(
      'png-100k',
      { data: corpus.claims100k, filename: 'huge.png', type: 'image/png' },
      400,
      5443,
    );
  });

  it('PNG 12,001×16 (one side over 12,000 px)', async () => {
    await refuses('png-side', { data: corpus.side12001, filename: 'wide.png', type: 'image/png' }, 400, 5443);
  });

  it('one-colour PNG 12,000×12,000 (144 MP in a few hundred KB) → 5443', async () => {
    const ms = await refuses(
      'png-144mp',
      { data: corpus.bomb12k, filename: 'bomb.png', type: 'image/png' },
      400,
      5443,
    );
    // Refused from the header: no decode of 432 MB of pixels.
    expect(ms).toBeLessThan(5000);
  });

  it('GIF of 3,000 frames of 200×200 (120 MP over all frames) → 5443', async () => {
    await refuses('gif-3000', { data: corpus.gif3000, filename: 'long.gif', type: 'image/gif' }, 400, 5443);
  });

  it('GIF of 3,000 1×1 frames on a 200×200 canvas (120 MP once composed, a few KB) → 5443', async () => {
    await refuses(
      'gif-sparse',
      { data: corpus.gifSparse, filename: 'sparse.gif', type: 'image/gif' },
      400,
      5443,
    );
  });

  /**
   * libvips' GIF loader (libnsgif) ignores a logical screen over 2048 px that no frame fills and
   * sizes the canvas from the frames, so the server's own decoders see a 1×1 image here. Storing
   * it is then harmless (nothing in Pictor ever allocates the 65,535² canvas); refusing it for the
   * header's claim (5443) would be as careful. Either way, nothing large is decoded.
   */
  it('GIF whose logical screen is 65,535×65,535 around one 1×1 frame: refused (5443), or stored as what its decoder sees', async () => {
    const id = 'hostile/gif-screen';
    const before = await snapshot();
    const res = await upload({ data: corpus.gifScreen, filename: 'screen.gif', type: 'image/gif' }, { id });
    if (res.status === 200) {
      const { blob } = await expectStored('gif-screen', id, before, res, 'image/gif');
      expect(blob.bytes.equals(corpus.gifScreen)).toBe(true);
      const seenAs = await blobSize(blob.bytes);
      expect(Math.max(seenAs.width, seenAs.height)).toBeLessThanOrEqual(12_000);
    } else {
      await expectRefused('gif-screen', id, before, res, 400, 5443);
    }
  });

  it('one-colour PNG 10,000×10,000 (100 MP, at the limit): stored intact, or refused cleanly', async () => {
    const id = 'hostile/png-100mp';
    const before = await snapshot();
    const res = await upload({ data: corpus.bomb10k, filename: 'limit.png', type: 'image/png' }, { id });
    if (res.status === 200) {
      const { blob } = await expectStored('png-100mp', id, before, res, 'image/png');
      expect(blob.bytes.equals(corpus.bomb10k)).toBe(true);
      expect(await blobSize(blob.bytes)).toMatchObject({ width: 10_000, height: 10_000, format: 'png' });
    } else {
      // A refusal is acceptable only as a dimension refusal, with nothing stored.
      await expectRefused('png-100mp', id, before, res, 400, 5443);
    }
  });

  it('PNG whose iCCP chunk inflates to 300 MB: refused as unreadable (5455) or stored, memory bounded', async () => {
    const id = 'hostile/png-iccp';
    const before = await snapshot();
    const res = await upload({ data: corpus.iccpBomb, filename: 'icc.png', type: 'image/png' }, { id });
    if (res.status === 200) {
      const { blob } = await expectStored('png-iccp', id, before, res, 'image/png');
      expect(blob.bytes.equals(corpus.iccpBomb)).toBe(true);
    } else {
      await expectRefused('png-iccp', id, before, res, 415, 5455);
    }
  });

  it('a small animated GIF (4 frames of 64×48) is stored with its frames', async () => {
    const { blob } = await stores(
      'gif-small',
      { data: corpus.gifSmall, filename: 'anim.gif', type: 'image/gif' },
      'image/gif',
    );
    expect(blob.bytes.equals(corpus.gifSmall)).toBe(true);
    expect(await blobSize(blob.bytes)).toMatchObject({ width: 64, height: 48, pages: 4, format: 'gif' });
  });

  it('a JPEG whose EXIF claims 100,000×100,000 but whose frame is 320×240 is stored at its real size', async () => {
    const { blob } = await stores(
      'jpeg-exif-liar',
      { data: corpus.exifLiar, filename: 'liar.jpg', type: 'image/jpeg' },
      'image/jpeg',
    );
    expect(blob.bytes.equals(corpus.exifLiar)).toBe(true);
    expect(await blobSize(blob.bytes)).toMatchObject({ width: 320, height: 240 });
  });
});

describe('SVG: made inert and stored, or refused', () => {
  const NS = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"';
  const canaryUrl = (): string => `http://127.0.0.1:${canaryPort}`;

  /** Stores the SVG and checks the blob and the delivered document contain none of `forbidden`. */
  async function storesClean(
    name: string,
    svg: string,
    forbidden: Array<string | RegExp>,
    kept: string[] = [],
  ): Promise<string> {
    const { blob, image } = await stores(
      name,
      { data: Buffer.from(svg, 'utf8'), filename: `${name}.svg`, type: 'image/svg+xml' },
      'image/svg+xml',
    );
    const text = blob.bytes.toString('utf8');
    // Still an SVG document that parses as XML.
    expect(text).toMatch(/^<svg[\s>]/);
    for (const f of forbidden) {
      if (typeof f === 'string')
        expect(text.toLowerCase(), `${name}: blob must not contain ${f}`).not.toContain(f.toLowerCase());
      else expect(text, `${name}: blob must not match ${f}`).not.toMatch(f);
    }
    for (const k of kept) expect(text, `${name}: blob keeps ${k}`).toContain(k);
    // Delivery serves the same sanitised document.
    const variantUrl = image.variants.find((v) => v.endsWith('/public')) ?? image.variants[0]!;
    const delivered = await toRes(await fetch(variantUrl));
    expect(delivered.status).toBe(200);
    const dtext = delivered.bytes.toString('utf8');
    for (const f of forbidden) {
      if (typeof f === 'string')
        expect(dtext.toLowerCase(), `${name}: delivery must not contain ${f}`).not.toContain(f.toLowerCase());
      else expect(dtext).not.toMatch(f);
    }
    expect(canaryConnections, `${name}: the server connected to an external reference`).toBe(0);
    return text;
  }

  it('<script> elements are removed', async () => {
    await storesClean(
      'svg-script',
      `<svg ${NS} width="10" height="10"><script>alert(document.cookie)</script><script type="application/ecmascript"><![CDATA[fetch("${canaryUrl()}/s")]]></script><rect width="10" height="10" fill="red"/></svg>`,
      ['<script', 'alert(', 'fetch(', String(canaryPort)],
      ['<rect'],
    );
  });

  it('onload and other on* handlers are removed', async () => {
    await storesClean(
      'svg-onload',
      `<svg ${NS} width="10" height="10" onload="alert(1)"><rect width="10" height="10" onclick="alert(2)" ONMOUSEOVER="alert(3)"/><animate attributeName="onclick" to="alert(4)"/><set attributeName="href" to="javascript:alert(5)"/></svg>`,
      [/\son[a-z]+\s*=/i, 'alert(', 'javascript:'],
      ['<rect'],
    );
  });

  it('<image href> to an external URL is removed (and never fetched)', async () => {
    await storesClean(
      'svg-image-href',
      `<svg ${NS} width="10" height="10"><image href="${canaryUrl()}/x.png" width="10" height="10"/><image xlink:href="${canaryUrl()}/y.png" width="10" height="10"/><feImage href="${canaryUrl()}/z.png"/><circle r="4"/></svg>`,
      [String(canaryPort), '127.0.0.1'],
      ['<circle'],
    );
  });

  it('<use href> to another document is removed', async () => {
    const text = await storesClean(
      'svg-use-href',
      `<svg ${NS} width="10" height="10"><defs><rect id="a" width="5" height="5"/></defs><use href="https://example.invalid/x.svg#a"/><use xlink:href="https://example.invalid/y.svg#a"/><use href="#a"/></svg>`,
      ['example.invalid'],
    );
    // The same-document reference survives.
    expect(text).toContain('href="#a"');
  });

  it('CSS url(), @import, javascript: links and foreignObject are neutralised', async () => {
    await storesClean(
      'svg-css-links',
      `<svg ${NS} width="10" height="10"><style>@import url("${canaryUrl()}/a.css"); rect { fill: url(${canaryUrl()}/p.svg#p) }</style>` +
        `<rect width="10" height="10" style="fill:url('${canaryUrl()}/q.svg#q')" filter="url(${canaryUrl()}/f.svg#f)"/>` +
        `<a href="javascript:alert(1)"><text>t</text></a><a xlink:href="${canaryUrl()}/phish"><text>u</text></a>` +
        `<foreignObject width="10" height="10"><iframe xmlns="http://www.w3.org/1999/xhtml" src="${canaryUrl()}/f"></iframe></foreignObject></svg>`,
      [String(canaryPort), '@import', 'javascript:', '<foreignObject', '<iframe', '<a '],
      ['<rect', '<text'],
    );
  });

  it('an external DTD (no entity declared) is dropped, never fetched', async () => {
    await storesClean(
      'svg-external-dtd',
      `<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "${canaryUrl()}/svg11.dtd">\n<svg ${NS} width="10" height="10"><rect width="10" height="10"/></svg>`,
      ['<!DOCTYPE', String(canaryPort)],
      ['<rect'],
    );
  });

  it('XXE (SYSTEM entity on file:///etc/passwd) → 5455, nothing read', async () => {
    const svg = `<?xml version="1.0"?>\n<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n<svg ${NS} width="10" height="10"><text>&xxe;</text></svg>`;
    const ms = await refuses(
      'svg-xxe',
      { data: Buffer.from(svg), filename: 'xxe.svg', type: 'image/svg+xml' },
      415,
      5455,
    );
    expect(ms).toBeLessThan(ENTITY_REFUSAL_MS);
  });

  it('external parameter entity (http to the canary) → 5455, never fetched', async () => {
    const svg = `<?xml version="1.0"?>\n<!DOCTYPE svg [<!ENTITY % remote SYSTEM "${canaryUrl()}/evil.dtd"> %remote;]>\n<svg ${NS} width="10" height="10"/>`;
    await refuses(
      'svg-xxe-param',
      { data: Buffer.from(svg), filename: 'p.svg', type: 'image/svg+xml' },
      415,
      5455,
    );
    expect(canaryConnections).toBe(0);
  });

  it('10,000 nested groups → 5455, quickly (depth limit)', async () => {
    const svg = `<svg ${NS} width="10" height="10">${'<g>'.repeat(10_000)}<rect width="1" height="1"/>${'</g>'.repeat(10_000)}</svg>`;
    const ms = await refuses(
      'svg-deep',
      { data: Buffer.from(svg), filename: 'deep.svg', type: 'image/svg+xml' },
      415,
      5455,
    );
    expect(ms).toBeLessThan(ENTITY_REFUSAL_MS);
  });

  it('gzip-compressed SVG (.svgz) inflating to 64 MiB → 5455, not inflated', async () => {
    await refuses(
      'svgz-bomb',
      { data: corpus.svgz, filename: 'bomb.svgz', type: 'image/svg+xml' },
      415,
      5455,
    );
  });

  it('billion laughs → 5455, quickly', async () => {
    let dtd = '<!ENTITY lol0 "lollollollollollollollollollol">';
    for (let i = 1; i <= 9; i++) dtd += `<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`;
    const svg = `<?xml version="1.0"?>\n<!DOCTYPE svg [${dtd}]>\n<svg ${NS} width="10" height="10"><text>&lol9;</text></svg>`;
    const ms = await refuses(
      'svg-laughs',
      { data: Buffer.from(svg), filename: 'lol.svg', type: 'image/svg+xml' },
      415,
      5455,
    );
    expect(ms).toBeLessThan(ENTITY_REFUSAL_MS);
  });
});

describe('polyglots', () => {
  it('GIF magic followed by an HTML page → 5455', async () => {
    const data = Buffer.from(
      'GIF89a\x01\x00\x01\x00<html><body><script>alert(document.domain)</script></body></html>',
      'latin1',
    );
    await refuses('polyglot-gif-html', { data, filename: 'x.gif', type: 'image/gif' }, 415, 5455);
  });

  it('PNG magic followed by an SVG document → 5455 (the magic decides, and it does not decode)', async () => {
    const data = Buffer.concat([
      PNG_SIGNATURE,
      Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`),
    ]);
    await refuses('polyglot-png-svg', { data, filename: 'x.svg', type: 'image/svg+xml' }, 415, 5455);
  });

  it('a JPEG with a ZIP appended is a valid JPEG: stored as image/jpeg, bytes unchanged, never served as anything else', async () => {
    const data = Buffer.concat([corpus.jpeg, zipWith('payload.html', '<script>alert(1)</script>')]);
    const { blob } = await stores(
      'polyglot-jpeg-zip',
      { data, filename: 'x.zip', type: 'application/zip' },
      'image/jpeg',
    );
    expect(blob.bytes.equals(data)).toBe(true);
    expect(blob.headers.get('cache-control')).toBe('private, no-store');
  });

  it('a PNG with an HTML page after IEND is a valid PNG: stored as image/png', async () => {
    const data = Buffer.concat([
      corpus.png,
      Buffer.from('<!doctype html><html><script>alert(document.domain)</script></html>'),
    ]);
    const { blob } = await stores(
      'polyglot-png-html',
      { data, filename: 'x.html', type: 'text/html' },
      'image/png',
    );
    expect(blob.bytes.equals(data)).toBe(true);
  });
});

describe('not images at all → 5455/415', () => {
  it('an empty file', async () => {
    await refuses('empty', { data: Buffer.alloc(0), filename: 'empty.png', type: 'image/png' }, 415, 5455);
  });

  it('a text file named x.jpg sent as image/jpeg', async () => {
    const data = Buffer.from('This is not a JPEG.\nIt is plain text pretending to be one.\n'.repeat(20));
    await refuses('text-as-jpeg', { data, filename: 'x.jpg', type: 'image/jpeg' }, 415, 5455);
  });

  it('64 KiB of random bytes', async () => {
    await refuses(
      'random',
      { data: pseudoRandom(64 * 1024), filename: 'r.webp', type: 'image/webp' },
      415,
      5455,
    );
  });
});

describe('metadata limit', () => {
  it('1025 bytes of ASCII metadata → 5400/400', async () => {
    const meta = JSON.stringify({ k: 'x'.repeat(1025 - 8) });
    expect(Buffer.byteLength(meta)).toBe(1025);
    await refuses('meta-1025', { data: corpus.png, filename: 'm.png', type: 'image/png' }, 400, 5400, {
      metadata: meta,
    });
  });

  it('1025 bytes of multi-byte metadata (517 characters) → 5400/400', async () => {
    const meta = JSON.stringify({ k: `${'é'.repeat(508)}a` });
    expect(Buffer.byteLength(meta)).toBe(1025);
    expect(meta.length).toBeLessThan(1024);
    await refuses('meta-1025-utf8', { data: corpus.png, filename: 'm.png', type: 'image/png' }, 400, 5400, {
      metadata: meta,
    });
  });

  it('exactly 1024 bytes is stored', async () => {
    const meta = JSON.stringify({ k: 'x'.repeat(1024 - 8) });
    expect(Buffer.byteLength(meta)).toBe(1024);
    const { image } = await stores(
      'meta-1024',
      { data: corpus.png, filename: 'm.png', type: 'image/png' },
      'image/png',
      { metadata: meta },
    );
    expect(image.meta).toEqual(JSON.parse(meta));
  });
});

describe('size cap while streaming → 5413/413', () => {
  it('a file of 10 MiB + 1 byte', async () => {
    const id = 'hostile/over-10mib';
    const before = await snapshot();
    const { res } = await streamUpload(id, corpus.png, MAX_UPLOAD + 1);
    await expectRefused('over-10mib', id, before, res, 413, 5413);
  });

  it('an endless body is answered while it is still being sent', async () => {
    const id = 'hostile/endless';
    const before = await snapshot();
    // The server answers 413 and closes while the client is still writing; now and then (a loaded
    // machine) the client's next write fails with EPIPE before Node has parsed that answer, and the
    // answer is lost with the socket. Nothing is stored either way, so such an attempt is repeated.
    let attempt: Awaited<ReturnType<typeof streamUpload>> | undefined;
    for (let i = 0; i < 3 && !attempt; i++) {
      attempt = await streamUpload(id, corpus.png, Number.POSITIVE_INFINITY).catch(
        (e: NodeJS.ErrnoException) => {
          if (e.code !== 'EPIPE' && e.code !== 'ECONNRESET') throw e;
          return undefined;
        },
      );
    }
    expect(attempt, 'three attempts lost the answer to EPIPE/ECONNRESET').toBeDefined();
    const { res, sentWhenAnswered, finished } = attempt!;
    await expectRefused('endless', id, before, res, 413, 5413);
    expect(
      finished,
      `the server answered only after the whole body (${sentWhenAnswered} file bytes sent, status ${res.status})`,
    ).toBe(false);
    // Cap + what loopback socket buffers can hold.
    expect(sentWhenAnswered).toBeLessThan(MAX_UPLOAD + 64 * MiB);
  });

  it('exactly 10 MiB (a valid PNG padded with a private chunk) is stored', async () => {
    const id = 'hostile/exactly-10mib';
    const before = await snapshot();
    const res = await upload({ data: corpus.exactly10MiB, filename: 'exact.png', type: 'image/png' }, { id });
    const { blob } = await expectStored('exactly-10mib', id, before, res, 'image/png');
    expect(blob.bytes.length).toBe(MAX_UPLOAD);
    expect(blob.bytes.equals(corpus.exactly10MiB)).toBe(true);
  });
});

describe('afterwards', () => {
  it('the server still answers a normal upload, delivery works, and no external connection was made', async () => {
    const { image, blob } = await stores(
      'normal',
      { data: corpus.jpeg, filename: 'normal.jpg', type: 'image/jpeg' },
      'image/jpeg',
    );
    expect(blob.bytes.equals(corpus.jpeg)).toBe(true);
    const variantUrl = image.variants.find((v) => v.endsWith('/public')) ?? image.variants[0]!;
    const delivered = await fetch(variantUrl, { headers: { accept: 'image/webp,*/*' } });
    expect(delivered.status).toBe(200);
    const out = await sharp(Buffer.from(await delivered.arrayBuffer())).metadata();
    expect([out.width, out.height]).toEqual([320, 240]);
    expect(canaryConnections).toBe(0);
  });

  it('no response (errors, blobs, deliveries) ever carried /etc/passwd content', () => {
    for (const text of seen) expect(text).not.toMatch(/root:[^:\s]*:0:0:/);
    for (const text of seen) expect(text).not.toContain('root:');
  });

  it(`RSS stayed bounded (peak < ${RSS_PEAK_BOUND / MiB} MiB, growth < ${RSS_GROWTH_BOUND / MiB} MiB)`, () => {
    sample();
    const after = process.memoryUsage().rss;
    const report = caseGrowth
      .slice()
      .sort((a, b) => b.growth - a.growth)
      .slice(0, 5)
      .map((c) => `${c.name}: +${Math.round(c.growth / MiB)} MiB in ${c.ms} ms`)
      .join('; ');
    const summary = `before ${Math.round(rssBefore / MiB)} MiB, peak ${Math.round(peakRss / MiB)} MiB, after ${Math.round(after / MiB)} MiB; largest cases: ${report}`;
    expect(peakRss, summary).toBeLessThan(RSS_PEAK_BOUND);
    expect(peakRss - rssBefore, summary).toBeLessThan(RSS_GROWTH_BOUND);
    expect(after - rssBefore, summary).toBeLessThan(RSS_GROWTH_BOUND);
    if (process.env.HOSTILE_RSS_REPORT) console.log(summary);
  });
});

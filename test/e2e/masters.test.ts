/**
 * Intermediate masters (src/pipeline/master.ts, docs/delivery.md "Intermediate masters"), end to end:
 * a real server, images uploaded through the REST API, flexible-variant renditions fetched over HTTP.
 *
 * - Every rendition made from a master is compared with the rendition the same pipeline makes from the
 *   full source without one (planTransform + runTransform on the original bytes, in process): the same
 *   format and size, a dHash distance of at most 3 (the fit tests allow 5), and a mean absolute
 *   difference per channel of at most MAX_MEAN_DIFF — over JPEG (one with EXIF orientation 6), PNG
 *   (one with transparency) and WebP sources, several sizes, fits, gravities, a rotation, a flip,
 *   sharpening and the three lossy outputs. `pictor_masters_total{event="used"}` proves each was made
 *   from the master.
 * - A master is made once per image, however many renditions (concurrent or not) need it; transformation
 *   URLs' origin images get one too.
 * - Cases the rules exclude (trim, gamma, metadata=keep, PNG output, a rendition less than 2× smaller
 *   than the master, a small source) never touch a master.
 */
import { createServer, type Server } from 'node:http';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { negotiate } from '../../src/pipeline/negotiate.js';
import { planTransform, readFacts, runTransform, sourceOf } from '../../src/pipeline/index.js';
import { parseFlexible } from '../../src/transform/flexible.js';
import {
  accountHashOf,
  cdnUrl,
  fetchBytes,
  patchConfig,
  sceneRaw,
  show,
  startDeliveryServer,
  upload,
  type DeliveryServer,
  type ImageJson,
} from '../helpers/delivery.js';
import { dHashDistance } from '../helpers/phash.js';

/** Mean |a − b| per channel (0..255) allowed between a rendition from the master and one from the source. */
const MAX_MEAN_DIFF = 3;
const MAX_DHASH = 3;

/**
 * The scene (test/helpers/delivery.ts) with fine texture over it: two crossed waves of 41 and 67 source
 * pixels, so a master that loses detail (or shifts it) changes the rendition's pixels, not only its dHash.
 */
function texturedRaw(width: number, height: number): Buffer {
  const raw = sceneRaw(width, height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const t = 28 * Math.sin((2 * Math.PI * x) / 41) * Math.sin((2 * Math.PI * y) / 67);
      for (let c = 0; c < 3; c++) {
        const i = (y * width + x) * 3 + c;
        raw[i] = Math.max(0, Math.min(255, Math.round(raw[i]! + t)));
      }
    }
  return raw;
}

function textured(width: number, height: number, channels: 3 | 4 = 3): sharp.Sharp {
  const rgb = texturedRaw(width, height);
  if (channels === 3) return sharp(rgb, { raw: { width, height, channels: 3 } });
  // Transparency: a horizontal ramp of alpha, opaque on the left.
  const rgba = Buffer.alloc(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    rgba[p * 4] = rgb[p * 3]!;
    rgba[p * 4 + 1] = rgb[p * 3 + 1]!;
    rgba[p * 4 + 2] = rgb[p * 3 + 2]!;
    rgba[p * 4 + 3] = 255 - Math.round((200 * (p % width)) / width);
  }
  return sharp(rgba, { raw: { width, height, channels: 4 } });
}

async function mastersCount(srv: DeliveryServer, event: 'made' | 'used'): Promise<number> {
  const text = await (await fetch(`${srv.metricsUrl}/metrics`)).text();
  const m = new RegExp(`^pictor_masters_total\\{event="${event}"\\}\\s+([0-9.eE+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** Reads of stored originals (blob store `get`s), from the store series on /metrics. */
async function blobReads(srv: DeliveryServer): Promise<number> {
  const text = await (await fetch(`${srv.metricsUrl}/metrics`)).text();
  const m = /^pictor_store_operation_duration_seconds_count\{store="blobs",op="get"\}\s+([0-9.eE+-]+)$/m.exec(
    text,
  );
  return m ? Number(m[1]) : 0;
}

/** Mean absolute difference per channel of two images' RGB pixels (same size). */
async function meanDiff(a: Buffer, b: Buffer): Promise<number> {
  const rgb = (x: Buffer) =>
    sharp(x).flatten({ background: '#ffffff' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const [pa, pb] = await Promise.all([rgb(a), rgb(b)]);
  expect([pa.info.width, pa.info.height]).toEqual([pb.info.width, pb.info.height]);
  let sum = 0;
  for (let i = 0; i < pa.data.length; i++) sum += Math.abs(pa.data[i]! - pb.data[i]!);
  return sum / pa.data.length;
}

/** The rendition the pipeline makes from the full source for a flexible option list (no master). */
async function fromFullSource(original: Buffer, optionList: string): Promise<Buffer> {
  const parsed = parseFlexible(optionList);
  if (!parsed.ok) throw new Error(parsed.error);
  const { format, facts } = await readFacts(original);
  if (format === 'svg') throw new Error('not a raster source');
  const source = sourceOf(format, facts);
  const out = negotiate(undefined, parsed.value.format, source, parsed.value.anim);
  return runTransform(original, planTransform(source, parsed.value, out), {
    copyright: facts.copyright ?? undefined,
  });
}

interface Source {
  name: string;
  bytes: Buffer;
  image?: ImageJson;
}

let srv: DeliveryServer;
const sources: Source[] = [];
let hash = '';
/** A transformation URLs origin on 127.0.0.1 serving one large PNG. */
let origin: Server;
let originPng: Buffer;

const url = (s: Source, last: string) => cdnUrl(srv, hash, s.image!.id, last);

beforeAll(async () => {
  originPng = await textured(1500, 1100).png().toBuffer();
  origin = createServer((req, res) => {
    if (req.url !== '/big.png') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'image/png', 'cache-control': 'max-age=3600' }).end(originPng);
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  const address = origin.address();
  if (!address || typeof address === 'string') throw new Error('no origin port');
  srv = await startDeliveryServer({
    PICTOR_TRANSFORM_ORIGIN: `http://127.0.0.1:${address.port}`,
    PICTOR_URL_ALLOWLIST: '127.0.0.1/32',
  });
  await patchConfig(srv, { flexible_variants: true });
  const made: Array<Omit<Source, 'image'>> = [
    { name: 'JPEG 3000×2000', bytes: await textured(3000, 2000).jpeg({ quality: 92 }).toBuffer() },
    {
      // Stored 2600×1800 with EXIF orientation 6: upright it is 1800×2600.
      name: 'JPEG 1800×2600 (EXIF orientation 6)',
      bytes: await textured(2600, 1800).jpeg({ quality: 92 }).withMetadata({ orientation: 6 }).toBuffer(),
    },
    { name: 'PNG 1600×1200', bytes: await textured(1600, 1200).png().toBuffer() },
    { name: 'PNG 1400×1400 with alpha', bytes: await textured(1400, 1400, 4).png().toBuffer() },
    { name: 'WebP 1600×1200', bytes: await textured(1600, 1200).webp({ quality: 92 }).toBuffer() },
  ];
  for (const s of made) sources.push({ ...s, image: await upload(srv, s.bytes) });
  hash = accountHashOf(sources[0]!.image!);
}, 120_000);

afterAll(async () => {
  await srv?.close();
  await new Promise((resolve) => origin?.close(resolve));
});

/** Renditions that the rules send to the master (each ≥ 2× smaller than every source's master). */
const MASTERED = [
  'w=400,h=400,f=jpeg',
  'w=600,h=600,fit=contain,f=webp',
  'w=300,h=300,fit=cover,f=avif',
  'w=320,h=200,fit=cover,gravity=0.2x0.7,f=jpeg',
  'w=360,h=240,fit=cover,gravity=auto,f=webp',
  'w=500,h=300,fit=pad,background=red,f=jpeg',
  'w=256,rotate=90,f=jpeg',
  'w=350,h=350,fit=crop,flip=h,sharpen=2,q=90,f=jpeg',
  'w=150,h=100,fit=scale-down,blur=3,saturation=0.5,f=jpeg',
];

describe('renditions from an intermediate master', () => {
  for (const [k, name] of [
    'JPEG 3000×2000',
    'JPEG 1800×2600 (EXIF orientation 6)',
    'PNG 1600×1200',
    'PNG 1400×1400 with alpha',
    'WebP 1600×1200',
  ].entries()) {
    it(`${name}: each rendition is the full-source rendition's size and format, within the perceptual bound`, async () => {
      const s = sources[k]!;
      expect(s.name).toBe(name);
      for (const options of MASTERED) {
        const used = await mastersCount(srv, 'used');
        const res = await fetchBytes(url(s, options));
        expect(res.status, show(res)).toBe(200);
        expect(await mastersCount(srv, 'used'), `${options}: made from the master`).toBe(used + 1);
        const reference = await fromFullSource(s.bytes, options);
        const [got, want] = await Promise.all([sharp(res.body).metadata(), sharp(reference).metadata()]);
        expect([got.format, got.width, got.height], options).toEqual([want.format, want.width, want.height]);
        expect(await dHashDistance(res.body, reference), `${options}: dHash distance`).toBeLessThanOrEqual(
          MAX_DHASH,
        );
        expect(await meanDiff(res.body, reference), `${options}: mean difference`).toBeLessThanOrEqual(
          MAX_MEAN_DIFF,
        );
      }
    }, 120_000);
  }

  it('the comparison is not vacuous: a rendition one output pixel blurrier or shifted fails it', async () => {
    const s = sources[0]!;
    const res = await fetchBytes(url(s, 'w=400,h=400,f=jpeg'));
    const resized = () => sharp(s.bytes).resize(400, 267, { fit: 'fill' });
    const blurred = await sharp(await resized().png().toBuffer())
      .blur(1)
      .jpeg()
      .toBuffer();
    const shifted = await sharp(s.bytes)
      .extract({ left: 8, top: 0, width: 2992, height: 2000 })
      .resize(400, 267, { fit: 'fill' })
      .jpeg()
      .toBuffer();
    expect(await meanDiff(res.body, blurred)).toBeGreaterThan(MAX_MEAN_DIFF);
    expect(await meanDiff(res.body, shifted)).toBeGreaterThan(MAX_MEAN_DIFF);
  }, 60_000);
});

describe('a master is made once per image', () => {
  it('eight concurrent renditions of a fresh image, then four more: one master made, twelve uses, and the four read no original', async () => {
    const bytes = await textured(1700, 1300).png().toBuffer();
    const s: Source = { name: 'fresh PNG', bytes, image: await upload(srv, bytes) };
    const made = await mastersCount(srv, 'made');
    const used = await mastersCount(srv, 'used');
    const boxes = [300, 310, 320, 330, 340, 350, 360, 370];
    const first = await Promise.all(boxes.map((w) => fetchBytes(url(s, `w=${w},f=jpeg`))));
    for (const r of first) expect(r.status, show(r)).toBe(200);
    // Once the master exists, renditions from it do not read the original at all.
    const reads = await blobReads(srv);
    for (const w of [200, 210, 220, 230]) {
      const r = await fetchBytes(url(s, `w=${w},h=${w},fit=cover,f=webp`));
      expect(r.status, show(r)).toBe(200);
    }
    expect(await blobReads(srv)).toBe(reads);
    expect(await mastersCount(srv, 'made')).toBe(made + 1);
    expect(await mastersCount(srv, 'used')).toBe(used + 12);
  }, 120_000);
});

describe('transformation URLs', () => {
  it('an origin image gets one master, and its renditions match the full-source ones', async () => {
    const made = await mastersCount(srv, 'made');
    const used = await mastersCount(srv, 'used');
    for (const options of ['w=300,f=jpeg', 'w=320,h=320,fit=cover,f=webp', 'w=280,f=avif']) {
      const res = await fetchBytes(`${srv.url}/cdn-cgi/image/${options.replaceAll('w=', 'width=')}/big.png`);
      expect(res.status, show(res)).toBe(200);
      const reference = await fromFullSource(originPng, options);
      expect(await dHashDistance(res.body, reference)).toBeLessThanOrEqual(MAX_DHASH);
      expect(await meanDiff(res.body, reference)).toBeLessThanOrEqual(MAX_MEAN_DIFF);
    }
    expect(await mastersCount(srv, 'made')).toBe(made + 1);
    expect(await mastersCount(srv, 'used')).toBe(used + 3);
  }, 60_000);
});

describe('when the full source is used instead', () => {
  const cases: Array<[string, number, string]> = [
    ['trim (a region in source pixels)', 0, 'w=400,trim=10;20;30;40,f=jpeg'],
    ['gamma (applied before resizing)', 2, 'w=400,gamma=1.5,f=jpeg'],
    ['metadata=keep (EXIF and the ICC profile)', 0, 'w=400,metadata=keep,f=jpeg'],
    ['PNG output', 2, 'w=400,f=png'],
    ['a rendition less than 2× smaller than the master', 0, 'w=1100,f=jpeg'],
  ];
  for (const [why, k, options] of cases) {
    it(`${why}: no master is touched, and the rendition is the full-source one`, async () => {
      const s = sources[k]!;
      const [made, used] = [await mastersCount(srv, 'made'), await mastersCount(srv, 'used')];
      const res = await fetchBytes(url(s, options));
      expect(res.status, show(res)).toBe(200);
      expect([await mastersCount(srv, 'made'), await mastersCount(srv, 'used')]).toEqual([made, used]);
      const reference = await fromFullSource(s.bytes, options);
      expect(await dHashDistance(res.body, reference)).toBe(0);
    }, 60_000);
  }

  it('small sources (a JPEG of 2048 px or less, a PNG of 1024 px or less) get no master', async () => {
    const jpeg = await textured(2048, 1500).jpeg().toBuffer();
    const png = await textured(1024, 800).png().toBuffer();
    const [made, used] = [await mastersCount(srv, 'made'), await mastersCount(srv, 'used')];
    for (const bytes of [jpeg, png]) {
      const image = await upload(srv, bytes);
      const res = await fetchBytes(cdnUrl(srv, hash, image.id, 'w=200,f=jpeg'));
      expect(res.status, show(res)).toBe(200);
    }
    expect([await mastersCount(srv, 'made'), await mastersCount(srv, 'used')]).toEqual([made, used]);
  }, 60_000);
});

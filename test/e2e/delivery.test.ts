/**
 * Image delivery end to end (digest §5): a real server over HTTP, images uploaded through the REST
 * API, renditions fetched from `/cdn-cgi/imagedelivery/<hash>/<id>/<variant>` and inspected by
 * decoding them with sharp (never by bytes).
 *
 * - fit table: every fit × box × source, exact output size from an independent function of the
 *   digest §5.4 semantics and a hard-coded table; each rendition perceptually similar (dHash,
 *   test/helpers/phash.ts) to `sharp(original).resize(<same params>)`. docs/delivery-table.md is the
 *   same table and a test fails when the two drift (`UPDATE_DELIVERY_TABLE=1` rewrites it).
 * - format negotiation by Accept, Vary; caching headers, ETag/304, HEAD; delivery errors (§5.7);
 *   flexible variants (§5.3); the bare imagedelivery.net form on the delivery port; custom ids with
 *   `/`; EXIF orientation; animated GIF → animated WebP; SVG sanitised.
 *
 * Signed URLs and purge: delivery-signed.test.ts. Single-flight and the gate: delivery-load.test.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp, { type ResizeOptions } from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  accountHashOf,
  cdnUrl,
  createVariant,
  fetchBytes,
  makeScene,
  patchConfig,
  show,
  startDeliveryServer,
  upload,
  type DeliveryServer,
  type Fetched,
  type ImageJson,
} from '../helpers/delivery.js';
import { dHashDistance, SIMILARITY_THRESHOLD } from '../helpers/phash.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TABLE_FILE = join(ROOT, 'docs', 'delivery-table.md');

const ACCEPT_AVIF = 'image/avif,image/webp,*/*';
const ACCEPT_WEBP = 'image/webp,*/*';
const ACCEPT_ANY = '*/*';

// ---------------------------------------------------------------------------------------------------
// The fit table
// ---------------------------------------------------------------------------------------------------

type Fit = 'scale-down' | 'contain' | 'cover' | 'crop' | 'pad';
const FITS: readonly Fit[] = ['scale-down', 'contain', 'cover', 'crop', 'pad'];

interface Box {
  width?: number;
  height?: number;
}

/** Boxes: shrinking (600², 500²), enlarging (1600²) and one-dimension variants. */
const BOXES: readonly Box[] = [
  { width: 600, height: 600 },
  { width: 1600, height: 1600 },
  { width: 500, height: 500 },
  { width: 300 },
  { height: 300 },
];

interface Source {
  name: string;
  width: number;
  height: number;
}

const SOURCES: readonly Source[] = [
  { name: 'landscape', width: 1200, height: 800 },
  { name: 'portrait', width: 800, height: 1200 },
  { name: 'small', width: 200, height: 100 },
  { name: 'digest', width: 1080, height: 720 },
];

/**
 * Output size per digest §5.4, written independently of the server's resize step:
 * scale-down fits inside and never enlarges; contain fits inside and may enlarge (one side given:
 * matched exactly); cover is exactly w×h; crop is cover when the source is larger than the box and
 * scale-down when it is smaller; pad is exactly w×h. With one side only, cover and pad behave as
 * contain (there is no second side to fill or pad) and crop as scale-down. Sides round to nearest.
 */
function expectedSize(W: number, H: number, fit: Fit, box: Box): [number, number] {
  const { width: w, height: h } = box;
  const round = (n: number) => Math.max(1, Math.round(n));
  const scaleBy = (s: number): [number, number] => [round(W * s), round(H * s)];
  if (w === undefined && h === undefined) return [W, H];
  if (w === undefined || h === undefined) {
    const s = w !== undefined ? w / W : h! / H;
    return fit === 'scale-down' || fit === 'crop' ? scaleBy(Math.min(1, s)) : scaleBy(s);
  }
  const inside = Math.min(w / W, h / H);
  switch (fit) {
    case 'scale-down':
      return scaleBy(Math.min(1, inside));
    case 'contain':
      return scaleBy(inside);
    case 'cover':
    case 'pad':
      return [w, h];
    case 'crop':
      if (W >= w && H >= h) return [w, h];
      if (W <= w && H <= h) return [W, H];
      throw new Error(`crop of ${W}×${H} into ${w}×${h}: mixed case not covered by the table`);
  }
}

/** Hard-coded expectations (digest examples and hand-computed cases), cross-checked against `expectedSize`. */
const HARD_CODED: ReadonlyArray<{ source: string; fit: Fit; box: Box; out: [number, number]; note: string }> =
  [
    {
      source: 'digest',
      fit: 'scale-down',
      box: { width: 500, height: 500 },
      out: [500, 333],
      note: 'digest §5.4 example',
    },
    {
      source: 'digest',
      fit: 'cover',
      box: { width: 500, height: 500 },
      out: [500, 500],
      note: 'digest §5.4 example',
    },
    { source: 'digest', fit: 'contain', box: { width: 500, height: 500 }, out: [500, 333], note: '' },
    {
      source: 'landscape',
      fit: 'contain',
      box: { width: 1600, height: 1600 },
      out: [1600, 1067],
      note: 'enlarges',
    },
    {
      source: 'landscape',
      fit: 'scale-down',
      box: { width: 1600, height: 1600 },
      out: [1200, 800],
      note: 'never enlarges',
    },
    {
      source: 'landscape',
      fit: 'crop',
      box: { width: 600, height: 600 },
      out: [600, 600],
      note: 'larger: as cover',
    },
    { source: 'landscape', fit: 'pad', box: { width: 300 }, out: [300, 200], note: '' },
    { source: 'portrait', fit: 'scale-down', box: { width: 600, height: 600 }, out: [400, 600], note: '' },
    { source: 'portrait', fit: 'contain', box: { width: 1600, height: 1600 }, out: [1067, 1600], note: '' },
    { source: 'portrait', fit: 'cover', box: { height: 300 }, out: [200, 300], note: '' },
    { source: 'small', fit: 'scale-down', box: { width: 1600, height: 1600 }, out: [200, 100], note: '' },
    { source: 'small', fit: 'contain', box: { width: 1600, height: 1600 }, out: [1600, 800], note: '' },
    { source: 'small', fit: 'cover', box: { width: 600, height: 600 }, out: [600, 600], note: 'enlarges' },
    {
      source: 'small',
      fit: 'crop',
      box: { width: 600, height: 600 },
      out: [200, 100],
      note: 'smaller: as scale-down',
    },
    { source: 'small', fit: 'pad', box: { width: 1600, height: 1600 }, out: [1600, 1600], note: '' },
    {
      source: 'small',
      fit: 'contain',
      box: { width: 300 },
      out: [300, 150],
      note: 'one side: matched exactly',
    },
    { source: 'small', fit: 'scale-down', box: { height: 300 }, out: [200, 100], note: '' },
  ];

const boxLabel = (b: Box) =>
  b.width !== undefined && b.height !== undefined
    ? `${b.width}×${b.height}`
    : b.width !== undefined
      ? `w=${b.width}`
      : `h=${b.height}`;
const boxSlug = (b: Box) =>
  b.width !== undefined && b.height !== undefined
    ? `${b.width}x${b.height}`
    : b.width !== undefined
      ? `w${b.width}`
      : `h${b.height}`;
/** Variant names: letters and digits only (`scaledown600x600`, `coverw300`). */
const variantName = (fit: Fit, b: Box) => `${fit.replace('-', '')}${boxSlug(b)}`;
const sameBox = (a: Box, b: Box) => a.width === b.width && a.height === b.height;

interface FitCase {
  label: string;
  source: Source;
  fit: Fit;
  box: Box;
  out: [number, number];
  hard?: [number, number];
}

const FIT_CASES: FitCase[] = SOURCES.flatMap((source) =>
  FITS.flatMap((fit) =>
    BOXES.map((box) => {
      const hard = HARD_CODED.find((h) => h.source === source.name && h.fit === fit && sameBox(h.box, box));
      const out = expectedSize(source.width, source.height, fit, box);
      return {
        label: `${source.name} ${source.width}×${source.height} ${fit} ${boxLabel(box)} → ${out[0]}×${out[1]}`,
        source,
        fit,
        box,
        out,
        ...(hard ? { hard: hard.out } : {}),
      };
    }),
  ),
);

/** sharp's equivalent of a Cloudflare fit, for the perceptual reference. */
function sharpResize(fit: Fit, box: Box): ResizeOptions {
  const base: ResizeOptions = {
    ...(box.width !== undefined ? { width: box.width } : {}),
    ...(box.height !== undefined ? { height: box.height } : {}),
  };
  switch (fit) {
    case 'scale-down':
      return { ...base, fit: 'inside', withoutEnlargement: true };
    case 'contain':
      return { ...base, fit: 'inside' };
    case 'cover':
      return { ...base, fit: 'cover', position: 'centre' };
    case 'crop':
      return { ...base, fit: 'cover', position: 'centre', withoutEnlargement: true };
    case 'pad':
      return { ...base, fit: 'contain', background: { r: 255, g: 255, b: 255, alpha: 1 } };
  }
}

/** The Markdown table of every fit case the suite asserts (docs/delivery-table.md). */
function renderTable(): string {
  const lines = [
    '# Delivery fit table',
    '',
    'Every row is asserted by `test/e2e/delivery.test.ts` against a running server: the variant',
    '`{fit, width, height}` is created through the API, the source (a JPEG of the given size) is',
    'delivered with `Accept: */*`, and the decoded output must have exactly this size and be',
    'perceptually similar (dHash distance ≤ 5) to `sharp(source).resize(<same params>)`.',
    '',
    'Semantics (digest §5.4): `scale-down` fits inside and never enlarges; `contain` fits inside and may',
    'enlarge (one side given: matched exactly); `cover` and `pad` are exactly w×h; `crop` is `cover` when',
    'the source is larger than the box and `scale-down` when it is smaller. With one side only, `cover`',
    'and `pad` behave as `contain` and `crop` as `scale-down`. Sides round to the nearest pixel.',
    '"hard-coded" marks rows also checked against a literal expected size in the test.',
    '',
    'Regenerate with `UPDATE_DELIVERY_TABLE=1 npx vitest run test/e2e/delivery.test.ts`.',
    '',
    '| source | fit | box | output | hard-coded |',
    '|---|---|---|---|---|',
  ];
  for (const c of FIT_CASES) {
    const note = HARD_CODED.find(
      (h) => h.source === c.source.name && h.fit === c.fit && sameBox(h.box, c.box),
    )?.note;
    lines.push(
      `| ${c.source.name} ${c.source.width}×${c.source.height} | ${c.fit} | ${boxLabel(c.box)} | ${c.out[0]}×${c.out[1]} | ${c.hard ? `yes${note ? ` (${note})` : ''}` : ''} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------

async function dims(buf: Buffer): Promise<{
  format: string | undefined;
  compression: string | undefined;
  width: number;
  height: number;
  pages: number;
}> {
  const m = await sharp(buf, { animated: true }).metadata();
  const pages = m.pages ?? 1;
  return {
    format: m.format,
    compression: m.compression,
    width: m.width ?? 0,
    height: pages > 1 ? (m.pageHeight ?? m.height ?? 0) : (m.height ?? 0),
    pages,
  };
}

/** The decoded format of a rendition: 'avif' for HEIF with AV1 compression, else sharp's name. */
async function decodedFormat(buf: Buffer): Promise<string | undefined> {
  const m = await sharp(buf).metadata();
  if (m.format === 'heif') return m.compression === 'av1' ? 'avif' : `heif/${m.compression}`;
  return m.format;
}

function expectImage(res: Fetched): void {
  expect(res.status, show(res)).toBe(200);
  expect(res.headers.get('content-type') ?? '', show(res)).toMatch(/^image\//);
}

// ---------------------------------------------------------------------------------------------------
// Main server: fit table, formats, custom ids, EXIF, animation, SVG, bare form
// ---------------------------------------------------------------------------------------------------

describe('delivery', () => {
  let srv: DeliveryServer;
  let hash: string;
  const originals = new Map<string, Buffer>();
  const images = new Map<string, ImageJson>();

  beforeAll(async () => {
    srv = await startDeliveryServer({ PICTOR_DELIVERY_PORT: '0' });
    for (const s of SOURCES) {
      const buf = await makeScene('jpeg', s.width, s.height);
      originals.set(s.name, buf);
      images.set(s.name, await upload(srv, buf, { filename: `${s.name}.jpg`, contentType: 'image/jpeg' }));
    }
    hash = accountHashOf(images.get('landscape')!);
    for (const fit of FITS)
      for (const box of BOXES)
        await createVariant(srv, variantName(fit, box), { fit, ...box, metadata: 'none' });
  });

  afterAll(async () => {
    await srv?.close();
  });

  describe('fit table (digest §5.4)', () => {
    it('the hard-coded table agrees with the independent size function', () => {
      for (const h of HARD_CODED) {
        const s = SOURCES.find((x) => x.name === h.source)!;
        expect(
          expectedSize(s.width, s.height, h.fit, h.box),
          `${h.source} ${h.fit} ${boxLabel(h.box)}`,
        ).toEqual(h.out);
      }
      // Every hard-coded row is one of the asserted cases.
      expect(FIT_CASES.filter((c) => c.hard).length).toBe(HARD_CODED.length);
    });

    it('docs/delivery-table.md is the table this suite asserts', () => {
      const table = renderTable();
      if (process.env.UPDATE_DELIVERY_TABLE === '1') writeFileSync(TABLE_FILE, table);
      expect(readFileSync(TABLE_FILE, 'utf8')).toBe(table);
    });

    it.each(FIT_CASES)('$label', async (c) => {
      const original = originals.get(c.source.name)!;
      const id = images.get(c.source.name)!.id;
      const res = await fetchBytes(cdnUrl(srv, hash, id, variantName(c.fit, c.box)), { accept: ACCEPT_ANY });
      expectImage(res);
      const got = await dims(res.body);
      expect(got.format).toBe('jpeg');
      expect([got.width, got.height], `${c.label}: server answered ${got.width}×${got.height}`).toEqual(
        c.out,
      );
      if (c.hard) expect([got.width, got.height]).toEqual(c.hard);
      const reference = await sharp(original).resize(sharpResize(c.fit, c.box)).png().toBuffer();
      const distance = await dHashDistance(res.body, reference);
      expect(
        distance,
        `dHash distance to sharp's ${JSON.stringify(sharpResize(c.fit, c.box))}`,
      ).toBeLessThanOrEqual(SIMILARITY_THRESHOLD);
    });

    it('dHash tells the renditions apart from a mirrored reference (the similarity check is not vacuous)', async () => {
      const original = originals.get('landscape')!;
      const res = await fetchBytes(cdnUrl(srv, hash, images.get('landscape')!.id, 'cover600x600'), {
        accept: ACCEPT_ANY,
      });
      expectImage(res);
      const mirrored = await sharp(original)
        .resize(sharpResize('cover', { width: 600, height: 600 }))
        .flop()
        .png()
        .toBuffer();
      expect(await dHashDistance(res.body, mirrored)).toBeGreaterThan(SIMILARITY_THRESHOLD * 2);
      const contained = await sharp(original)
        .resize(sharpResize('pad', { width: 600, height: 600 }))
        .png()
        .toBuffer();
      expect(await dHashDistance(res.body, contained)).toBeGreaterThan(SIMILARITY_THRESHOLD);
    });
  });

  describe('format negotiation (digest §5.5)', () => {
    const sources = [
      { format: 'jpeg', make: () => makeScene('jpeg', 400, 300) },
      { format: 'png', make: () => makeScene('png', 400, 300) },
      { format: 'gif', make: () => makeScene('gif', 400, 300) },
    ] as const;
    const ids = new Map<string, { id: string; original: Buffer }>();

    beforeAll(async () => {
      for (const s of sources) {
        const original = await s.make();
        const img = await upload(srv, original, {
          filename: `neg.${s.format}`,
          contentType: `image/${s.format}`,
        });
        ids.set(s.format, { id: img.id, original });
      }
    });

    const cases = sources.flatMap((s) => [
      { source: s.format, accept: ACCEPT_AVIF, want: 'avif', mime: 'image/avif' },
      { source: s.format, accept: ACCEPT_WEBP, want: 'webp', mime: 'image/webp' },
      { source: s.format, accept: ACCEPT_ANY, want: s.format, mime: `image/${s.format}` },
    ]);

    it.each(cases)('$source source, Accept: $accept → $want', async (c) => {
      const { id, original } = ids.get(c.source)!;
      const res = await fetchBytes(cdnUrl(srv, hash, id, 'public'), { accept: c.accept });
      expectImage(res);
      expect(await decodedFormat(res.body)).toBe(c.want);
      expect(res.headers.get('content-type')).toBe(c.mime);
      expect(res.headers.get('vary') ?? '', 'Vary must name Accept').toMatch(/(^|,\s*)accept(\s*,|$)/i);
      const got = await dims(res.body);
      expect([got.width, got.height]).toEqual([400, 300]);
      const reference = await sharp(original)
        .resize({ width: 1366, height: 768, fit: 'inside', withoutEnlargement: true })
        .png()
        .toBuffer();
      expect(await dHashDistance(res.body, reference)).toBeLessThanOrEqual(SIMILARITY_THRESHOLD);
    });

    it('without an Accept header the source format is served', async () => {
      const { id } = ids.get('png')!;
      const res = await fetchBytes(cdnUrl(srv, hash, id, 'public'), { accept: '' });
      expectImage(res);
      expect(await decodedFormat(res.body)).toBe('png');
    });
  });

  describe('URL forms and ids', () => {
    it('the bare imagedelivery.net form on the delivery port serves the same rendition', async () => {
      expect(srv.deliveryUrl, 'PICTOR_DELIVERY_PORT=0 must give a delivery URL').toBeTruthy();
      const id = images.get('landscape')!.id;
      const cdn = await fetchBytes(cdnUrl(srv, hash, id, 'public'), { accept: ACCEPT_ANY });
      const bare = await fetchBytes(`${srv.deliveryUrl}/${hash}/${id}/public`, { accept: ACCEPT_ANY });
      expectImage(cdn);
      expectImage(bare);
      const [a, b] = [await dims(cdn.body), await dims(bare.body)];
      expect([b.width, b.height]).toEqual([a.width, a.height]);
      expect([b.width, b.height]).toEqual(
        expectedSize(1200, 800, 'scale-down', { width: 1366, height: 768 }),
      );
      expect(b.format).toBe(a.format);
    });

    it('an Image object lists its delivery URLs and they serve', async () => {
      const img = images.get('portrait')!;
      const url = img.variants.find((u) => u.endsWith('/public'));
      expect(url).toBe(cdnUrl(srv, hash, img.id, 'public'));
      const res = await fetchBytes(url!, { accept: ACCEPT_ANY });
      expectImage(res);
      const d = await dims(res.body);
      expect([d.width, d.height]).toEqual(
        expectedSize(800, 1200, 'scale-down', { width: 1366, height: 768 }),
      );
    });

    it('a custom id with slashes delivers at <hash>/shop/shoes/red.png/public', async () => {
      const original = await makeScene('png', 240, 160);
      const img = await upload(srv, original, {
        filename: 'red.png',
        contentType: 'image/png',
        id: 'shop/shoes/red.png',
      });
      expect(img.id).toBe('shop/shoes/red.png');
      const url = `${srv.url}/cdn-cgi/imagedelivery/${hash}/shop/shoes/red.png/public`;
      expect(img.variants).toContain(url);
      const res = await fetchBytes(url, { accept: ACCEPT_ANY });
      expectImage(res);
      const d = await dims(res.body);
      expect(d.format).toBe('png');
      expect([d.width, d.height]).toEqual([240, 160]);
      expect(await dHashDistance(res.body, original)).toBeLessThanOrEqual(SIMILARITY_THRESHOLD);
      const bare = await fetchBytes(`${srv.deliveryUrl}/${hash}/shop/shoes/red.png/public`, {
        accept: ACCEPT_ANY,
      });
      expectImage(bare);
    });
  });

  describe('source handling', () => {
    it('EXIF orientation 6 is applied: a 300×200 JPEG delivers 200×300', async () => {
      const original = await sharp(await makeScene('jpeg', 300, 200))
        .withMetadata({ orientation: 6 })
        .jpeg()
        .toBuffer();
      const m = await sharp(original).metadata();
      expect([m.width, m.height, m.orientation]).toEqual([300, 200, 6]);
      const img = await upload(srv, original, { filename: 'rotated.jpg', contentType: 'image/jpeg' });
      for (const accept of [ACCEPT_ANY, ACCEPT_WEBP]) {
        const res = await fetchBytes(cdnUrl(srv, hash, img.id, 'public'), { accept });
        expectImage(res);
        const out = await sharp(res.body).metadata();
        // Displayed shape: the pixels themselves are 200×300 and no orientation tag is left to re-rotate them.
        expect([out.width, out.height], `Accept ${accept}`).toEqual([200, 300]);
        expect(out.orientation ?? 1, `Accept ${accept}`).toBe(1);
        const reference = await sharp(original).autoOrient().png().toBuffer();
        expect(await dHashDistance(res.body, reference)).toBeLessThanOrEqual(SIMILARITY_THRESHOLD);
      }
      // Through a box, planned on the oriented size: contain h=300 of 200×300 is 200×300 (not 300×450).
      const res = await fetchBytes(cdnUrl(srv, hash, img.id, 'containh300'), { accept: ACCEPT_ANY });
      const d = await dims(res.body);
      expect([d.width, d.height]).toEqual([200, 300]);
    });

    it('an animated GIF delivered with Accept webp stays animated', async () => {
      const frames = 4;
      const [w, h] = [120, 80];
      const raw = Buffer.alloc(w * h * frames * 3);
      for (let f = 0; f < frames; f++) {
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            const i = ((f * h + y) * w + x) * 3;
            const inBox = x >= f * 25 && x < f * 25 + 30 && y > 20 && y < 60;
            raw[i] = inBox ? 255 : 30;
            raw[i + 1] = inBox ? 40 : 60 + f * 40;
            raw[i + 2] = inBox ? 40 : 200;
          }
        }
      }
      const gif = await sharp(raw, { raw: { width: w, height: h * frames, channels: 3, pageHeight: h } })
        .gif({ delay: [100, 100, 100, 100], loop: 0 })
        .toBuffer();
      const src = await sharp(gif, { animated: true }).metadata();
      expect(src.pages).toBe(frames);
      const img = await upload(srv, gif, { filename: 'anim.gif', contentType: 'image/gif' });

      const webp = await fetchBytes(cdnUrl(srv, hash, img.id, 'public'), { accept: ACCEPT_WEBP });
      expectImage(webp);
      expect(await decodedFormat(webp.body)).toBe('webp');
      const wm = await sharp(webp.body, { animated: true }).metadata();
      expect(wm.pages ?? 1, 'animated WebP keeps the frames').toBeGreaterThan(1);
      expect(wm.pages).toBe(frames);
      expect([wm.width, wm.pageHeight]).toEqual([w, h]);

      // AVIF cannot carry the animation here: a browser taking AVIF still gets an animation.
      const avifAccept = await fetchBytes(cdnUrl(srv, hash, img.id, 'public'), { accept: ACCEPT_AVIF });
      expectImage(avifAccept);
      expect((await sharp(avifAccept.body, { animated: true }).metadata()).pages ?? 1).toBeGreaterThan(1);

      const asGif = await fetchBytes(cdnUrl(srv, hash, img.id, 'public'), { accept: ACCEPT_ANY });
      expectImage(asGif);
      expect(await decodedFormat(asGif.body)).toBe('gif');
      expect((await sharp(asGif.body, { animated: true }).metadata()).pages ?? 1).toBe(frames);
    });

    it('an SVG upload delivers image/svg+xml with the script removed', async () => {
      const svg = Buffer.from(
        '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="50">' +
          '<script>alert("x")</script>' +
          '<rect width="100" height="50" fill="red"/>' +
          '<SCRIPT type="text/javascript"><![CDATA[ document.title = 1 ]]></SCRIPT>' +
          '</svg>',
      );
      const img = await upload(srv, svg, { filename: 'evil.svg', contentType: 'image/svg+xml' });
      for (const accept of [ACCEPT_AVIF, ACCEPT_ANY]) {
        const res = await fetchBytes(cdnUrl(srv, hash, img.id, 'public'), { accept });
        expect(res.status, show(res)).toBe(200);
        expect(res.headers.get('content-type') ?? '').toMatch(/^image\/svg\+xml/);
        const text = res.body.toString('utf8');
        expect(text).not.toMatch(/<\s*script/i);
        expect(text).not.toContain('alert(');
        expect(text).toMatch(/<rect\b/);
        const m = await sharp(res.body).metadata();
        expect([m.format, m.width, m.height]).toEqual(['svg', 100, 50]);
      }
    });
  });
});

// ---------------------------------------------------------------------------------------------------
// Caching headers (own server: the browser TTL changes account-wide)
// ---------------------------------------------------------------------------------------------------

describe('caching headers (digest §5.6)', () => {
  let srv: DeliveryServer;
  let url: string;

  beforeAll(async () => {
    srv = await startDeliveryServer();
    const img = await upload(srv, await makeScene('jpeg', 640, 480), {
      filename: 'c.jpg',
      contentType: 'image/jpeg',
    });
    url = cdnUrl(srv, accountHashOf(img), img.id, 'public');
  });

  afterAll(async () => {
    await srv?.close();
  });

  it('public images: Cache-Control public, max-age=172800, stale-while-revalidate=7200', async () => {
    const res = await fetchBytes(url, { accept: ACCEPT_WEBP });
    expectImage(res);
    expect(res.headers.get('cache-control')).toBe('public, max-age=172800, stale-while-revalidate=7200');
  });

  it('the second GET is a cache HIT with the same bytes', async () => {
    const a = await fetchBytes(url, { accept: ACCEPT_AVIF });
    const b = await fetchBytes(url, { accept: ACCEPT_AVIF });
    expectImage(a);
    expectImage(b);
    expect(b.headers.get('cf-cache-status')).toBe('HIT');
    expect(b.body.equals(a.body)).toBe(true);
  });

  it('ETag is present and If-None-Match answers 304 with no body', async () => {
    const res = await fetchBytes(url, { accept: ACCEPT_WEBP });
    const etag = res.headers.get('etag');
    expect(etag, 'ETag header').toBeTruthy();
    const again = await fetchBytes(url, { accept: ACCEPT_WEBP, 'if-none-match': etag! });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    expect(again.headers.get('etag')).toBe(etag);
    // Another Accept class is another representation: its ETag differs, the old one does not match.
    const avif = await fetchBytes(url, { accept: ACCEPT_AVIF, 'if-none-match': etag! });
    expect(avif.status).toBe(200);
    expect(avif.headers.get('etag')).not.toBe(etag);
  });

  it('HEAD returns the headers and no body', async () => {
    const get = await fetchBytes(url, { accept: ACCEPT_WEBP });
    const head = await fetchBytes(url, { accept: ACCEPT_WEBP }, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(head.headers.get('content-type')).toBe('image/webp');
    expect(head.headers.get('etag')).toBe(get.headers.get('etag'));
    expect(head.headers.get('cache-control')).toBe(get.headers.get('cache-control'));
  });

  it('PATCH /images/v1/config {browser_ttl: 3600} → max-age=3600', async () => {
    await patchConfig(srv, { browser_ttl: 3600 });
    const res = await fetchBytes(url, { accept: ACCEPT_WEBP });
    expectImage(res);
    expect(res.headers.get('cache-control')).toBe('public, max-age=3600, stale-while-revalidate=7200');
  });
});

// ---------------------------------------------------------------------------------------------------
// Errors and flexible variants (own server: flexible variants are toggled)
// ---------------------------------------------------------------------------------------------------

describe('delivery errors (digest §5.7) and flexible variants (§5.3)', () => {
  let srv: DeliveryServer;
  let hash: string;
  let id: string;

  beforeAll(async () => {
    srv = await startDeliveryServer();
    const img = await upload(srv, await makeScene('jpeg', 1200, 800), {
      filename: 'e.jpg',
      contentType: 'image/jpeg',
    });
    hash = accountHashOf(img);
    id = img.id;
  });

  afterAll(async () => {
    await srv?.close();
  });

  function expectDeliveryError(res: Fetched, status: number, code?: number): void {
    expect(res.status, show(res)).toBe(status);
    expect(res.headers.get('content-type') ?? '', show(res)).toMatch(/^text\/plain/);
    expect(res.body.length, 'error body').toBeGreaterThan(0);
    if (code !== undefined) expect(res.headers.get('cf-resized'), show(res)).toBe(`err=${code}`);
    else expect(res.headers.get('cf-resized') ?? '', show(res)).toMatch(/^err=\d+$/);
  }

  it('unknown image → 404, Cf-Resized: err=9431, text body', async () => {
    expectDeliveryError(await fetchBytes(cdnUrl(srv, hash, 'no-such-image', 'public')), 404, 9431);
  });

  it('unknown variant → 404', async () => {
    expectDeliveryError(await fetchBytes(cdnUrl(srv, hash, id, 'nosuchvariant')), 404);
  });

  it('unknown account hash (22 characters) → 403, err=9427', async () => {
    const other = hash === 'AAAAAAAAAAAAAAAAAAAAAA' ? 'BBBBBBBBBBBBBBBBBBBBBB' : 'AAAAAAAAAAAAAAAAAAAAAA';
    expectDeliveryError(await fetchBytes(cdnUrl(srv, other, id, 'public')), 403, 9427);
  });

  it('malformed URL → 400, err=9432', async () => {
    expectDeliveryError(await fetchBytes(`${srv.url}/cdn-cgi/imagedelivery/short/x`), 400, 9432);
  });

  it('flexible variants off → 403, err=9429', async () => {
    expectDeliveryError(await fetchBytes(cdnUrl(srv, hash, id, 'w=400')), 403, 9429);
  });

  describe('with flexible variants on', () => {
    beforeAll(async () => {
      await patchConfig(srv, { flexible_variants: true });
    });

    it('a bad option (w=0) → 400 naming width', async () => {
      const res = await fetchBytes(cdnUrl(srv, hash, id, 'w=0'));
      expectDeliveryError(res, 400);
      expect(res.body.toString('utf8')).toMatch(/width/);
    });

    it('w=400,h=300,fit=cover → exactly 400×300', async () => {
      const original = await fetchBytes(`${srv.images}/v1/${id}/blob`, {
        authorization: `Bearer ${srv.token}`,
      });
      const res = await fetchBytes(cdnUrl(srv, hash, id, 'w=400,h=300,fit=cover'), { accept: ACCEPT_AVIF });
      expectImage(res);
      const d = await dims(res.body);
      expect([d.width, d.height]).toEqual([400, 300]);
      const reference = await sharp(original.body)
        .resize({ width: 400, height: 300, fit: 'cover' })
        .png()
        .toBuffer();
      expect(await dHashDistance(res.body, reference)).toBeLessThanOrEqual(SIMILARITY_THRESHOLD);
    });

    it.each([ACCEPT_ANY, ACCEPT_AVIF])('w=200,f=webp → webp whatever the Accept (%s)', async (accept) => {
      const res = await fetchBytes(cdnUrl(srv, hash, id, 'w=200,f=webp'), { accept });
      expectImage(res);
      expect(await decodedFormat(res.body)).toBe('webp');
      expect(res.headers.get('content-type')).toBe('image/webp');
      const d = await dims(res.body);
      expect([d.width, d.height]).toEqual([200, 133]);
    });

    it('dpr=2,w=100 → 200 wide', async () => {
      const res = await fetchBytes(cdnUrl(srv, hash, id, 'dpr=2,w=100'), { accept: ACCEPT_ANY });
      expectImage(res);
      const d = await dims(res.body);
      expect([d.width, d.height]).toEqual([200, 133]);
    });

    it('named variants still serve', async () => {
      const res = await fetchBytes(cdnUrl(srv, hash, id, 'public'), { accept: ACCEPT_ANY });
      expectImage(res);
    });
  });
});

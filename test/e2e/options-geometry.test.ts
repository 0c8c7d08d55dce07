/**
 * Geometry options end to end (digest §5.3, §5.4): rotate, flip, trim, gravity, fit, dpr,
 * width=auto and the pad background, through the real server on generated PNGs built so that a
 * missing or wrong effect shows in the pixels:
 *
 * - a coordinate image whose every pixel spells its own position (R = 2x, G = 3y), so a rotated,
 *   mirrored or trimmed rendition (lossless PNG) is compared pixel by pixel with the source pixel it
 *   must come from;
 * - four-colour band images, so a cover crop's gravity is read from which band survives;
 * - an image with a marked centre on a coordinate background, for every fit mode, flexible and stored.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cdnUrl,
  createVariant,
  fetchBytes,
  patchConfig,
  show,
  startDeliveryServer,
  uploadAll,
  type DeliveryServer,
  type Fetched,
} from '../helpers/delivery.js';
import { at, decode, distance, mean, type Pixels, type Rgb } from '../helpers/pixels.js';

let srv: DeliveryServer;
let hash: string;
const ids: Record<string, string> = {};

/** Coordinate image: R = 2x, G = 3y, B = 50 (100×80, every value distinct per axis). */
const CW = 100;
const CH = 80;
function coordRaw(): Buffer {
  const raw = Buffer.alloc(CW * CH * 3);
  for (let y = 0; y < CH; y++) {
    for (let x = 0; x < CW; x++) {
      const i = (y * CW + x) * 3;
      raw[i] = 2 * x;
      raw[i + 1] = 3 * y;
      raw[i + 2] = 50;
    }
  }
  return raw;
}

/** Bands of red, green, blue and yellow, left to right (wide) or top to bottom (tall). */
const BANDS: Rgb[] = [
  [255, 0, 0],
  [0, 255, 0],
  [0, 0, 255],
  [255, 255, 0],
];
function bandsRaw(tall: boolean): { raw: Buffer; width: number; height: number } {
  const width = tall ? 100 : 400;
  const height = tall ? 400 : 100;
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const band = BANDS[Math.floor((tall ? y : x) / 100)]!;
      raw.set(band, (y * width + x) * 3);
    }
  }
  return { raw, width, height };
}

/** 200×100: R = x, G = 2y, B = 0, with a magenta 10×10 square at the centre (95..104, 45..54). */
const MAGENTA: Rgb = [255, 0, 255];
function centreRaw(): Buffer {
  const raw = Buffer.alloc(200 * 100 * 3);
  for (let y = 0; y < 100; y++) {
    for (let x = 0; x < 200; x++) {
      const marker = x >= 95 && x < 105 && y >= 45 && y < 55;
      raw.set(marker ? MAGENTA : [x, 2 * y, 0], (y * 200 + x) * 3);
    }
  }
  return raw;
}

const png = (raw: Buffer, width: number, height: number): Promise<Buffer> =>
  sharp(raw, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();

beforeAll(async () => {
  srv = await startDeliveryServer();
  await patchConfig(srv, { flexible_variants: true });
  const sources: Record<string, Buffer> = {
    coord: await png(coordRaw(), CW, CH),
    wide: await png(bandsRaw(false).raw, 400, 100),
    tall: await png(bandsRaw(true).raw, 100, 400),
    centre: await png(centreRaw(), 200, 100),
    grey: await sharp({
      create: { width: 100, height: 50, channels: 3, background: { r: 128, g: 128, b: 128 } },
    })
      .png()
      .toBuffer(),
    clear: await sharp({
      create: { width: 40, height: 40, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
    })
      .png()
      .toBuffer(),
    big: await png(coordRaw(), CW, CH).then((b) =>
      sharp(b).resize(200, 160, { kernel: 'nearest' }).png().toBuffer(),
    ),
  };
  const uploaded = await uploadAll(srv, sources, '.png');
  Object.assign(ids, uploaded.ids);
  hash = uploaded.hash;
});

afterAll(async () => {
  await srv?.close();
});

/** A rendition of `name` with a flexible option list, asserted 200. */
async function get(name: string, options: string, accept = '*/*'): Promise<Fetched> {
  const res = await fetchBytes(cdnUrl(srv, hash, ids[name]!, options), { accept });
  expect(res.status, show(res)).toBe(200);
  return res;
}

async function pixelsOf(name: string, options: string): Promise<Pixels> {
  return decode((await get(name, options)).body);
}

/** Asserts every output pixel equals the coordinate-image pixel `source(X, Y)` maps it to. */
function expectMapping(
  p: Pixels,
  width: number,
  height: number,
  source: (X: number, Y: number) => [number, number],
): void {
  expect([p.width, p.height]).toEqual([width, height]);
  const wrong: string[] = [];
  for (let Y = 0; Y < height; Y++) {
    for (let X = 0; X < width; X++) {
      const [x, y] = source(X, Y);
      const got = at(p, X, Y);
      const want = [2 * x, 3 * y, 50];
      if (distance(got, want) > 1 && wrong.length < 5)
        wrong.push(`(${X},${Y}) is source (${got[0] / 2},${got[1] / 3}), want (${x},${y})`);
    }
  }
  expect(wrong).toEqual([]);
}

describe('rotate', () => {
  it('rotate=90 turns clockwise: sides swap and the top-left corner lands top-right', async () => {
    expectMapping(await pixelsOf('coord', 'rotate=90,f=png'), CH, CW, (X, Y) => [Y, CH - 1 - X]);
  });

  it('rotate=180: the top-left corner lands bottom-right, sides kept', async () => {
    expectMapping(await pixelsOf('coord', 'rotate=180,f=png'), CW, CH, (X, Y) => [CW - 1 - X, CH - 1 - Y]);
  });

  it('rotate=270: the top-left corner lands bottom-left, sides swap', async () => {
    expectMapping(await pixelsOf('coord', 'rotate=270,f=png'), CH, CW, (X, Y) => [CW - 1 - Y, X]);
  });

  it('width and height refer to the axes after rotation', async () => {
    const p = await pixelsOf('coord', 'rotate=90,w=40');
    expect([p.width, p.height]).toEqual([40, 50]);
    // The top-right corner of the rendition is the source's top-left (R and G both small).
    const [r, g] = at(p, 39, 0);
    expect(r).toBeLessThan(12);
    expect(g).toBeLessThan(12);
  });
});

describe('flip', () => {
  it('flip=h mirrors left to right', async () => {
    expectMapping(await pixelsOf('coord', 'flip=h,f=png'), CW, CH, (X, Y) => [CW - 1 - X, Y]);
  });

  it('flip=v mirrors top to bottom', async () => {
    expectMapping(await pixelsOf('coord', 'flip=v,f=png'), CW, CH, (X, Y) => [X, CH - 1 - Y]);
  });

  it('flip=hv mirrors both ways', async () => {
    expectMapping(await pixelsOf('coord', 'flip=hv,f=png'), CW, CH, (X, Y) => [CW - 1 - X, CH - 1 - Y]);
  });

  it('flip happens before rotation (flip=h,rotate=90)', async () => {
    // Mirrored F(x, y) = S(W-1-x, y); rotated clockwise R(X, Y) = F(Y, H-1-X).
    expectMapping(await pixelsOf('coord', 'flip=h,rotate=90,f=png'), CH, CW, (X, Y) => [
      CW - 1 - Y,
      CH - 1 - X,
    ]);
  });

  it('an unknown flip value is a 400', async () => {
    const res = await fetchBytes(cdnUrl(srv, hash, ids.coord!, 'flip=x'));
    expect(res.status, show(res)).toBe(400);
    expect(res.headers.get('cf-resized')).toBe('err=9401');
  });
});

describe('trim', () => {
  it('trim=top;right;bottom;left cuts exactly those pixels', async () => {
    expectMapping(await pixelsOf('coord', 'trim=5;10;15;20,f=png'), CW - 30, CH - 20, (X, Y) => [
      X + 20,
      Y + 5,
    ]);
  });

  it('trim.top and trim.left alone', async () => {
    expectMapping(await pixelsOf('coord', 'trim.top=7,trim.left=3,f=png'), CW - 3, CH - 7, (X, Y) => [
      X + 3,
      Y + 7,
    ]);
  });

  it('trim.right and trim.bottom alone', async () => {
    expectMapping(await pixelsOf('coord', 'trim.right=11,trim.bottom=13,f=png'), CW - 11, CH - 13, (X, Y) => [
      X,
      Y,
    ]);
  });

  it('trim.width, trim.height, trim.left, trim.top keep that rectangle', async () => {
    expectMapping(
      await pixelsOf('coord', 'trim.width=30,trim.height=40,trim.left=10,trim.top=20,f=png'),
      30,
      40,
      (X, Y) => [X + 10, Y + 20],
    );
  });

  it('trim happens before rotation', async () => {
    // Trim 20 px off the left (80×80 left of x=20 gone), then rotate clockwise.
    expectMapping(await pixelsOf('coord', 'trim=0;0;0;20,rotate=90,f=png'), CH, CW - 20, (X, Y) => [
      20 + Y,
      CH - 1 - X,
    ]);
  });

  it('trim happens before rotation also when the result is resized', async () => {
    // Keep x ≥ 50, turn clockwise (80×50), halve (40×25): R(X, Y) = S(50 + Y, 79 - X), all R ≥ 100.
    const p = await pixelsOf('coord', 'trim=0;0;0;50,rotate=90,w=40,f=png');
    expect([p.width, p.height]).toEqual([40, 25]);
    let minR = 255;
    for (let y = 0; y < p.height; y++)
      for (let x = 0; x < p.width; x++) minR = Math.min(minR, at(p, x, y)[0]);
    expect(minR).toBeGreaterThanOrEqual(96);
    expect(at(p, 39, 0)[1]).toBeLessThan(12);
  });

  it('trim happens before rotation and flip, also when the result is resized', async () => {
    // Keep x ≥ 50 (R ≥ 100), rotate: 80×50, then halve: 40×25. Every pixel must come from x ≥ 50.
    const p = await pixelsOf('coord', 'trim=0;0;0;50,flip=v,rotate=90,w=40,f=png');
    expect([p.width, p.height]).toEqual([40, 25]);
    let minR = 255;
    for (let y = 0; y < p.height; y++)
      for (let x = 0; x < p.width; x++) minR = Math.min(minR, at(p, x, y)[0]);
    expect(minR).toBeGreaterThanOrEqual(96);
    // Trimmed T(x, y) = S(50 + x, y), 50×80; flipped F(x, y) = T(x, 79 - y); turned R(X, Y) = F(Y, 79 - X)
    // = S(50 + Y, X): the top-left is S(50, 0), the top-right S(50, 79) (both R ≈ 100).
    const [r0, g0] = at(p, 0, 0);
    expect(r0).toBeLessThan(110);
    expect(g0).toBeLessThan(12);
    const [r1, g1] = at(p, 39, 0);
    expect(r1).toBeLessThan(110);
    expect(g1).toBeGreaterThan(220);
  });

  it('a trim that leaves nothing is a 400', async () => {
    const res = await fetchBytes(cdnUrl(srv, hash, ids.coord!, 'trim=40;0;40;0'));
    expect(res.status, show(res)).toBe(400);
    expect(res.headers.get('cf-resized')).toBe('err=9401');
  });

  it('trim.width beyond the image is a 400', async () => {
    const res = await fetchBytes(cdnUrl(srv, hash, ids.coord!, 'trim.width=90,trim.left=20'));
    expect(res.status, show(res)).toBe(400);
  });
});

describe('gravity: which band of a four-colour image survives a cover crop', () => {
  /** The band colour nearest to the rendition's mean, and that distance. */
  async function survivor(name: string, options: string): Promise<number> {
    const p = await pixelsOf(name, options);
    expect([p.width, p.height]).toEqual([100, 100]);
    const m = mean(p, 0, 0, 100, 100);
    const d = BANDS.map((b) => distance(m, b));
    const best = d.indexOf(Math.min(...d));
    expect(d[best], `mean ${m.map(Math.round).join(',')} is no single band`).toBeLessThan(12);
    return best;
  }

  it.each([
    ['gravity=left', 0],
    ['gravity=right', 3],
    ['g=0x0', 0],
    ['gravity=0.375x0.5', 1],
    ['gravity=0.625x0.5', 2],
    ['gravity=1x1', 3],
    ['gravity=0.1x0.9', 0],
  ])('wide source, %s keeps band %i', async (g, band) => {
    expect(await survivor('wide', `w=100,h=100,fit=cover,${g}`)).toBe(band);
  });

  it.each([
    ['gravity=top', 0],
    ['gravity=bottom', 3],
    ['gravity=0.5x0.375', 1],
    ['g=0.5x0.625', 2],
    ['gravity=0x1', 3],
  ])('tall source, %s keeps band %i', async (g, band) => {
    expect(await survivor('tall', `w=100,h=100,fit=cover,${g}`)).toBe(band);
  });

  it('the default (center) keeps the two middle bands, half each', async () => {
    const p = await pixelsOf('wide', 'w=100,h=100,fit=cover');
    expect(distance(mean(p, 5, 0, 40, 100), BANDS[1]!)).toBeLessThan(10);
    expect(distance(mean(p, 55, 0, 40, 100), BANDS[2]!)).toBeLessThan(10);
  });

  it('gravity applies to fit=crop too', async () => {
    expect(await survivor('wide', 'w=100,h=100,fit=crop,gravity=right')).toBe(3);
    expect(await survivor('tall', 'w=100,h=100,fit=crop,gravity=0.5x0.625')).toBe(2);
  });

  it('gravity with a larger scale: w=200,h=200 on the wide source crops 800×200 to its second quarter', async () => {
    const p = await pixelsOf('wide', 'w=200,h=200,fit=cover,gravity=0.375x0.5');
    expect([p.width, p.height]).toEqual([200, 200]);
    expect(distance(mean(p, 20, 20, 160, 160), BANDS[1]!)).toBeLessThan(12);
  });
});

describe('fit: every mode on a source with a marked centre (200×100)', () => {
  /** [options, width, height] for a 100×100 and a 400×400 box. */
  const cases: Array<[string, number, number]> = [
    ['fit=scale-down,w=100,h=100', 100, 50],
    ['fit=contain,w=100,h=100', 100, 50],
    ['fit=cover,w=100,h=100', 100, 100],
    ['fit=crop,w=100,h=100', 100, 100],
    ['fit=pad,w=100,h=100', 100, 100],
    ['fit=scale-down,w=400,h=400', 200, 100],
    ['fit=contain,w=400,h=400', 400, 200],
    ['fit=cover,w=400,h=400', 400, 400],
    ['fit=crop,w=400,h=400', 200, 100],
    ['fit=pad,w=400,h=400', 400, 400],
  ];

  it.each(cases)('%s → %i×%i with the marker at the centre', async (options, w, h) => {
    const p = await pixelsOf('centre', `${options},f=png`);
    expect([p.width, p.height]).toEqual([w, h]);
    expect(distance(at(p, Math.floor(w / 2), Math.floor(h / 2)), MAGENTA)).toBeLessThan(30);
  });

  it('cover 100×100 keeps x 50..149 unscaled; crop the same', async () => {
    for (const fit of ['cover', 'crop']) {
      const p = await pixelsOf('centre', `fit=${fit},w=100,h=100,f=png`);
      expect(Math.abs(at(p, 0, 10)[0] - 50), fit).toBeLessThanOrEqual(1);
      expect(Math.abs(at(p, 99, 10)[0] - 149), fit).toBeLessThanOrEqual(1);
    }
  });

  it('cover 400×400 scales by 4 and keeps x 50..149', async () => {
    const p = await pixelsOf('centre', 'fit=cover,w=400,h=400,f=png');
    expect(Math.abs(at(p, 2, 10)[0] - 50)).toBeLessThanOrEqual(2);
    expect(Math.abs(at(p, 397, 10)[0] - 149)).toBeLessThanOrEqual(2);
  });

  it('pad puts white bars above and below (default background)', async () => {
    const p = await pixelsOf('centre', 'fit=pad,w=100,h=100,f=png');
    expect(distance(mean(p, 0, 0, 100, 20), [255, 255, 255])).toBeLessThan(2);
    expect(distance(mean(p, 0, 80, 100, 20), [255, 255, 255])).toBeLessThan(2);
    // The image itself is in rows 25..74: the left edge is x≈0 (R small), not white.
    expect(at(p, 1, 30)[0]).toBeLessThan(10);
  });

  it.each(['scale-down', 'contain', 'cover', 'crop', 'pad'])(
    'stored variant fit=%s gives the flexible result',
    async (fit) => {
      const id = `fit${fit.replace('-', '')}`;
      await createVariant(srv, id, { fit, width: 100, height: 100, metadata: 'none' });
      const stored = await decode((await fetchBytes(cdnUrl(srv, hash, ids.centre!, id))).body);
      const flexible = await pixelsOf('centre', `fit=${fit},w=100,h=100`);
      expect([stored.width, stored.height]).toEqual([flexible.width, flexible.height]);
      expect(
        distance(at(stored, Math.floor(stored.width / 2), Math.floor(stored.height / 2)), MAGENTA),
      ).toBeLessThan(30);
      expect(
        distance(mean(stored, 0, 0, stored.width, 4), mean(flexible, 0, 0, flexible.width, 4)),
      ).toBeLessThan(6);
    },
  );

  it('stored variant with only a width, and with only a height', async () => {
    await createVariant(srv, 'onlyw', { fit: 'scale-down', width: 50 });
    await createVariant(srv, 'onlyh', { fit: 'contain', height: 200 });
    const w = await decode((await fetchBytes(cdnUrl(srv, hash, ids.centre!, 'onlyw'))).body);
    const h = await decode((await fetchBytes(cdnUrl(srv, hash, ids.centre!, 'onlyh'))).body);
    expect([w.width, w.height]).toEqual([50, 25]);
    expect([h.width, h.height]).toEqual([400, 200]);
  });
});

describe('dpr multiplies the output size', () => {
  it.each([
    ['big', 'w=50,h=40,fit=cover,dpr=2', 100, 80],
    ['big', 'w=50,h=40,fit=cover,dpr=1', 50, 40],
    ['big', 'w=30,dpr=1.5', 45, 36],
    ['big', 'w=50,h=50,fit=pad,dpr=2', 100, 100],
    ['coord', 'h=20,dpr=3', 75, 60],
  ])('%s: %s → %i×%i', async (name, options, w, h) => {
    const p = await pixelsOf(name, options);
    expect([p.width, p.height]).toEqual([w, h]);
  });
});

describe('width=auto', () => {
  it('w=auto alone serves the source width', async () => {
    const p = await pixelsOf('centre', 'w=auto,f=png');
    expect([p.width, p.height]).toEqual([200, 100]);
  });

  it('w=auto with a height scales by the height', async () => {
    const p = await pixelsOf('centre', 'w=auto,h=50');
    expect([p.width, p.height]).toEqual([100, 50]);
  });
});

describe('background', () => {
  /** The colour of the pad bar above a 100×50 grey image padded to 100×100. */
  async function padColour(css: string): Promise<number[]> {
    const p = await pixelsOf('grey', `w=100,h=100,fit=pad,background=${css},f=png`);
    expect([p.width, p.height]).toEqual([100, 100]);
    // The image itself stays grey.
    expect(distance(at(p, 50, 50), [128, 128, 128])).toBeLessThan(3);
    return [...mean(p, 0, 0, 100, 20), at(p, 50, 5)[3]];
  }

  // Expected values from the CSS Color 4 definitions, written out by hand.
  it.each([
    ['red', [255, 0, 0]],
    ['rebeccapurple', [102, 51, 153]],
    ['darkorange', [255, 140, 0]],
    ['teal', [0, 128, 128]],
    ['%23123456', [18, 52, 86]],
    ['%23abc', [170, 187, 204]],
    ['rgb(10,20,30)', [10, 20, 30]],
    ['rgb(10%2C20%2C30)', [10, 20, 30]],
    ['rgb(10%2020%2030)', [10, 20, 30]],
    ['hsl(120%20100%25%2025%25)', [0, 128, 0]],
    ['hsl(240,100%25,50%25)', [0, 0, 255]],
    ['hwb(60%200%25%200%25)', [255, 255, 0]],
  ])('background=%s pads with that colour', async (css, rgb) => {
    const got = await padColour(css);
    expect(distance(got, rgb), `got ${got.map(Math.round).join(',')}`).toBeLessThanOrEqual(1);
    expect(got[3]).toBe(255);
  });

  it('a transparent background pads with alpha 0 in PNG', async () => {
    expect((await padColour('transparent'))[3]).toBe(0);
    expect((await padColour('rgba(0,0,0,0)'))[3]).toBe(0);
  });

  it('an unparseable colour is a 400 naming the option', async () => {
    for (const bad of ['notacolour', '%23ggg', 'rgb(1,2)']) {
      const res = await fetchBytes(cdnUrl(srv, hash, ids.grey!, `fit=pad,w=10,h=10,background=${bad}`));
      expect(res.status, show(res)).toBe(400);
      expect(res.body.toString()).toContain('background');
    }
  });

  it('background fills transparency when the output has no alpha (JPEG)', async () => {
    const p = await pixelsOf('clear', 'f=jpeg,background=%2300ff00');
    expect(distance(at(p, 20, 20), [0, 255, 0])).toBeLessThan(6);
  });

  it('transparency stays in PNG and WebP output: only JPEG is flattened', async () => {
    for (const f of ['png', 'webp']) {
      const p = await pixelsOf('clear', `f=${f}`);
      expect(at(p, 20, 20)[3], f).toBe(0);
    }
  });

  it('transparency into JPEG without a background is white', async () => {
    const p = await pixelsOf('clear', 'f=jpeg');
    expect(distance(at(p, 20, 20), [255, 255, 255])).toBeLessThan(3);
  });
});

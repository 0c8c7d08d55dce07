/**
 * Effect and tone options end to end (digest §5.3): blur, sharpen, brightness, contrast, gamma and
 * saturation, through the real server, read back from lossless PNG renditions.
 *
 * - blur and sharpen: the high-frequency energy (mean squared difference of neighbouring pixels) of
 *   a noise image falls with blur and rises with sharpen, by more as the value grows;
 * - brightness, contrast, gamma, saturation: two flat patches (a grey and an orange) whose output
 *   colours are compared with Cloudflare's documented factor applied by formulas computed in the
 *   test (test/helpers/pixels.ts: sRGB ↔ CIE L*a*b* from the published equations), not by libvips.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cdnUrl,
  fetchBytes,
  patchConfig,
  show,
  startDeliveryServer,
  uploadAll,
  type DeliveryServer,
} from '../helpers/delivery.js';
import { chroma, decode, distance, energy, labToRgb, mean, rgbToLab, type Rgb } from '../helpers/pixels.js';

let srv: DeliveryServer;
let hash: string;
const ids: Record<string, string> = {};

const GREY: Rgb = [100, 100, 100];
const ORANGE: Rgb = [180, 120, 60];

/** Deterministic noise, 128×128 grey levels 64..191. */
function noiseRaw(): Buffer {
  const raw = Buffer.alloc(128 * 128);
  let s = 1;
  for (let i = 0; i < raw.length; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    raw[i] = 64 + ((s >> 16) % 128);
  }
  return raw;
}

/** 64×32: the left half GREY, the right half ORANGE. */
function patchesRaw(): Buffer {
  const raw = Buffer.alloc(64 * 32 * 3);
  for (let y = 0; y < 32; y++) for (let x = 0; x < 64; x++) raw.set(x < 32 ? GREY : ORANGE, (y * 64 + x) * 3);
  return raw;
}

beforeAll(async () => {
  srv = await startDeliveryServer();
  await patchConfig(srv, { flexible_variants: true });
  const noise = await sharp(noiseRaw(), { raw: { width: 128, height: 128, channels: 1 } })
    .png()
    .toBuffer();
  const sources: Record<string, Buffer> = {
    noise,
    soft: await sharp(noise).blur(1.5).png().toBuffer(),
    patches: await sharp(patchesRaw(), { raw: { width: 64, height: 32, channels: 3 } })
      .png()
      .toBuffer(),
  };
  const uploaded = await uploadAll(srv, sources, '.png');
  Object.assign(ids, uploaded.ids);
  hash = uploaded.hash;
});

afterAll(async () => {
  await srv?.close();
});

async function rendition(name: string, options: string): Promise<Buffer> {
  const res = await fetchBytes(cdnUrl(srv, hash, ids[name]!, `${options},f=png`));
  expect(res.status, show(res)).toBe(200);
  return res.body;
}

async function energyOf(name: string, options: string): Promise<number> {
  return energy(await decode(await rendition(name, options)));
}

/** The output colours of the grey and the orange patch (means of their inner 16×16). */
async function patches(options: string): Promise<{ grey: Rgb; orange: Rgb }> {
  const p = await decode(await rendition('patches', options));
  expect([p.width, p.height]).toEqual([64, 32]);
  return { grey: mean(p, 8, 8, 16, 16), orange: mean(p, 40, 8, 16, 16) };
}

const fmt = (c: readonly number[]): string => c.map((v) => v.toFixed(1)).join(',');

describe('blur: high-frequency energy falls, more as the radius grows', () => {
  it('blur=1 is a slight blur, and 2, 10, 50, 250 blur more each time', async () => {
    const none = await energyOf('noise', 'anim=true');
    const values = [1, 2, 10, 50, 250];
    const blurred = [];
    for (const v of values) blurred.push(await energyOf('noise', `blur=${v}`));
    expect(blurred[0]!, `blur=1 energy ${blurred[0]} vs ${none}`).toBeLessThan(none * 0.8);
    for (let i = 1; i < values.length; i++)
      expect(blurred[i]!, `blur=${values[i]}`).toBeLessThan(blurred[i - 1]!);
  });
});

describe('sharpen: high-frequency energy rises, more as the strength grows', () => {
  it('sharpen=1 sharpens, and 3, 6, 10 sharpen more each time; sharpen=0 changes nothing', async () => {
    const none = await energyOf('soft', 'anim=true');
    expect(Math.abs((await energyOf('soft', 'sharpen=0')) - none)).toBeLessThan(none * 0.01);
    const values = [1, 3, 6, 10];
    const sharpened = [];
    for (const v of values) sharpened.push(await energyOf('soft', `sharpen=${v}`));
    expect(sharpened[0]!, `sharpen=1 energy ${sharpened[0]} vs ${none}`).toBeGreaterThan(none * 1.2);
    for (let i = 1; i < values.length; i++)
      expect(sharpened[i]!, `sharpen=${values[i]}`).toBeGreaterThan(sharpened[i - 1]! * 1.1);
  });
});

describe('brightness multiplies L* (lightness), keeping a* and b*', () => {
  // Factors that keep both patches inside the sRGB gamut (the orange at L* 55.5 tops out near 1.6).
  it.each([0.5, 0.8, 1.3, 1.6])('brightness=%s', async (b) => {
    const out = await patches(`brightness=${b}`);
    for (const [name, input] of [
      ['grey', GREY],
      ['orange', ORANGE],
    ] as const) {
      const [L, A, B] = rgbToLab(input);
      const want = labToRgb([Math.min(100, L * b), A, B]);
      expect(
        distance(out[name], want),
        `${name}: got ${fmt(out[name])}, want ${fmt(want)}`,
      ).toBeLessThanOrEqual(3);
    }
  });

  it("brightness=2 doubles the grey patch's L*", async () => {
    const out = await patches('brightness=2');
    const [L, A, B] = rgbToLab(GREY);
    const want = labToRgb([L * 2, A, B]);
    expect(distance(out.grey, want), `got ${fmt(out.grey)}, want ${fmt(want)}`).toBeLessThanOrEqual(3);
  });

  it('brightness=1 changes nothing', async () => {
    const out = await patches('brightness=1');
    expect(distance(out.grey, GREY)).toBeLessThanOrEqual(1);
    expect(distance(out.orange, ORANGE)).toBeLessThanOrEqual(1);
  });
});

describe('contrast scales each channel about the mid-point 128', () => {
  it.each([0.5, 1.5, 2])('contrast=%s', async (c) => {
    const out = await patches(`contrast=${c}`);
    for (const [name, input] of [
      ['grey', GREY],
      ['orange', ORANGE],
    ] as const) {
      const want = input.map((v) => Math.max(0, Math.min(255, c * (v - 128) + 128)));
      expect(
        distance(out[name], want),
        `${name}: got ${fmt(out[name])}, want ${fmt(want)}`,
      ).toBeLessThanOrEqual(2);
    }
  });
});

describe('gamma: out = in^(1/γ), so γ > 1 brightens (Cloudflare: "2.0 lightens")', () => {
  it.each([0.5, 0.8, 1.5, 2, 3])('gamma=%s', async (g) => {
    const out = await patches(`gamma=${g}`);
    for (const [name, input] of [
      ['grey', GREY],
      ['orange', ORANGE],
    ] as const) {
      const want = input.map((v) => 255 * (v / 255) ** (1 / g));
      expect(
        distance(out[name], want),
        `${name}: got ${fmt(out[name])}, want ${fmt(want)}`,
      ).toBeLessThanOrEqual(2);
    }
  });

  it('gamma=2 is brighter than the source, gamma=0.5 darker', async () => {
    expect((await patches('gamma=2')).grey[0]).toBeGreaterThan(140);
    expect((await patches('gamma=0.5')).grey[0]).toBeLessThan(60);
  });
});

describe('saturation multiplies chroma C*, keeping lightness and hue', () => {
  const hue = (rgb: readonly number[]): number => {
    const [, a, b] = rgbToLab(rgb);
    return (Math.atan2(b, a) * 180) / Math.PI;
  };

  // Factors that keep the orange (C* 45) inside the sRGB gamut.
  it.each([0.25, 0.5, 1.25, 1.5])('saturation=%s', async (s) => {
    const out = await patches(`saturation=${s}`);
    const want = chroma(ORANGE) * s;
    expect(
      Math.abs(chroma(out.orange) - want),
      `C* ${chroma(out.orange).toFixed(2)} want ${want.toFixed(2)}`,
    ).toBeLessThanOrEqual(1.5);
    expect(Math.abs(rgbToLab(out.orange)[0] - rgbToLab(ORANGE)[0])).toBeLessThanOrEqual(1.5);
    expect(Math.abs(hue(out.orange) - hue(ORANGE))).toBeLessThanOrEqual(3);
    expect(distance(out.grey, GREY)).toBeLessThanOrEqual(1);
  });

  it('saturation=0 is greyscale', async () => {
    const out = await patches('saturation=0');
    expect(chroma(out.orange)).toBeLessThan(1.5);
    expect(Math.abs(rgbToLab(out.orange)[0] - rgbToLab(ORANGE)[0])).toBeLessThanOrEqual(1.5);
  });

  it('saturation above the range is a 400', async () => {
    const res = await fetchBytes(cdnUrl(srv, hash, ids.patches!, 'saturation=11'));
    expect(res.status, show(res)).toBe(400);
    expect(res.headers.get('cf-resized')).toBe('err=9401');
  });
});

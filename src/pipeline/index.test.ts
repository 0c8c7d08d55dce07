import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { defaults } from '../transform/options.js';
import {
  DecodeError,
  decodeFacts,
  isDecodeError,
  isPlanError,
  PlanError,
  planTransform,
  runTransform,
  sourceOf,
} from './index.js';

const png = (w: number, h: number): Promise<Buffer> =>
  sharp({ create: { width: w, height: h, channels: 3, background: '#336699' } })
    .png()
    .toBuffer();

describe('sourceOf', () => {
  it('maps stored facts onto what the planner reads', () => {
    expect(
      sourceOf('png', { width: 640, height: 480, frames: 3, alpha: true, copyright: 'C' }),
    ).toStrictEqual({
      format: 'png',
      width: 640,
      height: 480,
      pages: 3,
      hasAlpha: true,
    });
  });
});

describe('DecodeError', () => {
  it('names the cause in its message and keeps it', () => {
    const cause = new Error('VipsJpeg: premature end of input');
    const e = new DecodeError(cause);
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('DecodeError');
    expect(e.message).toBe('The image could not be decoded: VipsJpeg: premature end of input');
    expect(e.cause).toBe(cause);
    expect(new DecodeError('plain text').message).toBe('The image could not be decoded: plain text');
  });

  it('isDecodeError and isPlanError tell the two apart', () => {
    const d = new DecodeError(new Error('x'));
    const p = new PlanError('y');
    expect(isDecodeError(d)).toBe(true);
    expect(isDecodeError(p)).toBe(false);
    expect(isDecodeError(new Error('z'))).toBe(false);
    expect(isPlanError(p)).toBe(true);
    expect(isPlanError(d)).toBe(false);
    expect(isPlanError('y')).toBe(false);
  });
});

describe('runTransform', () => {
  it('runs a plan with the default timeout and returns the encoded bytes', async () => {
    const input = await png(40, 20);
    const source = sourceOf('png', { width: 40, height: 20, frames: 1, alpha: false, copyright: null });
    const plan = planTransform(source, defaults({ width: 10 }), 'webp');
    expect([plan.width, plan.height]).toEqual([10, 5]);
    const out = await runTransform(input, plan);
    const meta = await sharp(out).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 10, 5]);
  });

  it('accepts an explicit timeout', async () => {
    const input = await png(8, 8);
    const plan = planTransform(
      sourceOf('png', { width: 8, height: 8, frames: 1, alpha: false, copyright: null }),
      defaults(),
      'png',
    );
    const out = await runTransform(input, plan, { timeoutSeconds: 5 });
    expect((await sharp(out).metadata()).format).toBe('png');
  });

  it('a failure inside libvips is a DecodeError', async () => {
    const broken = (await png(64, 64)).subarray(0, 60);
    const plan = planTransform(
      sourceOf('png', { width: 64, height: 64, frames: 1, alpha: false, copyright: null }),
      defaults({ width: 10 }),
      'png',
    );
    const e = await runTransform(broken, plan).catch((x: unknown) => x);
    expect(isDecodeError(e)).toBe(true);
    expect((e as Error).message).toMatch(/^The image could not be decoded: /);
  });
});

describe('decodeFacts', () => {
  it('reads format and facts', async () => {
    expect(await decodeFacts(await png(7, 3))).toStrictEqual({
      format: 'png',
      facts: { width: 7, height: 3, frames: 1, alpha: false, copyright: null },
    });
  });

  it('unreadable bytes are a DecodeError', async () => {
    const e = await decodeFacts(Buffer.from('not an image at all')).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DecodeError);
    expect((e as Error).message).toMatch(/^The image could not be decoded: /);
  });
});

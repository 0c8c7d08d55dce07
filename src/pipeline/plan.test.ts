import { describe, expect, it } from 'vitest';
import { defaults } from '../transform/options.js';
import { planTransform } from './index.js';
import { planContext, type SourceInfo } from './plan.js';

const photo: SourceInfo = { width: 1080, height: 720, format: 'jpeg', pages: 1, hasAlpha: false };

describe('planContext', () => {
  it('starts from the source size with output defaults', () => {
    const c = planContext(photo, defaults({ quality: 60, metadata: 'keep' }), 'webp');
    expect([c.width, c.height]).toEqual([1080, 720]);
    expect(c.plan).toStrictEqual({
      output: { format: 'webp', quality: 60, progressive: false, animated: false },
      metadata: 'keep',
      exif: 'none',
      keepIcc: false,
      width: 1080,
      height: 720,
    });
  });
});

describe('planTransform', () => {
  it('the digest example: 1080×720 scale-down into 500×500 → 500×333', () => {
    expect(planTransform(photo, defaults({ width: 500, height: 500 }), 'jpeg')).toStrictEqual({
      resize: { width: 500, height: 333, fit: 'fill' },
      output: { format: 'jpeg', quality: 85, progressive: true, animated: false },
      metadata: 'copyright',
      exif: 'copyright',
      keepIcc: false,
      width: 500,
      height: 333,
    });
  });

  it('cover 1080×720 into 500×500 → exactly 500×500', () => {
    const p = planTransform(photo, defaults({ width: 500, height: 500, fit: 'cover' }), 'webp');
    expect(p.resize).toStrictEqual({ width: 500, height: 500, fit: 'cover', position: 'centre' });
    expect([p.width, p.height]).toEqual([500, 500]);
  });

  it('no options: the source size, nothing but the encoder', () => {
    const p = planTransform(photo, defaults(), 'png');
    expect(p).toStrictEqual({
      output: { format: 'png', quality: 85, progressive: false, animated: false },
      metadata: 'copyright',
      exif: 'none',
      keepIcc: false,
      width: 1080,
      height: 720,
    });
  });

  it('runs the steps in order: trim, then rotate (sides swap), then resize on the turned size, then effects and output', () => {
    const p = planTransform(
      photo,
      defaults({
        trim: { top: 0, right: 80, bottom: 20, left: 0 },
        rotate: 90,
        width: 350,
        blur: 3,
        sharpen: 2,
        contrast: 2,
        format: 'jpeg',
      }),
      'jpeg',
    );
    // Trimmed 1000×700, turned 700×1000, scaled to width 350 → 350×500.
    expect(p.trim).toStrictEqual({ left: 20, top: 0, width: 700, height: 1000 });
    expect(p.rotate).toBe(90);
    expect(p.resize).toStrictEqual({ width: 350, height: 500, fit: 'fill' });
    expect(p.blur).toBe(2);
    expect(p.sharpen).toStrictEqual({ sigma: 1, m1: 1, m2: 2 });
    expect(p.linear).toStrictEqual({ a: 2, b: -128 });
    expect([p.width, p.height]).toEqual([350, 500]);
    expect(p.output.progressive).toBe(true);
  });

  it('the final size decides progressive JPEG (a 40 px thumbnail is baseline)', () => {
    expect(planTransform(photo, defaults({ width: 40 }), 'jpeg').output.progressive).toBe(false);
  });

  it('an animated GIF to WebP keeps its frames; with anim=false it does not', () => {
    const gif: SourceInfo = { width: 40, height: 30, format: 'gif', pages: 3, hasAlpha: true };
    expect(planTransform(gif, defaults(), 'webp').output.animated).toBe(true);
    expect(planTransform(gif, defaults({ anim: false }), 'webp').output.animated).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { defaults, type TransformOptions } from '../../transform/options.js';
import { planContext, type PlanContext, type RasterFormat, type SourceInfo } from '../plan.js';
import { AVIF_EFFORT, output, WEBP_EFFORT } from './output.js';

function ctx(
  options: Partial<TransformOptions>,
  format: RasterFormat,
  source: Partial<SourceInfo> = {},
  size?: [number, number],
): PlanContext {
  const c = planContext(
    { width: 100, height: 80, format: 'png', pages: 1, hasAlpha: false, ...source },
    defaults(options),
    format,
  );
  if (size) [c.width, c.height] = size;
  output(c);
  return c;
}

describe('output step', () => {
  it('carries the format and quality', () => {
    expect(ctx({ quality: 40 }, 'webp').plan.output).toStrictEqual({
      format: 'webp',
      quality: 40,
      progressive: false,
      animated: false,
      effort: WEBP_EFFORT,
    });
    expect(ctx({}, 'avif').plan.output).toStrictEqual({
      format: 'avif',
      quality: 85,
      progressive: false,
      animated: false,
      effort: AVIF_EFFORT,
    });
    expect(ctx({}, 'png').plan.output).toStrictEqual({
      format: 'png',
      quality: 85,
      progressive: false,
      animated: false,
    });
    expect(ctx({}, 'gif').plan.output).toStrictEqual({
      format: 'gif',
      quality: 85,
      progressive: false,
      animated: false,
    });
  });

  it('JPEG is progressive from 50×50 to 3000×3000, baseline outside and for baseline-jpeg', () => {
    const progressive = (size: [number, number], format: TransformOptions['format'] = 'auto') =>
      ctx({ format }, 'jpeg', {}, size).plan.output.progressive;
    expect(progressive([50, 50])).toBe(true);
    expect(progressive([3000, 3000])).toBe(true);
    expect(progressive([49, 100])).toBe(false);
    expect(progressive([100, 49])).toBe(false);
    expect(progressive([3001, 100])).toBe(false);
    expect(progressive([100, 3001])).toBe(false);
    expect(progressive([100, 100], 'baseline-jpeg')).toBe(false);
    expect(ctx({}, 'webp', {}, [100, 100]).plan.output.progressive).toBe(false);
  });

  it('keeps frames only for a multi-frame source, anim on, and GIF or WebP output', () => {
    const animated = (pages: number, anim: boolean, format: RasterFormat) =>
      ctx({ anim }, format, { pages }).plan.output.animated;
    expect(animated(3, true, 'gif')).toBe(true);
    expect(animated(3, true, 'webp')).toBe(true);
    expect(animated(3, false, 'gif')).toBe(false);
    expect(animated(1, true, 'gif')).toBe(false);
    expect(animated(3, true, 'png')).toBe(false);
    expect(animated(3, true, 'avif')).toBe(false);
    expect(animated(3, true, 'jpeg')).toBe(false);
  });

  it('flattens transparency into JPEG onto the background, white by default', () => {
    expect(ctx({}, 'jpeg', { hasAlpha: true }).plan.flatten).toStrictEqual({ r: 255, g: 255, b: 255 });
    expect(
      ctx({ background: { r: 1, g: 2, b: 3, alpha: 0.5 } }, 'jpeg', { hasAlpha: true }).plan.flatten,
    ).toStrictEqual({ r: 1, g: 2, b: 3 });
    expect(ctx({}, 'jpeg', { hasAlpha: false }).plan.flatten).toBeUndefined();
    expect(ctx({}, 'png', { hasAlpha: true }).plan.flatten).toBeUndefined();
  });

  it('metadata: EXIF by mode in JPEG and AVIF, never in WebP, PNG or GIF; the ICC profile kept only for keep', () => {
    const m = (metadata: TransformOptions['metadata'], format: RasterFormat) => {
      const p = ctx({ metadata }, format).plan;
      return [p.metadata, p.exif, p.keepIcc];
    };
    expect(m('keep', 'jpeg')).toEqual(['keep', 'all', true]);
    expect(m('keep', 'avif')).toEqual(['keep', 'all', true]);
    expect(m('copyright', 'jpeg')).toEqual(['copyright', 'copyright', false]);
    expect(m('copyright', 'avif')).toEqual(['copyright', 'copyright', false]);
    expect(m('none', 'jpeg')).toEqual(['none', 'none', false]);
    expect(m('keep', 'webp')).toEqual(['keep', 'none', true]);
    expect(m('keep', 'png')).toEqual(['keep', 'none', true]);
    expect(m('keep', 'gif')).toEqual(['keep', 'none', true]);
    expect(m('copyright', 'webp')).toEqual(['copyright', 'none', false]);
  });
});

import { describe, expect, it } from 'vitest';
import { accepts, negotiate } from './negotiate.js';
import type { SourceInfo } from './plan.js';

const src = (format: SourceInfo['format'], extra: Partial<SourceInfo> = {}): SourceInfo => ({
  width: 10,
  height: 10,
  format,
  pages: 1,
  hasAlpha: false,
  ...extra,
});
const AVIF = 'image/avif,image/webp,*/*';
const WEBP = 'image/webp,*/*';

describe('accepts', () => {
  it('reads AVIF and WebP by substring, case-insensitively', () => {
    expect(accepts(AVIF)).toStrictEqual({ avif: true, webp: true });
    expect(accepts('IMAGE/WEBP')).toStrictEqual({ avif: false, webp: true });
    expect(accepts('*/*')).toStrictEqual({ avif: false, webp: false });
    expect(accepts(undefined)).toStrictEqual({ avif: false, webp: false });
  });
});

describe('negotiate', () => {
  it('auto: AVIF, else WebP, else the source format', () => {
    expect(negotiate(AVIF, 'auto', src('jpeg'), true)).toBe('avif');
    expect(negotiate(WEBP, 'auto', src('jpeg'), true)).toBe('webp');
    expect(negotiate('*/*', 'auto', src('jpeg'), true)).toBe('jpeg');
    expect(negotiate(undefined, 'auto', src('png'), true)).toBe('png');
    expect(negotiate(undefined, 'auto', src('gif'), true)).toBe('gif');
  });

  it('WebP, AVIF and HEIC sources fall back to JPEG, or PNG with transparency', () => {
    for (const f of ['webp', 'avif', 'heic'] as const) {
      expect(negotiate('*/*', 'auto', src(f), true)).toBe('jpeg');
      expect(negotiate('*/*', 'auto', src(f, { hasAlpha: true }), true)).toBe('png');
    }
  });

  it('animations never become AVIF: WebP when accepted, else GIF', () => {
    const anim = src('gif', { pages: 3 });
    expect(negotiate(AVIF, 'auto', anim, true)).toBe('webp');
    expect(negotiate('*/*', 'auto', anim, true)).toBe('gif');
    expect(negotiate('*/*', 'auto', src('webp', { pages: 3 }), true)).toBe('gif');
    expect(negotiate(AVIF, 'avif', anim, true)).toBe('webp');
  });

  it('an explicit non-AVIF format on an animation is kept', () => {
    const anim = src('gif', { pages: 3 });
    expect(negotiate(AVIF, 'gif', anim, true)).toBe('gif');
    expect(negotiate(AVIF, 'png', anim, true)).toBe('png');
    expect(negotiate(AVIF, 'jpeg', anim, true)).toBe('jpeg');
  });

  it('anim=false makes an animation a still, which may be AVIF', () => {
    const anim = src('gif', { pages: 3 });
    expect(negotiate(AVIF, 'auto', anim, false)).toBe('avif');
    expect(negotiate(AVIF, 'avif', anim, false)).toBe('avif');
    expect(negotiate('*/*', 'auto', anim, false)).toBe('gif');
  });

  it('an explicit format wins over Accept; baseline-jpeg is JPEG; json falls to auto', () => {
    expect(negotiate(AVIF, 'png', src('jpeg'), true)).toBe('png');
    expect(negotiate(AVIF, 'jpeg', src('png'), true)).toBe('jpeg');
    expect(negotiate('*/*', 'webp', src('png'), true)).toBe('webp');
    expect(negotiate('*/*', 'avif', src('png'), true)).toBe('avif');
    expect(negotiate(AVIF, 'baseline-jpeg', src('png'), true)).toBe('jpeg');
    expect(negotiate(WEBP, 'json', src('png'), true)).toBe('webp');
  });
});

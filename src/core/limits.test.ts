import { describe, expect, it } from 'vitest';
import { errorCatalogue } from './errors.js';
import {
  dimensionLimits,
  exceedsDimensions,
  MAX_PIXELS,
  MAX_SIDE,
  MAX_UPLOAD_BYTES,
  megabytes,
} from './limits.js';

describe('limits', () => {
  it("are Cloudflare's documented figures", () => {
    expect([MAX_SIDE, MAX_PIXELS, MAX_UPLOAD_BYTES]).toEqual([12_000, 100_000_000, 10 * 1024 * 1024]);
  });

  it('the error messages are built from them', () => {
    expect(errorCatalogue.imageTooLarge.message).toBe(
      `Image dimensions exceed the limits (${dimensionLimits()})`,
    );
    expect(errorCatalogue.imageTooLarge.message).toContain('12000 px a side and 100 million pixels');
    expect(errorCatalogue.fileTooLarge.message).toBe(
      `Maximum image size of ${megabytes(MAX_UPLOAD_BYTES)} is reached`,
    );
    expect(errorCatalogue.fileTooLarge.message).toBe('Maximum image size of 10 MB is reached');
  });

  it('exceedsDimensions: a side over 12,000 px, or an area (all frames) over 100 MP', () => {
    expect(exceedsDimensions(12_000, 8_333)).toBe(false);
    expect(exceedsDimensions(12_001, 1)).toBe(true);
    expect(exceedsDimensions(1, 12_001)).toBe(true);
    expect(exceedsDimensions(10_000, 10_000)).toBe(false);
    expect(exceedsDimensions(10_000, 10_001)).toBe(true);
    expect(exceedsDimensions(1000, 1000, 100)).toBe(false);
    expect(exceedsDimensions(1000, 1000, 101)).toBe(true);
  });
});

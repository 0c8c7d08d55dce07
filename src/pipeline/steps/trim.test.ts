import { describe, expect, it } from 'vitest';
import { defaults, type TransformOptions } from '../../transform/options.js';
import { PlanError, planContext, type PlanContext } from '../plan.js';
import { trim } from './trim.js';

function ctx(options: Partial<TransformOptions>, width = 100, height = 80): PlanContext {
  return planContext({ width, height, format: 'png', pages: 1, hasAlpha: false }, defaults(options), 'png');
}

describe('trim step', () => {
  it('does nothing without trim', () => {
    const c = ctx({});
    trim(c);
    expect(c.plan.trim).toBeUndefined();
    expect([c.width, c.height]).toEqual([100, 80]);
  });

  it('cuts each side: the region and the working size', () => {
    const c = ctx({ trim: { top: 5, right: 10, bottom: 15, left: 20 } });
    trim(c);
    expect(c.plan.trim).toStrictEqual({ left: 20, top: 5, width: 70, height: 60 });
    expect([c.width, c.height]).toEqual([70, 60]);
  });

  it('trim.width and trim.height give the kept size from left and top', () => {
    const c = ctx({ trim: { top: 20, right: 0, bottom: 0, left: 10, width: 30, height: 40 } });
    trim(c);
    expect(c.plan.trim).toStrictEqual({ left: 10, top: 20, width: 30, height: 40 });
    expect([c.width, c.height]).toEqual([30, 40]);
  });

  it('a size that reaches the edge exactly is allowed', () => {
    const c = ctx({ trim: { top: 79, right: 0, bottom: 0, left: 99, width: 1, height: 1 } });
    trim(c);
    expect(c.plan.trim).toStrictEqual({ left: 99, top: 79, width: 1, height: 1 });
    const d = ctx({ trim: { top: 0, right: 99, bottom: 79, left: 0 } });
    trim(d);
    expect(d.plan.trim).toStrictEqual({ left: 0, top: 0, width: 1, height: 1 });
  });

  it.each([
    [
      { top: 0, right: 50, bottom: 0, left: 50 },
      'Expected a region inside the image size 100x80 for trim but received 0;50;0;50 of type string',
    ],
    [
      { top: 40, right: 0, bottom: 40, left: 0 },
      'Expected a region inside the image size 100x80 for trim but received 40;0;40;0 of type string',
    ],
    [
      { top: 0, right: 0, bottom: 0, left: 71, width: 30 },
      'Expected a region inside the image size 100x80 for trim but received 0;0;0;71 width 30 of type string',
    ],
    [
      { top: 41, right: 0, bottom: 0, left: 0, height: 40 },
      'Expected a region inside the image size 100x80 for trim but received 41;0;0;0 height 40 of type string',
    ],
    [
      { top: 0, right: 0, bottom: 0, left: 0, width: 101 },
      'Expected a region inside the image size 100x80 for trim but received 0;0;0;0 width 101 of type string',
    ],
  ])('refuses a region outside the image: %o', (t, message) => {
    const c = ctx({ trim: t });
    expect(() => trim(c)).toThrow(PlanError);
    expect(() => trim(c)).toThrow(message);
  });
});

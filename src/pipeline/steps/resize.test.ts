import { describe, expect, it } from 'vitest';
import type { Fit } from '../../core/types.js';
import { defaults, type Gravity, type TransformOptions } from '../../transform/options.js';
import { PlanError, planContext, type PlanContext } from '../plan.js';
import { MAX_OUTPUT_PIXELS, MAX_OUTPUT_SIDE, resize } from './resize.js';

function run(options: Partial<TransformOptions>, width = 200, height = 100): PlanContext {
  const c = planContext(
    { width, height, format: 'png', pages: 1, hasAlpha: false },
    defaults(options),
    'png',
  );
  resize(c);
  return c;
}

const size = (c: PlanContext): [number, number] => [c.width, c.height];

describe('resize step: no size asked', () => {
  it('plans nothing and keeps the working size', () => {
    const c = run({ fit: 'cover' });
    expect(c.plan.resize).toBeUndefined();
    expect(size(c)).toEqual([200, 100]);
  });
});

describe('resize step: output sizes per fit (source 200×100)', () => {
  it.each([
    // [fit, w, h, output]
    ['scale-down', 100, 100, [100, 50]],
    ['scale-down', 400, 400, [200, 100]],
    ['scale-down', 100, undefined, [100, 50]],
    ['scale-down', undefined, 50, [100, 50]],
    ['scale-down', 400, undefined, [200, 100]],
    ['contain', 100, 100, [100, 50]],
    ['contain', 400, 400, [400, 200]],
    ['contain', 400, undefined, [400, 200]],
    ['contain', undefined, 300, [600, 300]],
    ['cover', 100, 100, [100, 100]],
    ['cover', 400, 400, [400, 400]],
    ['cover', 100, undefined, [100, 50]],
    ['cover', undefined, 300, [600, 300]],
    ['crop', 100, 100, [100, 100]],
    ['crop', 150, 150, [150, 100]],
    ['crop', 400, 400, [200, 100]],
    ['crop', 100, undefined, [100, 50]],
    ['crop', 400, undefined, [200, 100]],
    ['pad', 100, 100, [100, 100]],
    ['pad', 400, 400, [400, 400]],
    ['pad', 400, undefined, [400, 200]],
  ] as const)('%s %s×%s → %j', (fit, w, h, want) => {
    const c = run({
      fit: fit as Fit,
      ...(w === undefined ? {} : { width: w }),
      ...(h === undefined ? {} : { height: h }),
    });
    expect(size(c)).toEqual(want);
  });
});

describe('resize step: the sharp call', () => {
  it('scale-down and contain plan a fill to the exact size', () => {
    expect(run({ fit: 'scale-down', width: 100 }).plan.resize).toStrictEqual({
      width: 100,
      height: 50,
      fit: 'fill',
    });
    expect(run({ fit: 'contain', width: 400 }).plan.resize).toStrictEqual({
      width: 400,
      height: 200,
      fit: 'fill',
    });
  });

  it('plans no resize when the size does not change', () => {
    expect(run({ fit: 'scale-down', width: 400, height: 400 }).plan.resize).toBeUndefined();
    expect(run({ fit: 'contain', width: 200 }).plan.resize).toBeUndefined();
    expect(run({ fit: 'crop', width: 400, height: 400 }).plan.resize).toBeUndefined();
    // Only the height differs: still a resize.
    expect(run({ fit: 'contain', width: 200, height: 100 }, 200, 101).plan.resize).toStrictEqual({
      width: 198,
      height: 100,
      fit: 'fill',
    });
  });

  it.each([
    [{ kind: 'side', side: 'center' }, 'centre'],
    [{ kind: 'side', side: 'left' }, 'left'],
    [{ kind: 'side', side: 'right' }, 'right'],
    [{ kind: 'side', side: 'top' }, 'top'],
    [{ kind: 'side', side: 'bottom' }, 'bottom'],
    [{ kind: 'auto' }, 'attention'],
  ] as const)('cover with gravity %j is sharp cover at position %s', (gravity, position) => {
    expect(
      run({ fit: 'cover', width: 100, height: 100, gravity: gravity as Gravity }).plan.resize,
    ).toStrictEqual({ width: 100, height: 100, fit: 'cover', position });
  });

  it('cover with a focal point scales to cover, then extracts around the point', () => {
    const c = run(
      { fit: 'cover', width: 100, height: 100, gravity: { kind: 'point', x: 0.375, y: 0.5 } },
      400,
      100,
    );
    expect(c.plan.resize).toStrictEqual({ width: 400, height: 100, fit: 'fill' });
    expect(c.plan.extractAfter).toStrictEqual({ left: 100, top: 0, width: 100, height: 100 });
    expect(size(c)).toEqual([100, 100]);
  });

  it('the focal-point window is clamped inside the scaled image', () => {
    const left = run(
      { fit: 'cover', width: 100, height: 100, gravity: { kind: 'point', x: 0, y: 0 } },
      400,
      100,
    );
    expect(left.plan.extractAfter).toStrictEqual({ left: 0, top: 0, width: 100, height: 100 });
    const right = run(
      { fit: 'cover', width: 100, height: 100, gravity: { kind: 'point', x: 1, y: 1 } },
      400,
      100,
    );
    expect(right.plan.extractAfter).toStrictEqual({ left: 300, top: 0, width: 100, height: 100 });
    const tall = run(
      { fit: 'cover', width: 100, height: 100, gravity: { kind: 'point', x: 0.5, y: 0.9 } },
      100,
      400,
    );
    expect(tall.plan.extractAfter).toStrictEqual({ left: 0, top: 300, width: 100, height: 100 });
    const mid = run(
      { fit: 'cover', width: 100, height: 100, gravity: { kind: 'point', x: 0.5, y: 0.4 } },
      100,
      400,
    );
    expect(mid.plan.extractAfter).toStrictEqual({ left: 0, top: 110, width: 100, height: 100 });
  });

  it('a focal point with enlargement: the scale is the larger ratio', () => {
    const c = run(
      { fit: 'cover', width: 200, height: 200, gravity: { kind: 'point', x: 0.375, y: 0.5 } },
      400,
      100,
    );
    expect(c.plan.resize).toStrictEqual({ width: 800, height: 200, fit: 'fill' });
    expect(c.plan.extractAfter).toStrictEqual({ left: 200, top: 0, width: 200, height: 200 });
  });

  it('crop larger than the box covers; crop with a box wider than the source crops only the other side', () => {
    expect(run({ fit: 'crop', width: 100, height: 100 }).plan.resize).toStrictEqual({
      width: 100,
      height: 100,
      fit: 'cover',
      position: 'centre',
    });
    expect(
      run({ fit: 'crop', width: 150, height: 150, gravity: { kind: 'side', side: 'right' } }).plan.resize,
    ).toStrictEqual({
      width: 150,
      height: 100,
      fit: 'cover',
      position: 'right',
    });
  });

  it('pad is sharp contain on the exact box with the background, white by default', () => {
    expect(run({ fit: 'pad', width: 100, height: 100 }).plan.resize).toStrictEqual({
      width: 100,
      height: 100,
      fit: 'contain',
      background: { r: 255, g: 255, b: 255, alpha: 1 },
    });
    const bg = { r: 1, g: 2, b: 3, alpha: 0.5 };
    expect(run({ fit: 'pad', width: 100, height: 100, background: bg }).plan.resize).toStrictEqual({
      width: 100,
      height: 100,
      fit: 'contain',
      background: bg,
    });
  });
});

describe('resize step: dpr and rounding', () => {
  it('multiplies both sides by dpr, rounded', () => {
    expect(size(run({ fit: 'cover', width: 50, height: 40, dpr: 2 }))).toEqual([100, 80]);
    expect(size(run({ fit: 'scale-down', width: 33, dpr: 1.5 }))).toEqual([50, 25]);
    expect(size(run({ fit: 'contain', height: 33, dpr: 1.5 }))).toEqual([100, 50]);
  });

  it('never produces a zero side', () => {
    expect(size(run({ fit: 'scale-down', width: 10 }, 1000, 1))).toEqual([10, 1]);
    expect(size(run({ fit: 'scale-down', height: 10 }, 1, 1000))).toEqual([1, 10]);
  });

  it('rounds to the nearest pixel', () => {
    expect(size(run({ fit: 'scale-down', width: 100 }, 300, 200))).toEqual([100, 67]);
    expect(size(run({ fit: 'scale-down', width: 100 }, 300, 196))).toEqual([100, 65]);
  });
});

describe('resize step: output limits', () => {
  it('allows 12000 a side and 100 MP exactly', () => {
    expect(size(run({ fit: 'contain', width: MAX_OUTPUT_SIDE }, 100, 10))).toEqual([12000, 1200]);
    expect(size(run({ fit: 'cover', width: 10000, height: 10000 }, 100, 100))).toEqual([10000, 10000]);
    expect(10000 * 10000).toBe(MAX_OUTPUT_PIXELS);
  });

  it('refuses more, with the sentence', () => {
    expect(() => run({ fit: 'contain', width: 12000, dpr: 2 }, 100, 10)).toThrow(PlanError);
    expect(() => run({ fit: 'contain', width: 12000, dpr: 2 }, 100, 10)).toThrow(
      'Expected at most 12000 px a side and 100000000 pixels for output size but received 24000x2400 of type string',
    );
    expect(() => run({ fit: 'contain', height: 12001 }, 10, 100)).toThrow(PlanError);
    expect(() => run({ fit: 'cover', width: 10001, height: 10000 }, 100, 100)).toThrow(
      'received 10001x10000',
    );
    expect(() => run({ fit: 'pad', width: 11000, height: 11000 })).toThrow(PlanError);
  });
});

describe('resize step: a fill when only one side changes', () => {
  it('plans a resize when only the width changes (201×100 → 200×100)', () => {
    expect(run({ fit: 'scale-down', width: 200 }, 201, 100).plan.resize).toStrictEqual({
      width: 200,
      height: 100,
      fit: 'fill',
    });
  });

  it('plans a resize when only the height changes (100×201 → 100×200)', () => {
    expect(run({ fit: 'scale-down', height: 200 }, 100, 201).plan.resize).toStrictEqual({
      width: 100,
      height: 200,
      fit: 'fill',
    });
  });
});

describe('resize step: transformation-URL fits (source 200×100)', () => {
  it('squeeze stretches to exactly w×h, without keeping the aspect', () => {
    const c = run({ fit: 'squeeze', width: 100, height: 100 });
    expect(c.plan.resize).toStrictEqual({ width: 100, height: 100, fit: 'fill' });
    expect(size(c)).toEqual([100, 100]);
    expect(size(run({ fit: 'squeeze', width: 400, height: 50 }))).toEqual([400, 50]);
  });

  it('squeeze with one side is contain', () => {
    expect(size(run({ fit: 'squeeze', width: 400 }))).toEqual([400, 200]);
  });

  it('aspect-crop with one side is scale-down (never enlarges)', () => {
    expect(size(run({ fit: 'aspect-crop', width: 400 }))).toEqual([200, 100]);
    expect(size(run({ fit: 'aspect-crop', width: 100 }))).toEqual([100, 50]);
  });

  it('aspect-crop inside the source is a cover to w×h, scaled down', () => {
    expect(run({ fit: 'aspect-crop', width: 50, height: 50 }).plan.resize).toStrictEqual({
      width: 50,
      height: 50,
      fit: 'cover',
      position: 'centre',
    });
    expect(size(run({ fit: 'aspect-crop', width: 40, height: 10 }))).toEqual([40, 10]);
  });

  it('aspect-crop with one side of the box equal to the source is a cover to w×h', () => {
    expect(run({ fit: 'aspect-crop', width: 100, height: 100 }).plan.resize).toStrictEqual({
      width: 100,
      height: 100,
      fit: 'cover',
      position: 'centre',
    });
  });

  it('aspect-crop larger than the source cuts it to the box aspect at its own scale', () => {
    // A wider box (4:1): full width, height cut to 50.
    const wide = run({ fit: 'aspect-crop', width: 400, height: 100 });
    expect(wide.plan.resize).toStrictEqual({ width: 200, height: 50, fit: 'cover', position: 'centre' });
    // A taller box (1:4): full height, width cut to 25.
    const tall = run({
      fit: 'aspect-crop',
      width: 100,
      height: 400,
      gravity: { kind: 'side', side: 'left' },
    });
    expect(tall.plan.resize).toStrictEqual({ width: 25, height: 100, fit: 'cover', position: 'left' });
    // The documented example: 612×613 in a 1920×1120 box → 612×357.
    expect(size(run({ fit: 'aspect-crop', width: 1920, height: 1120 }, 612, 613))).toEqual([612, 357]);
    // Box and source taller than wide: 300×600 in a 400×1000 box → 240×600.
    expect(size(run({ fit: 'aspect-crop', width: 400, height: 1000 }, 300, 600))).toEqual([240, 600]);
  });

  it('aspect-crop never cuts a side to zero', () => {
    expect(size(run({ fit: 'aspect-crop', width: 12000, height: 1 }, 10, 10))).toEqual([10, 1]);
    expect(size(run({ fit: 'aspect-crop', width: 1, height: 12000 }, 10, 10))).toEqual([1, 10]);
  });
});

describe('resize step: crop keeping one full side', () => {
  it('crop 200×50 on 200×100 covers (cuts the height), never squashes', () => {
    expect(run({ fit: 'crop', width: 200, height: 50 }).plan.resize).toStrictEqual({
      width: 200,
      height: 50,
      fit: 'cover',
      position: 'centre',
    });
  });
});

describe('resize step: the side limit is inclusive for height too', () => {
  it('allows a height of exactly 12000', () => {
    expect(size(run({ fit: 'contain', height: MAX_OUTPUT_SIDE }, 10, 100))).toEqual([1200, 12000]);
  });
});

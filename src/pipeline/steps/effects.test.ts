import { describe, expect, it } from 'vitest';
import { defaults, type TransformOptions } from '../../transform/options.js';
import { planContext, type PlanContext } from '../plan.js';
import { adjust, blur, blurSigma, gammaParams, sharpen, sharpenParams } from './effects.js';

function ctx(options: Partial<TransformOptions>): PlanContext {
  return planContext(
    { width: 100, height: 80, format: 'png', pages: 1, hasAlpha: false },
    defaults(options),
    'png',
  );
}

describe('blur', () => {
  it('maps the radius onto sigma (radius + 1) / 2', () => {
    expect(blurSigma(1)).toBe(1);
    expect(blurSigma(2)).toBe(1.5);
    expect(blurSigma(50)).toBe(25.5);
    expect(blurSigma(250)).toBe(125.5);
  });

  it('radius 1 is above libvips no-op threshold of sigma 0.5', () => {
    expect(blurSigma(1)).toBeGreaterThan(0.5);
  });

  it('plans the sigma, or nothing without blur', () => {
    const c = ctx({ blur: 9 });
    blur(c);
    expect(c.plan.blur).toBe(5);
    const none = ctx({});
    blur(none);
    expect(none.plan.blur).toBeUndefined();
  });
});

describe('sharpen', () => {
  it('grows the unsharp-mask gains with the strength at a fixed sigma', () => {
    expect(sharpenParams(1)).toStrictEqual({ sigma: 1, m1: 0.5, m2: 1 });
    expect(sharpenParams(10)).toStrictEqual({ sigma: 1, m1: 5, m2: 10 });
  });

  it('plans the parameters, or nothing for 0 and unset', () => {
    const c = ctx({ sharpen: 4 });
    sharpen(c);
    expect(c.plan.sharpen).toStrictEqual({ sigma: 1, m1: 2, m2: 4 });
    for (const o of [{}, { sharpen: 0 }]) {
      const none = ctx(o);
      sharpen(none);
      expect(none.plan.sharpen).toBeUndefined();
    }
  });
});

describe('gamma', () => {
  it('γ ≥ 1 brightens after resizing (gamma(1, γ)); γ < 1 darkens before (gamma(1/γ, 1))', () => {
    expect(gammaParams(2)).toStrictEqual({ in: 1, out: 2 });
    expect(gammaParams(1.5)).toStrictEqual({ in: 1, out: 1.5 });
    expect(gammaParams(1)).toStrictEqual({ in: 1, out: 1 });
    expect(gammaParams(0.5)).toStrictEqual({ in: 2, out: 1 });
    expect(gammaParams(0.8)).toStrictEqual({ in: 1.25, out: 1 });
  });

  it('clamps into sharp’s 1/3..3', () => {
    expect(gammaParams(3)).toStrictEqual({ in: 1, out: 3 });
    expect(gammaParams(10)).toStrictEqual({ in: 1, out: 3 });
    expect(gammaParams(1 / 3)).toStrictEqual({ in: 3, out: 1 });
    expect(gammaParams(0.1)).toStrictEqual({ in: 3, out: 1 });
  });
});

describe('adjust', () => {
  it('plans nothing by default, and nothing for the neutral values', () => {
    for (const o of [{}, { brightness: 1, contrast: 1, gamma: 1, saturation: 1 }, { gamma: 0 }]) {
      const c = ctx(o);
      adjust(c);
      expect([c.plan.modulate, c.plan.linear, c.plan.gamma]).toEqual([undefined, undefined, undefined]);
    }
  });

  it('brightness and saturation go to modulate, alone or together', () => {
    const b = ctx({ brightness: 1.5 });
    adjust(b);
    expect(b.plan.modulate).toStrictEqual({ brightness: 1.5 });
    const s = ctx({ saturation: 0 });
    adjust(s);
    expect(s.plan.modulate).toStrictEqual({ saturation: 0 });
    const both = ctx({ brightness: 0.5, saturation: 2 });
    adjust(both);
    expect(both.plan.modulate).toStrictEqual({ brightness: 0.5, saturation: 2 });
  });

  it('contrast scales about 128: a·in + 128(1 − a)', () => {
    const c = ctx({ contrast: 2 });
    adjust(c);
    expect(c.plan.linear).toStrictEqual({ a: 2, b: -128 });
    const d = ctx({ contrast: 0.5 });
    adjust(d);
    expect(d.plan.linear).toStrictEqual({ a: 0.5, b: 64 });
  });

  it('gamma goes through gammaParams', () => {
    const c = ctx({ gamma: 2 });
    adjust(c);
    expect(c.plan.gamma).toStrictEqual({ in: 1, out: 2 });
  });
});

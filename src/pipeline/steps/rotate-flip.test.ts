import { describe, expect, it } from 'vitest';
import { defaults, type TransformOptions } from '../../transform/options.js';
import { planContext, type PlanContext, type Region } from '../plan.js';
import { asMirrorAndTurn, rotateAndFlip, turnRegion } from './rotate-flip.js';
import { trim } from './trim.js';

function ctx(options: Partial<TransformOptions>, width = 100, height = 80): PlanContext {
  return planContext({ width, height, format: 'png', pages: 1, hasAlpha: false }, defaults(options), 'png');
}

/** Applies a plan's mirror and turn to a point of a W×H image, as sharp does (flip, flop, then turn). */
function mapPoint(c: PlanContext, x: number, y: number, W: number, H: number): [number, number] {
  if (c.plan.flip) y = H - 1 - y;
  if (c.plan.flop) x = W - 1 - x;
  switch (c.plan.rotate ?? 0) {
    case 90:
      return [H - 1 - y, x];
    case 180:
      return [W - 1 - x, H - 1 - y];
    case 270:
      return [y, W - 1 - x];
    default:
      return [x, y];
  }
}

/** Cloudflare's meaning: mirror (h: x, v: y) first, then turn clockwise. */
function cloudflarePoint(
  flip: TransformOptions['flip'],
  rotate: 0 | 90 | 180 | 270,
  x: number,
  y: number,
  W: number,
  H: number,
): [number, number] {
  if (flip === 'h' || flip === 'hv') x = W - 1 - x;
  if (flip === 'v' || flip === 'hv') y = H - 1 - y;
  if (rotate === 90) return [H - 1 - y, x];
  if (rotate === 180) return [W - 1 - x, H - 1 - y];
  if (rotate === 270) return [y, W - 1 - x];
  return [x, y];
}

describe('asMirrorAndTurn', () => {
  it.each([
    [undefined, 0, false, 0],
    [undefined, 90, false, 90],
    ['h', 0, true, 0],
    ['h', 270, true, 270],
    ['v', 0, true, 180],
    ['v', 90, true, 270],
    ['v', 180, true, 0],
    ['hv', 0, false, 180],
    ['hv', 90, false, 270],
    ['hv', 180, false, 0],
    ['hv', 270, false, 90],
  ] as const)('flip=%s rotate=%i → mirror %s, turn %i', (flip, rotate, mirror, turn) => {
    expect(asMirrorAndTurn(flip, rotate)).toStrictEqual({ mirror, turn });
  });
});

describe('turnRegion', () => {
  const r: Region = { left: 10, top: 20, width: 30, height: 40 };
  it.each([
    [0, { left: 10, top: 20, width: 30, height: 40 }],
    [90, { left: 20, top: 10, width: 40, height: 30 }],
    [180, { left: 60, top: 20, width: 30, height: 40 }],
    [270, { left: 20, top: 60, width: 40, height: 30 }],
  ] as const)('a 100×80 image turned %i°', (turn, want) => {
    expect(turnRegion(r, 100, 80, turn)).toStrictEqual(want);
  });
});

describe('rotateAndFlip step', () => {
  it('does nothing without flip or rotate', () => {
    const c = ctx({});
    rotateAndFlip(c);
    expect([c.plan.rotate, c.plan.flip, c.plan.flop]).toEqual([undefined, undefined, undefined]);
    expect([c.width, c.height]).toEqual([100, 80]);
  });

  it('90 and 270 swap the working sides, 180 keeps them', () => {
    for (const [rotate, size] of [
      [90, [80, 100]],
      [180, [100, 80]],
      [270, [80, 100]],
    ] as const) {
      const c = ctx({ rotate });
      rotateAndFlip(c);
      expect(c.plan.rotate).toBe(rotate);
      expect([c.width, c.height]).toEqual(size);
    }
  });

  it('a lone flip=h is a vertical mirror and a half turn (never a zero turn)', () => {
    const c = ctx({ flip: 'h' });
    rotateAndFlip(c);
    expect(c.plan).toMatchObject({ flip: true, rotate: 180 });
    expect(c.plan.flop).toBeUndefined();
  });

  it('flip=hv with rotate=180 changes nothing', () => {
    const c = ctx({ flip: 'hv', rotate: 180 });
    rotateAndFlip(c);
    expect([c.plan.rotate, c.plan.flip, c.plan.flop]).toEqual([undefined, undefined, undefined]);
  });

  const flips = [undefined, 'h', 'v', 'hv'] as const;
  const turns = [0, 90, 180, 270] as const;
  for (const flip of flips) {
    for (const rotate of turns) {
      it(`flip=${flip} rotate=${rotate}: every corner lands where Cloudflare puts it, with a non-zero turn`, () => {
        const c = ctx({ ...(flip ? { flip } : {}), ...(rotate ? { rotate } : {}) });
        rotateAndFlip(c);
        const changes = !(flip === undefined && rotate === 0) && !(flip === 'hv' && rotate === 180);
        if (changes) expect(c.plan.rotate).toBeDefined();
        expect(c.plan.flip && c.plan.flop).toBeFalsy();
        for (const [x, y] of [
          [0, 0],
          [99, 0],
          [0, 79],
          [99, 79],
          [13, 7],
        ] as const) {
          expect(mapPoint(c, x, y, 100, 80)).toEqual(cloudflarePoint(flip, rotate, x, y, 100, 80));
        }
      });

      it(`flip=${flip} rotate=${rotate}: the trim region follows into the turned frame`, () => {
        const c = ctx({
          trim: { top: 20, right: 50, bottom: 20, left: 10 },
          ...(flip ? { flip } : {}),
          ...(rotate ? { rotate } : {}),
        });
        trim(c);
        rotateAndFlip(c);
        const r = c.plan.trim!;
        // The kept corners (10,20) and (49,59), mapped by the plan's ops, are the region's corners.
        const a = mapPoint(c, 10, 20, 100, 80);
        const b = mapPoint(c, 49, 59, 100, 80);
        expect(r.left).toBe(Math.min(a[0], b[0]));
        expect(r.top).toBe(Math.min(a[1], b[1]));
        expect(r.left + r.width - 1).toBe(Math.max(a[0], b[0]));
        expect(r.top + r.height - 1).toBe(Math.max(a[1], b[1]));
        expect([c.width, c.height]).toEqual([40, 40]);
      });
    }
  }

  it('a lone flip=h keeps an off-centre trim at its own rows (200×100, top 20, bottom 50)', () => {
    const c = ctx({ trim: { top: 20, right: 140, bottom: 50, left: 10 }, flip: 'h' }, 200, 100);
    trim(c);
    rotateAndFlip(c);
    // Written as a top-bottom mirror and a half turn: rows come back, columns mirror.
    expect(c.plan.flip).toBe(true);
    expect(c.plan.rotate).toBe(180);
    expect(c.plan.trim).toStrictEqual({ left: 140, top: 20, width: 50, height: 30 });
  });

  it('the trimmed working size swaps with a quarter turn', () => {
    const c = ctx({ trim: { top: 0, right: 0, bottom: 30, left: 40 }, rotate: 90 });
    trim(c);
    rotateAndFlip(c);
    expect([c.width, c.height]).toEqual([50, 60]);
    expect(c.plan.trim).toStrictEqual({ left: 30, top: 40, width: 50, height: 60 });
  });
});

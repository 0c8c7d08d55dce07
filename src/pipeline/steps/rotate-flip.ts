/**
 * Rotate and flip (imgproxy's rotate_and_flip): Cloudflare mirrors first (`flip=h|v|hv`), then turns
 * clockwise (`rotate=90|180|270`), both after trim and before resizing; 90 and 270 swap the sides,
 * so `width` and `height` refer to the axes after rotation.
 *
 * The pair is planned as one element of the square's symmetry group, written for sharp as an optional
 * mirror and a quarter turn that is never 0 when anything changes (a lone horizontal mirror becomes a
 * vertical one plus a half turn). sharp performs its flips and rotation before a pre-resize `extract`
 * only when a rotation is pending (`rotateBefore` in sharp's lib/resize.js), and otherwise after
 * resizing, where a cover crop would already have been taken from the unmirrored image; a non-zero
 * turn makes the order always the same. The trim region, cut in the source's own frame, is then
 * re-expressed in the turned frame, because sharp extracts after turning.
 */
import type { Flip } from '../../transform/options.js';
import type { PlanContext, Region } from '../plan.js';

type Turn = 0 | 90 | 180 | 270;

/** Cloudflare's flip-then-rotate as a horizontal mirror (or not) followed by a clockwise turn. */
export function asMirrorAndTurn(flip: Flip | undefined, rotate: Turn): { mirror: boolean; turn: Turn } {
  // v = h then a half turn; hv = a half turn.
  const mirror = flip === 'h' || flip === 'v';
  const extra = flip === 'v' || flip === 'hv' ? 180 : 0;
  return { mirror, turn: ((rotate + extra) % 360) as Turn };
}

/** A region of a W×H image after mirroring left-right. */
function flopRegion(r: Region, W: number): Region {
  return { ...r, left: W - r.left - r.width };
}

/** A region of a W×H image after mirroring top-bottom. */
function flipRegion(r: Region, H: number): Region {
  return { ...r, top: H - r.top - r.height };
}

/** A region of a W×H image after a clockwise turn. */
export function turnRegion(r: Region, W: number, H: number, turn: Turn): Region {
  switch (turn) {
    case 0:
      return r;
    case 90:
      return { left: H - r.top - r.height, top: r.left, width: r.height, height: r.width };
    case 180:
      return { left: W - r.left - r.width, top: H - r.top - r.height, width: r.width, height: r.height };
    case 270:
      return { left: r.top, top: W - r.left - r.width, width: r.height, height: r.width };
  }
}

export function rotateAndFlip(ctx: PlanContext): void {
  const { flip, rotate } = ctx.options;
  if (!flip && !rotate) return;
  let { mirror, turn } = asMirrorAndTurn(flip, rotate ?? 0);
  let vertical = false;
  if (mirror && turn === 0) {
    // A lone left-right mirror, written as a top-bottom mirror and a half turn (see above).
    mirror = false;
    vertical = true;
    turn = 180;
  }
  if (turn === 0) return; // hv + 180, v + 180 without mirror: nothing changes
  const { width: W, height: H } = ctx.source;
  if (mirror) ctx.plan.flop = true;
  if (vertical) ctx.plan.flip = true;
  ctx.plan.rotate = turn;
  if (ctx.plan.trim) {
    let r = ctx.plan.trim;
    if (mirror) r = flopRegion(r, W);
    if (vertical) r = flipRegion(r, H);
    ctx.plan.trim = turnRegion(r, W, H, turn);
  }
  if (turn === 90 || turn === 270) [ctx.width, ctx.height] = [ctx.height, ctx.width];
}

/**
 * Resize: Cloudflare's five fit modes (digest §5.4), computed as exact output sizes.
 *
 * | fit        | both sides given                                   | one side given            |
 * |------------|----------------------------------------------------|---------------------------|
 * | scale-down | fit inside w×h, never enlarge                       | match it, never enlarge   |
 * | contain    | fit inside w×h, may enlarge                         | match it exactly          |
 * | cover      | exactly w×h, cropped by gravity, may enlarge        | match it exactly          |
 * | crop       | cover when larger, scale-down when smaller          | as scale-down             |
 * | pad        | contain, then pad to exactly w×h with background    | as contain                |
 *
 * Transformation URLs only (digest §5.4):
 * | squeeze    | exactly w×h, stretched (aspect not kept)            | as contain                |
 * | aspect-crop| cut to w:h, then scale down to w×h, never enlarge   | as scale-down             |
 */
import { invalid } from '../../core/check.js';
import { MAX_PIXELS, MAX_SIDE } from '../../core/limits.js';
import type { Gravity, TransformFit } from '../../transform/options.js';
import { PlanError, type PlanContext, type TransformPlan } from '../plan.js';

export const MAX_OUTPUT_SIDE = MAX_SIDE;
export const MAX_OUTPUT_PIXELS = MAX_PIXELS;

const WHITE = { r: 255, g: 255, b: 255, alpha: 1 };

/** Maps Cloudflare gravity onto sharp's cover positions (a data table, reviewable in one place). */
const POSITION: Record<string, NonNullable<TransformPlan['resize']>['position']> = {
  center: 'centre',
  left: 'left',
  right: 'right',
  top: 'top',
  bottom: 'bottom',
};

function scaled(W: number, H: number, s: number): [number, number] {
  return [Math.max(1, Math.round(W * s)), Math.max(1, Math.round(H * s))];
}

/** The scale that fits W×H inside the given sides (one may be missing). */
function insideScale(W: number, H: number, w: number | undefined, h: number | undefined): number {
  const sw = w === undefined ? Infinity : w / W;
  const sh = h === undefined ? Infinity : h / H;
  return Math.min(sw, sh);
}

function coverPlan(ctx: PlanContext, w: number, h: number, gravity: Gravity): void {
  const { width: W, height: H } = ctx;
  if (gravity.kind === 'point') {
    const s = Math.max(w / W, h / H);
    const [sw, sh] = scaled(W, H, s);
    const left = Math.min(Math.max(0, Math.round(gravity.x * sw - w / 2)), sw - w);
    const top = Math.min(Math.max(0, Math.round(gravity.y * sh - h / 2)), sh - h);
    ctx.plan.resize = { width: sw, height: sh, fit: 'fill' };
    ctx.plan.extractAfter = {
      left: Math.max(0, left),
      top: Math.max(0, top),
      width: Math.min(w, sw),
      height: Math.min(h, sh),
    };
  } else {
    ctx.plan.resize = {
      width: w,
      height: h,
      fit: 'cover',
      position: gravity.kind === 'auto' ? 'attention' : POSITION[gravity.side],
    };
  }
  ctx.width = w;
  ctx.height = h;
}

function fillTo(ctx: PlanContext, w: number, h: number): void {
  if (w !== ctx.width || h !== ctx.height) ctx.plan.resize = { width: w, height: h, fit: 'fill' };
  ctx.width = w;
  ctx.height = h;
}

/** Output size for a fit, without planning (for docs and tests). */
export function resize(ctx: PlanContext): void {
  const dpr = ctx.options.dpr;
  const w = ctx.options.width === undefined ? undefined : Math.round(ctx.options.width * dpr);
  const h = ctx.options.height === undefined ? undefined : Math.round(ctx.options.height * dpr);
  if (w === undefined && h === undefined) return;
  const { width: W, height: H } = ctx;
  const both = w !== undefined && h !== undefined;
  const fit: TransformFit = ctx.options.fit;
  if (fit === 'scale-down' || ((fit === 'crop' || fit === 'aspect-crop') && !both)) {
    const [ow, oh] = scaled(W, H, Math.min(1, insideScale(W, H, w, h)));
    fillTo(ctx, ow, oh);
  } else if (fit === 'contain' || !both) {
    const [ow, oh] = scaled(W, H, insideScale(W, H, w, h));
    fillTo(ctx, ow, oh);
  } else if (fit === 'cover') {
    coverPlan(ctx, w!, h!, ctx.options.gravity);
  } else if (fit === 'squeeze') {
    fillTo(ctx, w!, h!);
  } else if (fit === 'aspect-crop') {
    if (Math.max(w! / W, h! / H) <= 1) coverPlan(ctx, w!, h!, ctx.options.gravity);
    else {
      // Smaller than the box: keep the scale, cut the source to the box's aspect ratio (612×613 at 1920×1120 → 612×357).
      const r = w! / h!;
      const [cw, ch] = W / H > r ? [Math.max(1, Math.round(H * r)), H] : [W, Math.max(1, Math.round(W / r))];
      coverPlan(ctx, cw, ch, ctx.options.gravity);
    }
  } else if (fit === 'crop') {
    const [rw, rh] = scaled(W, H, Math.min(1, Math.max(w! / W, h! / H)));
    const [ow, oh] = [Math.min(w!, rw), Math.min(h!, rh)];
    if (ow === W && oh === H) fillTo(ctx, ow, oh);
    else coverPlan(ctx, ow, oh, ctx.options.gravity);
  } else {
    // pad
    ctx.plan.resize = { width: w!, height: h!, fit: 'contain', background: ctx.options.background ?? WHITE };
    ctx.width = w!;
    ctx.height = h!;
  }
  if (
    ctx.width > MAX_OUTPUT_SIDE ||
    ctx.height > MAX_OUTPUT_SIDE ||
    ctx.width * ctx.height > MAX_OUTPUT_PIXELS
  ) {
    throw new PlanError(
      invalid(
        'output size',
        `at most ${MAX_OUTPUT_SIDE} px a side and ${MAX_OUTPUT_PIXELS} pixels`,
        `${ctx.width}x${ctx.height}`,
      ),
    );
  }
}

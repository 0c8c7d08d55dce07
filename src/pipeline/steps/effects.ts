/** Blur, sharpen and the tone adjustments (brightness, contrast, gamma), as plan numbers. */
import type { PlanContext } from '../plan.js';

export function blur(ctx: PlanContext): void {
  const b = ctx.options.blur;
  if (!b) return;
  // Cloudflare's blur radius 1..250 maps onto a Gaussian sigma of radius / 2 (sharp needs sigma ≥ 0.3).
  ctx.plan.blur = Math.max(0.3, b / 2);
}

export function sharpen(ctx: PlanContext): void {
  const s = ctx.options.sharpen;
  if (!s) return;
  // Cloudflare's 0..10 scale onto sharp's sigma: 1 is a light touch, 10 a strong one.
  ctx.plan.sharpen = 0.5 + s * 0.25;
}

export function adjust(ctx: PlanContext): void {
  const { brightness, contrast, gamma } = ctx.options;
  if (brightness !== undefined && brightness !== 1) ctx.plan.modulate = { brightness };
  if (contrast !== undefined && contrast !== 1) ctx.plan.linear = { a: contrast, b: 128 * (1 - contrast) };
  // sharp's gamma() takes 1..3; Cloudflare's factor > 1 brightens midtones, so it maps onto 1/gamma.
  if (gamma !== undefined && gamma !== 0 && gamma !== 1) ctx.plan.gamma = Math.min(3, Math.max(1, gamma));
}

/**
 * Blur, sharpen and the tone adjustments (brightness, contrast, gamma, saturation), as plan numbers.
 * Cloudflare documents each as a factor where 1 changes nothing (digest §5.3); the mapping onto
 * sharp's operations is recorded in docs/compat.md.
 */
import type { PlanContext } from '../plan.js';

/**
 * Cloudflare's blur radius 1..250 ("1: slight blur") as a Gaussian sigma of (radius + 1) / 2. libvips
 * leaves an image unchanged for sigma ≤ 0.5 (its mask rounds to one pixel), so radius / 2 would make
 * blur=1 a no-op; radius 1 → sigma 1 is a slight blur and sigma grows with the radius.
 */
export function blurSigma(radius: number): number {
  return (radius + 1) / 2;
}

export function blur(ctx: PlanContext): void {
  const b = ctx.options.blur;
  if (!b) return;
  ctx.plan.blur = blurSigma(b);
}

/**
 * Cloudflare's sharpen strength 0..10 ("1 is recommended for downscaled images") as sharp's unsharp
 * mask with a fixed 1 px sigma whose gains grow with the strength: m2 (jagged areas) = strength,
 * m1 (flat areas) = strength / 2, so noise in flat areas is amplified half as much as edges.
 */
export function sharpenParams(strength: number): { sigma: number; m1: number; m2: number } {
  return { sigma: 1, m1: strength / 2, m2: strength };
}

export function sharpen(ctx: PlanContext): void {
  const s = ctx.options.sharpen;
  if (!s) return;
  ctx.plan.sharpen = sharpenParams(s);
}

/** sharp's gamma() accepts exponents 1..3 only. */
const GAMMA_MIN = 1 / 3;
const GAMMA_MAX = 3;

/**
 * Cloudflare's gamma γ brightens for γ > 1 ("2.0 lightens", "0.5 darkens"): out = in^(1/γ) on values
 * 0..1. sharp's gamma(g, gOut) raises to g before resizing and to 1/gOut after, so γ ≥ 1 is
 * gamma(1, γ) and γ < 1 is gamma(1/γ, 1); γ is clamped into sharp's 1/3..3.
 */
export function gammaParams(gamma: number): { in: number; out: number } {
  const g = Math.min(GAMMA_MAX, Math.max(GAMMA_MIN, gamma));
  return g >= 1 ? { in: 1, out: g } : { in: 1 / g, out: 1 };
}

export function adjust(ctx: PlanContext): void {
  const { brightness, contrast, gamma, saturation } = ctx.options;
  const modulate: { brightness?: number; saturation?: number } = {};
  if (brightness !== undefined && brightness !== 1) modulate.brightness = brightness;
  if (saturation !== undefined && saturation !== 1) modulate.saturation = saturation;
  if (Object.keys(modulate).length) ctx.plan.modulate = modulate;
  if (contrast !== undefined && contrast !== 1) ctx.plan.linear = { a: contrast, b: 128 * (1 - contrast) };
  if (gamma !== undefined && gamma !== 0 && gamma !== 1) ctx.plan.gamma = gammaParams(gamma);
}

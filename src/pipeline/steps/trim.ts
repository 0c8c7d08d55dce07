/**
 * Trim: cut pixels from each side of the oriented source before anything else (Cloudflare: "before
 * resizing or rotation"). `trim.width`/`trim.height` give the kept size from `trim.left`/`trim.top`.
 */
import { invalid } from '../../core/check.js';
import { PlanError, type PlanContext } from '../plan.js';

export function trim(ctx: PlanContext): void {
  const t = ctx.options.trim;
  if (!t) return;
  const width = t.width ?? ctx.width - t.left - t.right;
  const height = t.height ?? ctx.height - t.top - t.bottom;
  if (width < 1 || height < 1 || t.left + width > ctx.width || t.top + height > ctx.height) {
    const asked = `${t.top};${t.right};${t.bottom};${t.left}${t.width !== undefined ? ` width ${t.width}` : ''}${t.height !== undefined ? ` height ${t.height}` : ''}`;
    throw new PlanError(invalid('trim', `a region inside the image size ${ctx.width}x${ctx.height}`, asked));
  }
  ctx.plan.trim = { left: t.left, top: t.top, width, height };
  ctx.width = width;
  ctx.height = height;
}

/** Trim: cut pixels from each side of the oriented source before resizing. */
import { invalid } from '../../core/check.js';
import { PlanError, type PlanContext } from '../plan.js';

export function trim(ctx: PlanContext): void {
  const t = ctx.options.trim;
  if (!t) return;
  const width = ctx.width - t.left - t.right;
  const height = ctx.height - t.top - t.bottom;
  if (width < 1 || height < 1) {
    throw new PlanError(invalid('trim', `less than the image size ${ctx.width}x${ctx.height}`, `${t.top};${t.right};${t.bottom};${t.left}`));
  }
  ctx.plan.trim = { left: t.left, top: t.top, width, height };
  ctx.width = width;
  ctx.height = height;
}

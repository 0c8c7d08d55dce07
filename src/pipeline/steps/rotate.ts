/** Rotate: a clockwise quarter turn after orientation and trim; 90 and 270 swap the sides. */
import type { PlanContext } from '../plan.js';

export function rotate(ctx: PlanContext): void {
  const r = ctx.options.rotate;
  if (!r) return;
  ctx.plan.rotate = r;
  if (r === 90 || r === 270) [ctx.width, ctx.height] = [ctx.height, ctx.width];
}
